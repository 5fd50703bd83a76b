// Gateway replicas on one Redis (TOOLSHED_REDIS_URL): what one replica kept, the other serves. A
// large answer linked by replica A is paged on replica B (to its owner only); a read-only answer
// cached by A is a hit on B (the upstream answers once); an upstream's rate limit is one bucket for
// both. When Redis goes away (a loopback proxy in front of the real Redis is cut), calls still work:
// cache misses, the rate limit fails open, a large answer is kept on the replica that got it.
// Real HTTP on loopback and a real Redis: clients -> two gateways -> one upstream kit server.
import { randomBytes } from "node:crypto";
import { defineServer } from "@toolshed/server";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { redisProxy } from "../../../test-support/redis-proxy.js";
import { needRedis } from "../../../test-support/services.js";
import { startGateway, startGatewayOver, textOf, type GatewayOver, type TestGateway } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp = await needRedis(REDIS_URL);

const KEYS = {
  ann: { key: "tsk_shared_ann_0123456789abcdef", scopes: "*" },
  bob: { key: "tsk_shared_bob_0123456789abcdef", scopes: "*" },
};

/** ~100 KiB of text with multi-byte characters: over the 64 KiB link threshold. */
const BIG = Array.from({ length: 2_000 }, (_, i) => `row ${i}: café ✓ ${"y".repeat(30)}`).join("\n");

/** Each tools/call the upstream received, by tool name. */
const received: string[] = [];

const upstream = defineServer({
  name: "ledger",
  version: "0.0.0",
  tools: [],
  forward: {
    listTools: () => [
      { name: "big_report", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
      { name: "balance", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
      { name: "post_entry", inputSchema: { type: "object" } },
    ],
    callTool: (_deps, name) => {
      received.push(name);
      if (name === "big_report") return Promise.resolve({ content: [{ type: "text", text: BIG }] });
      return Promise.resolve({ content: [{ type: "text", text: `${name} answer ${received.length}` }] });
    },
  },
});

type Client = Awaited<ReturnType<GatewayOver<"ledger">["as"]>>;
type Result = { isError?: boolean; content: { type: string; text?: string; uri?: string }[] };

async function call(c: Client, tool: string, args: Record<string, unknown> = {}): Promise<Result> {
  return await c.callTool({ name: tool, arguments: args });
}

describe.runIf(redisUp)("gateway replicas sharing Redis", () => {
  // A name of its own, so that runs sharing this Redis never see each other's keys.
  const name = `ledger-${randomBytes(4).toString("hex")}`;
  let over: GatewayOver<"ledger">;
  let b: TestGateway;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    const config = (urls: Record<"ledger", string>) => `upstreams:
  ${name}:
    url: ${urls.ledger}
    cache: { ttlSeconds: 60, shared: true }
    rateLimit: { perMinute: 4 }
`;
    over = await startGatewayOver({ ledger: upstream }, config, { keys: KEYS, redisUrl: REDIS_URL });
    b = await startGateway(config(over.urls), { http: { auth: over.auth! }, redisUrl: REDIS_URL });
  });

  afterAll(async () => {
    await b?.close();
    await over?.close();
    if (redis) {
      const keys = await redis.keys(`toolshed:gateway:*${name}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it("pages a large answer on the other replica, to its owner only (both eras)", async () => {
    for (const era of ["modern", "legacy"] as const) {
      const annA = await over.as("ann", era);
      const annB = await over.as("ann", era, {}, b.url);
      const bobB = await over.as("bob", era, {}, b.url);
      try {
        const r = await call(annA, `${name}__big_report`);
        expect(r.isError, textOf(r)).toBeFalsy();
        const link = r.content.find((c) => c.type === "resource_link");
        expect(link?.uri).toMatch(/^toolshed-gateway:\/\/results\/[0-9a-f-]{36}$/);
        const id = link!.uri!.split("/").pop()!;
        // Every page from replica B, joined, is the whole answer.
        const preview = r.content[0]!.text!.split("\n\n[The answer")[0]!;
        const parts = [preview];
        for (let page = 2; ; page++) {
          const p = await call(annB, "read_result", { id, page });
          expect(p.isError, textOf(p)).toBeFalsy();
          const text = p.content[0]!.text!;
          const note = /\n\n\[page (\d+) of (\d+)(; next: page \d+|, the last)\]$/.exec(text)!;
          parts.push(text.slice(0, note.index));
          if (note[3] === ", the last") break;
        }
        expect(parts.join("")).toBe(BIG);
        // resources/read of the link on B gives the same first page.
        const read = await annB.readResource({ uri: link!.uri! });
        expect((read.contents[0] as { text: string }).text).toBe(preview);
        // Another caller on B cannot read it.
        const denied = await call(bobB, "read_result", { id, page: 2 });
        expect(denied.isError).toBe(true);
        expect(textOf(denied)).toMatch(/no kept answer .* is not yours; call the tool again/);
      } finally {
        await Promise.all([annA.close(), annB.close(), bobB.close()]);
      }
    }
  });

  it("serves on one replica the read-only answer the other cached (the upstream answers once)", async () => {
    const annA = await over.as("ann", "modern");
    const bobB = await over.as("bob", "legacy", {}, b.url);
    try {
      const before = received.filter((n) => n === "balance").length;
      const first = await call(annA, `${name}__balance`, { account: "x" });
      const again = await call(bobB, `${name}__balance`, { account: "x" });
      expect(textOf(again)).toBe(textOf(first));
      expect(received.filter((n) => n === "balance").length).toBe(before + 1);
      // Other arguments are another answer.
      const other = await call(bobB, `${name}__balance`, { account: "y" });
      expect(textOf(other)).not.toBe(textOf(first));
      expect(received.filter((n) => n === "balance").length).toBe(before + 2);
    } finally {
      await Promise.all([annA.close(), bobB.close()]);
    }
  });

  it("holds one rate limit for the upstream across replicas", async () => {
    const annA = await over.as("ann", "modern");
    const annB = await over.as("ann", "modern", {}, b.url);
    try {
      // Earlier tests took 4 calls at most from the bucket of 4 a minute; writes are never cached.
      const texts: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await call(i % 2 ? annB : annA, `${name}__post_entry`, { i });
        texts.push(r.isError ? `refused: ${textOf(r)}` : "ok");
      }
      const refused = texts.filter((t) => t.startsWith("refused"));
      // Each replica alone would pass 3 of its own 3 calls with a bucket of 4; shared, at most 4
      // of all calls pass since the tests started, so of these 6 at least 2 are refused, on both.
      expect(refused.length, texts.join("\n")).toBeGreaterThanOrEqual(2);
      expect(texts.filter((_, i) => i % 2 === 1).some((t) => t.startsWith("refused"))).toBe(true);
      expect(texts.filter((_, i) => i % 2 === 0).some((t) => t.startsWith("refused"))).toBe(true);
      expect(refused[0]).toMatch(
        new RegExp(
          `upstream '${name}' rate limit reached \\(4 requests per minute through this gateway\\); retry in \\d+s`,
        ),
      );
    } finally {
      await Promise.all([annA.close(), annB.close()]);
    }
  });
});

describe.runIf(redisUp)("a gateway whose Redis goes away", () => {
  const name = `ledger-${randomBytes(4).toString("hex")}`;
  let over: GatewayOver<"ledger">;
  let proxy: Awaited<ReturnType<typeof redisProxy>>;

  beforeAll(async () => {
    proxy = await redisProxy(new URL(REDIS_URL));
    over = await startGatewayOver(
      { ledger: upstream },
      (urls) => `upstreams:
  ${name}:
    url: ${urls.ledger}
    cache: { ttlSeconds: 60 }
    rateLimit: { perMinute: 2 }
`,
      { keys: KEYS, redisUrl: proxy.url },
    );
  });

  afterAll(async () => {
    await over?.close();
    await proxy?.close();
  });

  it("keeps serving: cache misses, the rate limit fails open, large answers stay on this replica, and the log says so", async () => {
    const ann = await over.as("ann", "modern");
    try {
      proxy.cut();
      const before = received.filter((n) => n === "balance").length;
      // Three calls with a bucket of 2 a minute: Redis cannot count them, so none is refused.
      for (let i = 0; i < 3; i++) {
        const r = await call(ann, `${name}__balance`);
        expect(r.isError, textOf(r)).toBeFalsy();
      }
      // Nothing was kept, so every call reached the upstream.
      expect(received.filter((n) => n === "balance").length).toBe(before + 3);
      const big = await call(ann, `${name}__big_report`);
      const link = big.content.find((c) => c.type === "resource_link");
      expect(link, textOf(big)).toBeDefined();
      const page = await call(ann, "read_result", { id: link!.uri!.split("/").pop(), page: 2 });
      expect(page.isError, textOf(page)).toBeFalsy();
      expect(BIG).toContain(page.content[0]!.text!.split("\n\n[page")[0]!);
      expect(over.gw.logs()).toMatch(/shared store \(Redis\) failed while/);
    } finally {
      await ann.close();
    }
  });
});
