import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { runClientMatrix } from "@toolshed/testing/contract";
import { afterAll } from "vitest";
import { tempDataDir } from "./helpers.js";

// The HTTP process runs beside the stdio ones, so each has its own data dir (and DuckDB file).
const stdioData = tempDataDir();
const httpData = tempDataDir();
afterAll(() => {
  stdioData.cleanup();
  httpData.cleanup();
});
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");

runClientMatrix("data-analytics", () => ({
  command: process.execPath,
  args: [bin, "--data-dir", stdioData.dir],
  httpArgs: [bin, "--data-dir", httpData.dir],
  call: { name: "list_datasets", arguments: {} },
}));
