import { expectToolsSnapshot, runContractTests } from "@toolshed/testing/contract";
import { afterAll, it } from "vitest";
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
    "explain",
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

it("keeps tool names, descriptions and schemas stable (snapshot)", () =>
  expectToolsSnapshot(server, { config }));
