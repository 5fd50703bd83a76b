// The sequence "create the SDK server → connect a transport → instrument the transport" is written
// once, in src/connection.ts (connect and kitServerFactory); every other site (stdio, the 2025 and
// 2026-07-28 HTTP lanes, shared sessions, @toolshed/testing's in-process client) calls it, so a
// request cannot reach a kit server without being timed, counted, traced and logged.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

const HAND_WRITTEN = [
  /\bnew McpServer\(/,
  /\bcreateMcpServer\(/,
  /\binstrumentTransport\(/,
  /\bmcp\.connect\(/,
];

describe("one connect", () => {
  it("is the only place that builds, connects and instruments a kit server", () => {
    const files = [
      ...sources(join(root, "packages/server/src")),
      ...sources(join(root, "packages/testing/src")),
    ].filter((path) => !path.endsWith(join("packages", "server", "src", "connection.ts")));
    const found = files.flatMap((path) => {
      const text = readFileSync(path, "utf8");
      return HAND_WRITTEN.filter((re) => re.test(text)).map((re) => `${relative(root, path)}: ${re.source}`);
    });
    expect(found).toEqual([]);
  });
});
