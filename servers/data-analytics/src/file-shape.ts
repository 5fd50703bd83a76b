import { closeSync, openSync, readSync } from "node:fs";
import type { ShapeReport } from "./worker-tasks.js";

/**
 * Scans a file once, in 1 MiB chunks, for the shapes that wedge or exhaust a reader before it
 * reports anything: JSON nested deeper than `maxDepth` (brackets inside strings do not count), and
 * lines longer than `maxLineBytes`. Stops at the first limit passed. Runs on the worker thread.
 */
export function scanFileShape(
  file: string,
  json: boolean,
  maxDepth: number,
  maxLineBytes: number,
): ShapeReport {
  const fd = openSync(file, "r");
  const buf = Buffer.allocUnsafe(1 << 20);
  let depth = 0;
  let deepest = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let lineBytes = 0;
  let longest = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const c = buf[i]!;
        if (c === 10 /* \n */) {
          if (lineBytes > longest) longest = lineBytes;
          lineBytes = 0;
          line++;
          continue;
        }
        if (++lineBytes > maxLineBytes) {
          return { depth: deepest, longestLine: lineBytes, line, exceeded: "line" };
        }
        if (!json) continue;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92 /* \ */) escaped = true;
          else if (c === 34 /* " */) inString = false;
        } else if (c === 34) {
          inString = true;
        } else if (c === 91 /* [ */ || c === 123 /* { */) {
          if (++depth > deepest) {
            deepest = depth;
            if (deepest > maxDepth) return { depth: deepest, longestLine: longest, line, exceeded: "depth" };
          }
        } else if (c === 93 /* ] */ || c === 125 /* } */) {
          depth--;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return { depth: deepest, longestLine: Math.max(longest, lineBytes) };
}
