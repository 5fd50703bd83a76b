import { realpathSync } from "node:fs";
import * as path from "node:path";
import { ToolshedError } from "@toolshed/server";

/**
 * Resolves a user path against the allowed roots (relative paths against the first one), follows
 * symlinks, and refuses anything whose real location is outside every root.
 */
export function resolveInsideRoots(userPath: string, roots: string[]): string {
  const base = roots[0]!;
  const candidate = path.resolve(base, userPath);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new ToolshedError("not_found", `file '${userPath}' not found under the allowed roots`);
  }
  const inside = roots.some(
    (root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep),
  );
  if (!inside) {
    throw new ToolshedError(
      "forbidden",
      `path '${userPath}' is outside the allowed roots; put the file under the data dir or start the server with --allow-dir`,
    );
  }
  return real;
}
