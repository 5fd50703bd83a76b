import { format } from "prettier";
import { runContractTests } from "@toolshed/testing/contract";
import { createTestClient } from "@toolshed/testing";
import { afterAll, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { tempDataDir } from "./helpers.js";

const data = tempDataDir();
const config = configSchema.parse({ dataDir: data.dir });
afterAll(() => data.cleanup());

runContractTests(server, {
  tools: [
    "list_datasets",
    "register_dataset",
    "load_inline_dataset",
    "describe_dataset",
    "query",
    "analyze",
    "correlate",
    "transform",
    "export_dataset",
    "chart",
    "validate_json",
  ],
  resources: ["dataset_schema", "sample_dataset"],
  prompts: ["data_analysis_workflow"],
  config,
});

it("keeps tool names, descriptions and schemas stable (snapshot)", async () => {
  const t = await createTestClient(server, { config });
  try {
    const { tools } = await t.client.listTools();
    // Formatted as Prettier would, so `prettier --check` and the snapshot agree.
    const text = await format(JSON.stringify(tools), { parser: "json", printWidth: 110 });
    await expect(text).toMatchFileSnapshot("__snapshots__/tools.json");
  } finally {
    await t.close();
  }
});
