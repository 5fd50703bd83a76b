import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { defineConfig } from "vitest/config";

// Every workspace folder with a package.json is a project named after its package. Projects given as
// globs would not inherit the options below, so each is spelled out with `extends: true`. Paths are
// from this file, so a package's `test` script (`vitest run --config ../../vitest.config.ts
// --project <its name>`) runs from its own folder.
const root = import.meta.dirname;
// The test line (package.json `test`) runs vitest twice. TOOLSHED_TEST_FILES=parallel: the packages' and
// servers' files, at least two at a time (they mostly wait on their servers, pipes and sockets: vitest's
// default of one worker per core but one left a 2-core machine half idle). TOOLSHED_TEST_FILES=serial:
// bench and deploy, one file at a time (benchmarks whose ratios a file beside them would skew, and
// whole image builds). Unset: every project, at vitest's default.
const SERIAL = ["bench", "deploy"];
const group = process.env.TOOLSHED_TEST_FILES;
if (group !== undefined && group !== "parallel" && group !== "serial") {
  throw new Error(
    `TOOLSHED_TEST_FILES is '${group}': set it to parallel or serial, or unset it for every project`,
  );
}
const maxWorkers =
  group === "serial" ? 1 : group === "parallel" ? Math.max(2, availableParallelism() - 1) : undefined;
const folders = [
  ...["packages", "servers"].flatMap((parent) =>
    readdirSync(join(root, parent)).map((d) => `${parent}/${d}`),
  ),
  "bench",
  "deploy",
  "turbo/generators",
]
  .map((dir) => join(root, dir))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .filter((dir) => group === undefined || SERIAL.includes(relative(root, dir)) === (group === "serial"));

export default defineConfig({
  test: {
    projects: folders.map((dir) => ({
      extends: true,
      test: {
        name: (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string }).name,
        root: dir,
        // deploy/test/docker.test.ts builds each server's image steps concurrently, two at a time.
        ...(dir.endsWith("/deploy") ? { maxConcurrency: 2 } : {}),
      },
    })),
    ...(maxWorkers ? { maxWorkers } : {}),
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
