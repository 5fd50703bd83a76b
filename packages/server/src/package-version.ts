import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const versions = new Map<string, string>();

/**
 * The `version` of the nearest package.json above a module: in a server's `src/server.ts`,
 * `version: packageVersion(import.meta.url)` is the server's own version (from `dist/server.js` at
 * run time too). Read once per directory; a missing file, a nearest package.json without a version,
 * or a URL that is not a file is a clear error at start-up.
 */
export function packageVersion(moduleUrl: string | URL): string {
  let start: string;
  try {
    start = dirname(fileURLToPath(moduleUrl));
  } catch {
    throw new Error(`packageVersion: expected a file: URL (pass import.meta.url), got ${String(moduleUrl)}`);
  }
  const known = versions.get(start);
  if (known !== undefined) return known;
  for (let dir = start; ;) {
    const file = join(dir, "package.json");
    const text = readIfExists(file);
    if (text !== undefined) {
      const version = (JSON.parse(text) as { version?: unknown }).version;
      if (typeof version !== "string" || version === "") {
        throw new Error(`packageVersion: ${file} has no "version"; add one`);
      }
      versions.set(start, version);
      return version;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`packageVersion: no package.json above ${start}`);
    dir = parent;
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
