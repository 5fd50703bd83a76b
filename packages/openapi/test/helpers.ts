import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

export const fixtures = join(import.meta.dirname, "fixtures");

/**
 * A temp folder inside this package, so generated code resolves @toolshed/server, zod and
 * @toolshed/http-client through this package's node_modules (and eslint finds the root config).
 */
export function tempServerDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(import.meta.dirname, "..", `.tmp-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
