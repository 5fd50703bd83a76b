import { defineConfig } from "vitest/config";

// One root config; each workspace folder is a project and inherits these defaults.
export default defineConfig({
  test: {
    // Every workspace folder is a project; files beside them (READMEs) are not.
    projects: ["packages/*", "servers/*", "!servers/*.md", "bench", "deploy", "turbo/generators"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
