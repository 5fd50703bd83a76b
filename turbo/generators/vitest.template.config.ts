import { defineConfig } from "vitest/config";

// `pnpm test:template` only: the end-to-end check of the template in a throw-away copy of the workspace.
// Kept out of the root `vitest run` (its default include skips *.e2e.ts) so it never competes with the
// rest of the suite for the CPU; the root `test` script runs it on its own, after the main run.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["test/template.e2e.ts"],
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
