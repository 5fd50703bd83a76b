import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Every workspace folder with a package.json is a project named after its package. Projects given as
// globs would not inherit the options below, so each is spelled out with `extends: true`. Paths are
// from this file, so a package's `test` script (`vitest run --config ../../vitest.config.ts
// --project <its name>`) runs from its own folder.
const root = import.meta.dirname;
const folders = [
  ...["packages", "servers"].flatMap((parent) =>
    readdirSync(join(root, parent)).map((d) => `${parent}/${d}`),
  ),
  "bench",
  "deploy",
  "turbo/generators",
]
  .map((dir) => join(root, dir))
  .filter((dir) => existsSync(join(dir, "package.json")));

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
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
