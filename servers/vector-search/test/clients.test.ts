import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { runClientMatrix } from "@toolshed/testing/contract";
import { afterAll, vi } from "vitest";
import { tempDir } from "./backends.js";

vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

// The HTTP process runs beside the stdio ones, so each has its own data dir.
const stdioData = tempDir();
const httpData = tempDir();
afterAll(() => {
  stdioData.cleanup();
  httpData.cleanup();
});
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");

runClientMatrix("vector-search", () => ({
  command: process.execPath,
  args: [bin, "--data-dir", stdioData.dir],
  httpArgs: [bin, "--data-dir", httpData.dir],
  call: { name: "list_collections", arguments: {} },
}));
