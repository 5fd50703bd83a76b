// Large APIs: GitHub's whole description (@octokit/openapi, from npm: 706 operations) becomes a server
// that starts in search mode (more than 40 tools), so tools/list shows three tools. The search must
// put the right operation in the top 3 for most realistic requests, and search → describe → call
// must reach a loopback upstream with the right request.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { startTestHttpServer, type TestHttpServer } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generate } from "../src/generate.js";
import { tempServerDir } from "./helpers.js";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 600_000 });

const require = createRequire(import.meta.url);
const GITHUB = join(
  dirname(require.resolve("@octokit/openapi/package.json")),
  "generated/api.github.com.json",
);
const ISSUE = (require(GITHUB) as { components: { examples: Record<string, { value: unknown }> } }).components
  .examples["issue"]!.value as Record<string, unknown>;

/** What a person asks for, and the operation that does it (shared with `pnpm bench:openapi`). */
const GITHUB_TASKS = (
  require("./fixtures/github-tasks.json") as { tasks: { query: string; tool: string }[] }
).tasks.map(({ query, tool }) => [query, tool] as const);

interface Recorded {
  method: string;
  path: string;
  body: string;
}

let upstream: Server;
let base: string;
const requests: Recorded[] = [];
beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (d: string) => (body += d));
    req.on("end", () => {
      requests.push({ method: req.method!, path: req.url!, body });
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(ISSUE));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

type Data = Record<string, unknown>;
const data = (r: unknown) => (r as { structuredContent: Data }).structuredContent;

describe("GitHub's whole description in search mode", () => {
  const tmp = tempServerDir("dynamic-gh");
  let srv: TestHttpServer;
  let operations = 0;
  beforeAll(async () => {
    const result = await generate({ document: GITHUB, outDir: tmp.dir, name: "gh" });
    operations = result.operations.length;
    const mod = (await import(join(tmp.dir, "src/server.ts"))) as {
      default: Parameters<typeof startTestHttpServer>[0];
      settingsSchema: { parse(v: unknown): unknown };
    };
    srv = await startTestHttpServer(
      mod.default,
      {},
      { config: mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true }) },
    );
  });
  afterAll(async () => {
    await srv?.close(1_000);
    tmp.cleanup();
  });

  it("generates every operation, past the old 200-tool cap, and lists three tools", async () => {
    expect(operations).toBeGreaterThan(200);
    const client = await srv.connect();
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["call_tool", "describe_tool", "search_tools"]);
      process.stderr.write(
        `[dynamic] tools/list in search mode: ${JSON.stringify(tools).length} bytes for ${operations} operations\n`,
      );
    } finally {
      await client.close();
    }
  });

  it("puts the right operation in the top 3 for most realistic requests", async () => {
    const client = await srv.connect();
    const misses: string[] = [];
    try {
      for (const [query, tool] of GITHUB_TASKS) {
        const found = data(await client.callTool({ name: "search_tools", arguments: { query, limit: 3 } }));
        const names = (found.results as { name: string }[]).map((r) => r.name);
        if (!names.includes(tool)) misses.push(`'${query}': wanted ${tool}, got ${names.join(", ")}`);
      }
    } finally {
      await client.close();
    }
    const ratio = (GITHUB_TASKS.length - misses.length) / GITHUB_TASKS.length;
    process.stderr.write(
      `[dynamic] top-3 ratio over ${GITHUB_TASKS.length} GitHub requests: ${ratio.toFixed(2)}\n` +
        misses.map((m) => `  missed ${m}\n`).join(""),
    );
    expect(GITHUB_TASKS.length).toBeGreaterThanOrEqual(15);
    expect(ratio, misses.join("\n")).toBeGreaterThanOrEqual(0.8);
  });

  it("searches, describes and calls an operation, reaching the upstream with the right request (2026-07-28)", async () => {
    const client = await srv.connect({}, undefined, "modern");
    try {
      const found = data(
        await client.callTool({ name: "search_tools", arguments: { query: "open a new issue", limit: 3 } }),
      );
      const name = (found.results as { name: string }[])[0]!.name;
      expect(name).toBe("issues_create");
      const described = data(await client.callTool({ name: "describe_tool", arguments: { name } }));
      const input = described.inputSchema as { properties: Data; required: string[] };
      expect(input.required).toEqual(expect.arrayContaining(["owner", "repo"]));
      expect(Object.keys(input.properties)).toEqual(expect.arrayContaining(["title", "body", "labels"]));

      requests.length = 0;
      const r = await client.callTool({
        name: "call_tool",
        arguments: {
          name,
          arguments: {
            owner: "octo",
            repo: "hello",
            title: "Broken build",
            body: "CI is red",
            labels: ["bug"],
          },
        },
      });
      expect((r as { isError?: boolean }).isError, JSON.stringify(r)).toBeFalsy();
      expect(data(r).number).toBe(ISSUE.number);
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ method: "POST", path: "/repos/octo/hello/issues" });
      expect(JSON.parse(requests[0]!.body)).toEqual({
        title: "Broken build",
        body: "CI is red",
        labels: ["bug"],
      });

      // The tool's own validation applies through call_tool.
      requests.length = 0;
      const bad = await client.callTool({
        name: "call_tool",
        arguments: { name, arguments: { owner: "octo" } },
      });
      expect((bad as { isError?: boolean }).isError).toBe(true);
      expect(JSON.stringify(bad)).toMatch(/invalid arguments for tool 'issues_create'/);
      expect(requests).toHaveLength(0);
    } finally {
      await client.close();
    }
  });
});
