// The gateway's cache of read-only answers (`cache: { ttlSeconds, maxEntries, shared }` on an
// upstream): a read-only tool's answer is served again for the same caller, tool and arguments
// until it expires, without reaching the upstream or its rate limit; writes, failures and answers
// the caller was asked something for are never kept; callers do not share answers unless `shared`.
// Real HTTP on loopback: clients of both eras with API keys -> the gateway -> a recording upstream.
import { defineServer, type Asking } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseGatewayFile } from "../src/config.js";
import { startGatewayOver, textOf, type GatewayOver, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const KEYS = {
  ann: { key: "tsk_cache_ann_0123456789abcdef", scopes: "*" },
  bob: { key: "tsk_cache_bob_0123456789abcdef", scopes: "*" },
};

/** Each tools/call the upstream received, as "name args". */
const received: string[] = [];
let answers = 0;

const WORD = {
  type: "object" as const,
  properties: { word: { type: "string" as const } },
  required: ["word"],
};

const readOnly = { readOnlyHint: true };
const upstream = defineServer({
  name: "stars",
  version: "0.0.0",
  tools: [],
  forward: {
    listTools: () => [
      { name: "count_stars", inputSchema: { type: "object" }, annotations: readOnly },
      { name: "star_repo", inputSchema: { type: "object" } },
      { name: "flaky_read", inputSchema: { type: "object" }, annotations: readOnly },
      { name: "ask_read", inputSchema: { type: "object" }, annotations: readOnly },
    ],
    async callTool(_deps, name, args, ctx) {
      received.push(`${name} ${JSON.stringify(args)}`);
      const n = ++answers;
      if (name === "flaky_read" && received.filter((r) => r.startsWith("flaky_read")).length === 1) {
        return { isError: true, content: [{ type: "text", text: "upstream hiccup" }] };
      }
      if (name === "ask_read") {
        const answer = await (ctx.ask as Asking).ask(WORD, "Which word?", { key: "word" });
        if (answer.action !== "accept") return { content: [{ type: "text", text: "no word" }] };
      }
      return { content: [{ type: "text", text: `answer ${n}` }], structuredContent: { n, args } };
    },
  },
});

let over: GatewayOver<"stars">;

beforeAll(async () => {
  over = await startGatewayOver(
    { stars: upstream },
    (urls) => `upstreams:
  cached:
    url: ${urls.stars}
    cache: { ttlSeconds: 60 }
  shared:
    url: ${urls.stars}
    cache: { ttlSeconds: 60, shared: true }
  brief:
    url: ${urls.stars}
    cache: { ttlSeconds: 1 }
  limited:
    url: ${urls.stars}
    rateLimit: { perMinute: 1 }
    cache: { ttlSeconds: 60 }
  plain:
    url: ${urls.stars}
`,
    { keys: KEYS },
  );
});

afterAll(async () => {
  await over?.close();
});

type Client = Awaited<ReturnType<GatewayOver<"stars">["as"]>>;
async function call(c: Client, name: string, args: Record<string, unknown> = {}) {
  return (await c.callTool({ name, arguments: args })) as ToolResultShape;
}
/** How many calls reached the upstream while `run` ran. */
async function reached(run: () => Promise<void>): Promise<number> {
  const before = received.length;
  await run();
  return received.length - before;
}

describe("read-only answers", () => {
  it("are served again for the same caller and arguments (any key order, either era), not for others", async () => {
    const modern = await over.as("ann", "modern");
    const legacy = await over.as("ann", "legacy");
    try {
      let first!: ToolResultShape;
      expect(
        await reached(async () => {
          first = await call(modern, "cached__count_stars", { repo: "a/b", since: "2026" });
        }),
      ).toBe(1);
      expect(first.isError, textOf(first)).toBeFalsy();
      expect(
        await reached(async () => {
          const again = await call(modern, "cached__count_stars", { since: "2026", repo: "a/b" });
          expect(again).toEqual(first);
          // The same answer; each era's own _meta (2026-07-28 results name the server) aside.
          const { content, structuredContent } = await call(legacy, "cached__count_stars", {
            repo: "a/b",
            since: "2026",
          });
          expect({ content, structuredContent }).toEqual({
            content: first.content,
            structuredContent: first.structuredContent,
          });
        }),
      ).toBe(0);
      // Other arguments, or the same tool under an upstream entry without `cache`, reach it.
      expect(
        await reached(async () => {
          await call(modern, "cached__count_stars", { repo: "a/c", since: "2026" });
          await call(modern, "plain__count_stars", { repo: "a/b", since: "2026" });
          await call(modern, "plain__count_stars", { repo: "a/b", since: "2026" });
        }),
      ).toBe(3);
    } finally {
      await modern.close();
      await legacy.close();
    }
  });

  it("are kept per caller unless the upstream's cache is shared", async () => {
    const ann = await over.as("ann", "modern");
    const bob = await over.as("bob", "modern");
    try {
      const args = { repo: "per/caller" };
      expect(
        await reached(async () => {
          const a = await call(ann, "cached__count_stars", args);
          const b = await call(bob, "cached__count_stars", args);
          expect(b.structuredContent?.n).not.toBe(a.structuredContent?.n);
        }),
      ).toBe(2);
      expect(
        await reached(async () => {
          const a = await call(ann, "shared__count_stars", args);
          expect(await call(bob, "shared__count_stars", args)).toEqual(a);
        }),
      ).toBe(1);
    } finally {
      await ann.close();
      await bob.close();
    }
  });

  it("expire after ttlSeconds", async () => {
    const c = await over.as("ann", "modern");
    try {
      const args = { repo: "brief/one" };
      expect(
        await reached(async () => {
          await call(c, "brief__count_stars", args);
          await call(c, "brief__count_stars", args);
        }),
      ).toBe(1);
      await new Promise((r) => setTimeout(r, 1_300));
      expect(await reached(() => call(c, "brief__count_stars", args).then(() => {}))).toBe(1);
    } finally {
      await c.close();
    }
  });

  it("do not count against the upstream's rate limit", async () => {
    const c = await over.as("ann", "modern");
    try {
      const args = { repo: "limited/one" };
      const first = await call(c, "limited__count_stars", args);
      expect(first.isError, textOf(first)).toBeFalsy();
      for (let i = 0; i < 3; i++) expect(await call(c, "limited__count_stars", args)).toEqual(first);
      // The minute's one request is spent: anything not kept is refused.
      const other = await call(c, "limited__count_stars", { repo: "limited/two" });
      expect(textOf(other)).toMatch(/^rate_limited: upstream 'limited' rate limit reached/);
    } finally {
      await c.close();
    }
  });

  it("are counted on /metrics as hits and misses per upstream", async () => {
    const metrics = await over.gw.runtime.metrics.render();
    const value = (upstream: string, result: string) =>
      Number(
        new RegExp(
          `toolshed_gateway_cache_requests_total\\{[^}]*upstream="${upstream}",result="${result}"[^}]*\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    expect(value("cached", "hit"), metrics).toBeGreaterThanOrEqual(2);
    expect(value("cached", "miss")).toBeGreaterThanOrEqual(3);
    expect(value("shared", "hit")).toBeGreaterThanOrEqual(1);
    expect(metrics).not.toMatch(/toolshed_gateway_cache_requests_total\{[^}]*upstream="plain"/);
  });
});

describe("never kept", () => {
  it("a tool the upstream does not list as read-only", async () => {
    const c = await over.as("ann", "modern");
    try {
      const args = { repo: "write/one" };
      expect(
        await reached(async () => {
          const a = await call(c, "cached__star_repo", args);
          const b = await call(c, "cached__star_repo", args);
          expect(b.structuredContent?.n).not.toBe(a.structuredContent?.n);
        }),
      ).toBe(2);
    } finally {
      await c.close();
    }
  });

  it("a failed answer: the next call asks the upstream again", async () => {
    const c = await over.as("ann", "modern");
    try {
      const failed = await call(c, "cached__flaky_read");
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toContain("upstream hiccup");
      const ok = await call(c, "cached__flaky_read");
      expect(ok.isError, textOf(ok)).toBeFalsy();
      expect(await reached(() => call(c, "cached__flaky_read").then(() => {}))).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("an answer the caller was asked something for: the next call asks again", async () => {
    for (const era of ["modern", "legacy"] as const) {
      const asked: string[] = [];
      const c = await over.as("ann", era, { elicitation: { form: {} } });
      c.setRequestHandler("elicitation/create", (request) => {
        asked.push(String((request.params as { message?: string }).message));
        return Promise.resolve({ action: "accept", content: { word: "open" } });
      });
      try {
        for (let i = 0; i < 2; i++) {
          const r = await call(c, "cached__ask_read", { era });
          expect(r.isError, textOf(r)).toBeFalsy();
          expect(textOf(r)).toMatch(/^answer \d+$/);
        }
        expect(asked).toEqual(["Which word?", "Which word?"]);
      } finally {
        await c.close();
      }
    }
  });
});

it("checks the setting", () => {
  const parse = (value: string) =>
    parseGatewayFile(`upstreams:\n  a:\n    url: http://127.0.0.1:1/mcp\n    cache: ${value}\n`, "g.yaml");
  expect(() => parse("{ ttlSeconds: 0 }")).toThrow(
    /upstreams.a.cache.ttlSeconds: seconds to keep an answer, a whole number from 1 to 86400/,
  );
  expect(() => parse("{ ttlSeconds: 1.5 }")).toThrow(/upstreams.a.cache.ttlSeconds/);
  expect(() => parse("{ ttl: 60 }")).toThrow(/upstreams.a.cache/);
  expect(() => parse("{ ttlSeconds: 60, maxEntries: 0 }")).toThrow(
    /upstreams.a.cache.maxEntries: a whole number of answers from 1 to 100000/,
  );
  expect(() => parse("{ ttlSeconds: 60, shared: 'yes' }")).toThrow(/upstreams.a.cache.shared: true or false/);
  expect(parse("{ ttlSeconds: 60, maxEntries: 10, shared: true }").upstreams.a?.cache).toEqual({
    ttlSeconds: 60,
    maxEntries: 10,
    shared: true,
  });
});
