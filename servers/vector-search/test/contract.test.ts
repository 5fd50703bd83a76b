import { expectToolsSnapshot, runContractTests } from "@toolshed/testing/contract";
import { afterAll, it, vi } from "vitest";
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
    "build_index",
    "upsert_documents",
    "get_documents",
    "delete_documents",
    "search",
    "embed_text",
  ],
  resources: ["collection"],
  config,
});

it("keeps tool names, descriptions and schemas stable (snapshot)", () =>
  expectToolsSnapshot(server, { config }));
