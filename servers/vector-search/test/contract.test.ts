import { format } from "prettier";
import { runContractTests } from "@toolshed/testing/contract";
import { createTestClient } from "@toolshed/testing";
import { afterAll, expect, it, vi } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { tempDir } from "./backends.js";

// PGlite starts in seconds, slower on a busy machine; the offline model loads on first use.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const data = tempDir();
const config = configSchema.parse({ dataDir: data.dir });
afterAll(() => data.cleanup());

runContractTests(server, {
  tools: [
    "list_collections",
    "create_collection",
    "collection_info",
    "delete_collection",
    "upsert_documents",
    "get_documents",
    "delete_documents",
    "search",
    "embed_text",
  ],
  resources: ["collection"],
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
