import { join } from "node:path";
import { runClientMatrix } from "@toolshed/testing/contract";
import { afterAll, beforeAll, vi } from "vitest";
import { startUpstream, TOKEN } from "./helpers.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
let upstream: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(() => upstream?.close());

runClientMatrix("example-api", () => ({
  command: process.execPath,
  args: [bin],
  env: { EXAMPLE_API_BASE_URL: upstream.url, EXAMPLE_API_BEARER_TOKEN: TOKEN },
  call: { name: "search_resources", arguments: { query: "anything" } },
}));
