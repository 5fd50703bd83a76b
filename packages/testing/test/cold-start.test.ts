import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { spawnStdioServer, startServerProcess } from "../src/index.js";

// What a server loads depends on the modes it runs in: the HTTP stack, JWT verification (jose) and
// search mode's index (minisearch) are loaded only by servers that use them (issue #19, cold start).

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

/** Loaded only when their mode is configured. */
const MODE_ONLY = ["jose", "minisearch", "hono", "@hono/node-server", "@modelcontextprotocol/node"];

// A preload for the server process: every ES module it loads (a module hook) and every CommonJS one
// (require's cache, at exit) is appended to the file named by TOOLSHED_TEST_MODULE_LOG.
const HOOKS = `
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.TOOLSHED_TEST_MODULE_LOG, url + "\\n");
  return next(url, context);
}`;
const PRELOAD = `
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});
const { cache } = createRequire("/");
process.on("exit", () => appendFileSync(process.env.TOOLSHED_TEST_MODULE_LOG, Object.keys(cache).join("\\n") + "\\n"));
`;
const NODE_OPTIONS =
  `${process.env.NODE_OPTIONS ?? ""} --import=data:text/javascript,${encodeURIComponent(PRELOAD)}`.trim();

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function moduleLog(): Promise<{ env: Record<string, string>; loaded: () => Promise<string[]> }> {
  dir = await mkdtemp(join(tmpdir(), "toolshed-cold-start-"));
  const file = join(dir, "modules.log");
  return {
    env: { NODE_OPTIONS, TOOLSHED_TEST_MODULE_LOG: file },
    // The packages loaded, by the name under node_modules (pnpm's store path or a plain one).
    loaded: async () => {
      const packages = new Set<string>();
      for (const line of (await readFile(file, "utf8")).split("\n")) {
        const m = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
        if (m) packages.add(m[1]!);
      }
      return [...packages].sort();
    },
  };
}

describe("cold start: what a server loads", () => {
  it("a stdio server with the default configuration loads neither the HTTP stack, jose nor minisearch", async () => {
    const log = await moduleLog();
    const server = await spawnStdioServer(process.execPath, [BIN], { env: log.env });
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name)).toContain("echo");
    await server.client.callTool({ name: "echo", arguments: { message: "hi" } });
    expect(await server.close()).toBe(0);
    const loaded = await log.loaded();
    // The log sees both ES modules and CommonJS ones (prom-client is required).
    expect(loaded).toEqual(expect.arrayContaining(["@modelcontextprotocol/server", "zod", "prom-client"]));
    expect(loaded.filter((name) => MODE_ONLY.includes(name))).toEqual([]);
  });

  it("search mode loads minisearch on the first search, still without jose or the HTTP stack", async () => {
    const log = await moduleLog();
    const server = await spawnStdioServer(process.execPath, [BIN, "--tool-mode", "search"], { env: log.env });
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name)).toContain("search_tools");
    const found = await server.client.callTool({ name: "search_tools", arguments: { query: "echo" } });
    expect(JSON.stringify(found.content)).toContain("echo");
    expect(await server.close()).toBe(0);
    const loaded = await log.loaded();
    expect(loaded.filter((name) => MODE_ONLY.includes(name))).toEqual(["minisearch"]);
  });

  it("an HTTP server with JWT auth loads jose and the HTTP stack when it starts", async () => {
    const log = await moduleLog();
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const server = await startServerProcess(BIN, {
      env: {
        ...log.env,
        TOOLSHED_JWT_ISSUER: "https://issuer.test",
        TOOLSHED_JWT_AUDIENCE: "everything",
        TOOLSHED_JWT_PUBLIC_KEY: publicKey.export({ type: "spki", format: "pem" }).toString(),
      },
    });
    await server.stop();
    const loaded = await log.loaded();
    expect(loaded).toEqual(expect.arrayContaining(["jose", "hono", "@modelcontextprotocol/node"]));
    expect(loaded).not.toContain("minisearch");
  });
});
