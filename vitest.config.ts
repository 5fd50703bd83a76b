import { defineConfig } from "vitest/config";

// One root config; each workspace folder is a project and inherits these defaults.
export default defineConfig({
  test: {
    projects: ["packages/*", "servers/*", "bench"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
