import { randomUUID } from "node:crypto";
import { connect, type Socket } from "node:net";
import everything from "@toolshed/fixture-everything";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { createLogger } from "@toolshed/logging";
import {
  MemoryEventStore,
  authFromSettings,
  defineServer,
  defineTool,
  z,
  type AuthSettings,
  type HttpOptions,
} from "@toolshed/server";
import { toolScopesOf } from "@toolshed/server/internal";
import { afterEach, describe, expect, it } from "vitest";
import { needRedis } from "../../../test-support/services.js";
import { startTestHttpServer, textOf, type TestHttpServer } from "../src/index.js";
import { INITIALIZE, MCP_HEADERS, readSse } from "./sse.js";

// The kit's exhaustion and authorization limits, over real HTTP on loopback (Redis where it matters).
const alice = generateApiKey();
const bob = generateApiKey();
const reader = generateApiKey();
const silent = createLogger({ name: "limits", level: "silent" });
const PROTOCOL = { "mcp-protocol-version": "2025-06-18" };

function authFor(settings: Partial<AuthSettings> = {}) {
  return authFromSettings(
    {
      serverName: `limits-${randomUUID()}`,
      apiKeys: `alice:${hashApiKey(alice)}:*;bob:${hashApiKey(bob)}:*;reader:${hashApiKey(reader)}:everything:read shop:read`,
      ...settings,
    },
    "http://127.0.0.1/mcp",
    silent,
  )!;
}

const tool = (name: string, readOnlyHint: boolean, scopes?: string[]) =>
  defineTool({
    name,
    title: name,
    description: `Test tool ${name}; answers with its own name.`,
    input: z.object({}),
    output: z.object({ tool: z.string() }),
    annotations: { readOnlyHint, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    ...(scopes ? { scopes } : {}),
    render: ({ tool: t }) => t,
    handler: () => ({ tool: name }),
  });
const shop = defineServer({
  name: "shop",
  version: "1.0.0",
  tools: [tool("look", true), tool("buy", false), tool("refund", false, ["shop:admin"])],
});

async function start(http: Partial<HttpOptions> = {}, settings?: Partial<AuthSettings>) {
  return startTestHttpServer(everything, { auth: authFor(settings), ...http });
}

async function post(url: string, headers: Record<string, string>, body: unknown = INITIALIZE) {
  const res = await fetch(url, {
    method: "POST",
    headers: { ...MCP_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Opens a session as `key`; returns the headers that go with it. */
async function session(url: string, key: string): Promise<Record<string, string>> {
  const init = await post(url, { "x-api-key": key });
  const sid = init.headers.get("mcp-session-id");
  if (init.status !== 200 || !sid) throw new Error(`initialize: HTTP ${init.status} ${init.body}`);
  const headers = { "x-api-key": key, "mcp-session-id": sid, ...PROTOCOL };
  await post(url, headers, { jsonrpc: "2.0", method: "notifications/initialized" });
  return headers;
}

/** Raw bytes on a socket: resolves with what came back and how long until the server closed it. */
function trickle(
  port: number,
  head: string,
  everyMs: number,
  giveUpMs: number,
): Promise<{ text: string; closedAfterMs: number | undefined }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, "127.0.0.1");
    let text = "";
    let closedAfterMs: number | undefined;
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => (text += c));
    socket.on("error", () => {});
    const drip = setInterval(() => socket.write("x"), everyMs);
    const finish = () => {
      clearInterval(drip);
      clearTimeout(limit);
      socket.destroy();
      resolve({ text, closedAfterMs });
    };
    const limit = setTimeout(finish, giveUpMs);
    socket.on("close", () => {
      closedAfterMs = Date.now() - started;
      finish();
    });
    socket.write(head);
  });
}

const postHead = (port: number, extra: string, length = 10_000) =>
  `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
  `Accept: application/json, text/event-stream\r\nContent-Length: ${length}\r\n${extra}\r\n{`;

describe("kit limits over real HTTP", () => {
  let srv: TestHttpServer | undefined;
  afterEach(async () => {
    await srv?.close(500);
    srv = undefined;
  });

  it("caps sessions per principal with 429, lets another principal in, and frees a slot on DELETE", async () => {
    srv = await start({ maxSessionsPerPrincipal: 2 });
    const first = await session(srv.url, alice);
    await session(srv.url, alice);
    const third = await post(srv.url, { "x-api-key": alice });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(third.body).toMatch(/already has 2 open sessions.*DELETE/);
    await session(srv.url, bob);
    const del = await fetch(srv.url, { method: "DELETE", headers: first });
    expect(del.status).toBe(200);
    await session(srv.url, alice);
    expect(srv.sessions).toBe(3);
  });

  it("frees a principal's slots when its sessions idle out", async () => {
    srv = await start({ maxSessionsPerPrincipal: 1, sessionIdleMs: 1_000 });
    await session(srv.url, alice);
    expect((await post(srv.url, { "x-api-key": alice })).status).toBe(429);
    const deadline = Date.now() + 5_000;
    while (srv.sessions > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(srv.sessions).toBe(0);
    await session(srv.url, alice);
  });

  it("answers 401 to a bad key before the body and closes the connection at once", async () => {
    srv = await start({ timeouts: { headersMs: 2_000, bodyMs: 2_000 } });
    const wrong = generateApiKey();
    const r = await trickle(srv.port, postHead(srv.port, `X-Api-Key: ${wrong}\r\n`), 200, 8_000);
    expect(r.text).toMatch(/^HTTP\/1\.1 401/);
    expect(r.text).toMatch(/connection: close/i);
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs!).toBeLessThan(1_500);
  });

  it("times out a body that trickles in (408, connection closed) for an authenticated caller", async () => {
    srv = await start({ timeouts: { headersMs: 1_000, bodyMs: 1_000 } });
    const r = await trickle(srv.port, postHead(srv.port, `X-Api-Key: ${alice}\r\n`), 200, 8_000);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.text).toMatch(/did not arrive within 1s/);
    expect(r.closedAfterMs!).toBeGreaterThanOrEqual(900);
    expect(r.closedAfterMs!).toBeLessThan(3_500);
  });

  it("keeps a long SSE answer and a GET stream open past the request deadlines", async () => {
    srv = await start({ timeouts: { headersMs: 500, bodyMs: 500 } });
    const headers = await session(srv.url, alice);
    const get = await fetch(srv.url, { headers: { ...headers, accept: "text/event-stream" } });
    expect(get.status).toBe(200);
    const started = Date.now();
    const slow = await post(srv.url, headers, {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "slow", arguments: { ms: 2_500 } },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400);
    expect(slow.status).toBe(200);
    expect(slow.body).toMatch(/"result"/);
    // The GET stream outlived both deadlines too: a read now still waits rather than ending.
    const reader = get.body!.getReader();
    const next = await Promise.race([
      reader.read().then((r) => (r.done ? "ended" : "data")),
      new Promise((r) => setTimeout(() => r("open"), 300)),
    ]);
    expect(next).not.toBe("ended");
    await reader.cancel();
  });

  it("times out headers that trickle in", async () => {
    srv = await start({ timeouts: { headersMs: 1_000, bodyMs: 1_000 } });
    const r = await trickle(srv.port, `POST /mcp HTTP/1.1\r\nX-Slow: `, 200, 8_000);
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs!).toBeLessThan(3_500);
  });

  it("rate-limits failed authentications per address with 429 and Retry-After, valid keys included", async () => {
    srv = await start({}, { authFailureLimit: "3,0.5" });
    // No credential at all is not a guess: it does not count.
    for (let i = 0; i < 5; i++) expect((await post(srv.url, {})).status).toBe(401);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r = await post(srv.url, { "x-api-key": generateApiKey() });
      statuses.push(r.status);
      retryAfter ??= r.headers.get("retry-after");
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    const blocked = await post(srv.url, { "x-api-key": alice });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatch(/too many failed authentications/);
    await new Promise((r) => setTimeout(r, Number(retryAfter) * 1000 + 100));
    expect((await post(srv.url, { "x-api-key": alice })).status).toBe(200);
  });

  it("turns the failed-auth limit off with 'off'", async () => {
    srv = await start({}, { authFailureLimit: "off" });
    for (let i = 0; i < 40; i++)
      expect((await post(srv.url, { "x-api-key": generateApiKey() })).status).toBe(401);
  });

  it("refuses /metrics without credentials when auth is on, unless --public-metrics", async () => {
    srv = await start();
    const metrics = srv.url.replace("/mcp", "/metrics");
    expect((await fetch(metrics)).status).toBe(401);
    const withKey = await fetch(metrics, { headers: { "x-api-key": reader } });
    expect(withKey.status).toBe(200);
    expect(await withKey.text()).toContain("mcp_sessions_active");
    await srv.close(500);
    srv = await start({ publicMetrics: true });
    expect((await fetch(srv.url.replace("/mcp", "/metrics"))).status).toBe(200);
  });

  it("gives every tool a scope, lists only what a key may call and refuses the rest with 403", async () => {
    srv = await startTestHttpServer(shop, { auth: authFor() });
    const readerClient = await srv.connect({}, { "x-api-key": reader });
    expect((await readerClient.listTools()).tools.map((t) => t.name)).toEqual(["look"]);
    expect(textOf(await readerClient.callTool({ name: "look", arguments: {} }))).toBe("look");
    await expect(readerClient.callTool({ name: "buy", arguments: {} })).rejects.toThrow(/shop:write/);
    await readerClient.close();

    const headers = await session(srv.url, reader);
    const refused = await post(srv.url, headers, {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "buy", arguments: {} },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toMatch(/insufficient_scope.*shop:write/);

    // "*" grants everything, as API keys configured before scopes expect.
    const all = await srv.connect({}, { "x-api-key": alice });
    expect((await all.listTools()).tools.map((t) => t.name)).toEqual(["look", "buy", "refund"]);
    expect(textOf(await all.callTool({ name: "refund", arguments: {} }))).toBe("refund");
    await all.close();
  });

  it("keeps every tool callable without auth (loopback)", async () => {
    srv = await startTestHttpServer(everything);
    const client = await srv.connect();
    expect((await client.listTools()).tools).toHaveLength(everything.tools.length);
    expect(textOf(await client.callTool({ name: "echo", arguments: { message: "hi" } }))).toBe("hi");
    await client.close();
  });

  it("derives <server>:read and <server>:write from annotations unless a tool names its own", () => {
    expect(Object.fromEntries(toolScopesOf(shop))).toEqual({
      look: ["shop:read"],
      buy: ["shop:write"],
      refund: ["shop:admin"],
    });
  });
});

describe("event replay stays in its session", () => {
  let srv: TestHttpServer | undefined;
  afterEach(async () => {
    await srv?.close(500);
    srv = undefined;
  });

  it("refuses another session's Last-Event-ID and _GET_stream_0, and frees a closed session's streams", async () => {
    const store = new MemoryEventStore();
    srv = await start({ eventStore: store });
    const a = await session(srv.url, alice);
    const lastId = await droppedCallEventId(srv.url, a);
    expect(store.size).toBeGreaterThan(0);
    for (const key of [bob, alice]) {
      const b = await session(srv.url, key);
      for (const id of [lastId, "_GET_stream_0", "_GET_stream_1"]) {
        const res = await fetch(srv.url, {
          headers: { ...b, accept: "text/event-stream", "last-event-id": id },
          // A replay that got through would stream on: bounded, it fails instead of hanging.
          signal: AbortSignal.timeout(5_000),
        });
        const text = await res.text();
        expect(res.status, `${id}: ${text}`).toBeGreaterThanOrEqual(400);
        expect(text).not.toContain("progress");
      }
    }
    // Its owner still resumes.
    const own = await fetch(srv.url, {
      headers: { ...a, accept: "text/event-stream", "last-event-id": lastId },
    });
    expect(own.status).toBe(200);
    await own.body?.cancel();
    const before = store.size;
    expect((await fetch(srv.url, { method: "DELETE", headers: a })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(store.size).toBeLessThan(before);
    expect(
      (await fetch(srv.url, { headers: { ...a, accept: "text/event-stream", "last-event-id": lastId } }))
        .status,
    ).toBe(404);
  });

  it("caps the in-memory store in bytes, dropping the oldest events first", async () => {
    const store = new MemoryEventStore({ maxBytes: 200_000 });
    const big = {
      jsonrpc: "2.0" as const,
      method: "notifications/message",
      params: { data: "x".repeat(20_000) },
    };
    for (let i = 0; i < 100; i++) await store.storeEvent(`s${i % 7}`, big);
    expect(store.bytes).toBeLessThanOrEqual(200_000);
    expect(store.bytes).toBeGreaterThan(100_000);
    // About four 40 KB events fit: the last ones written (s5, s6, s0, s1); s2's are gone.
    const lost: string[] = [];
    await store.replayEventsAfter("s2_0", { send: (id) => Promise.resolve(void lost.push(id)) });
    expect(lost).toEqual([]);
    const seen: string[] = [];
    await store.replayEventsAfter("s1_0", { send: (id) => Promise.resolve(void seen.push(id)) });
    expect(seen).toEqual(["s1_15"]);
  });
});

const redisUp = await needRedis();

describe.runIf(redisUp)("limits shared through Redis", () => {
  const redisUrl = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

  it("counts failed authentications across replicas", async () => {
    const serverName = `limits-redis-${randomUUID()}`;
    const a = await start({}, { serverName, redisUrl, authFailureLimit: "2,0.2" });
    const b = await start({}, { serverName, redisUrl, authFailureLimit: "2,0.2" });
    try {
      expect((await post(a.url, { "x-api-key": generateApiKey() })).status).toBe(401);
      expect((await post(a.url, { "x-api-key": generateApiKey() })).status).toBe(401);
      // Replica B has seen no failure, but the bucket is shared: its first wrong key is refused 429.
      const r = await post(b.url, { "x-api-key": generateApiKey() });
      expect(r.status).toBe(429);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await post(b.url, { "x-api-key": alice })).status).toBe(429);
    } finally {
      await a.close(500);
      await b.close(500);
    }
  });

  it("refuses another session's stream on a replica resuming from the Redis store", async () => {
    const { RedisEventStore } = await import("@toolshed/server");
    const keyPrefix = `toolshed-test:${randomUUID()}`;
    const storeA = await RedisEventStore.connect({ url: redisUrl, keyPrefix });
    const storeB = await RedisEventStore.connect({ url: redisUrl, keyPrefix });
    const a = await start({ eventStore: storeA });
    const b = await start({ eventStore: storeB });
    try {
      const alices = await session(a.url, alice);
      const lastId = await droppedCallEventId(a.url, alices);
      const bobs = await session(a.url, bob);
      // Bob's own session id with Alice's event id: on A (the SDK path) and on B (the shared-store path).
      for (const url of [a.url, b.url]) {
        const res = await fetch(url, {
          headers: { ...bobs, accept: "text/event-stream", "last-event-id": lastId },
          signal: AbortSignal.timeout(5_000),
        });
        const text = await res.text();
        expect(res.status, text).toBeGreaterThanOrEqual(400);
        expect(text).not.toContain("progress");
      }
      const own = await fetch(b.url, {
        headers: { ...alices, accept: "text/event-stream", "last-event-id": lastId },
      });
      expect(own.status).toBe(200);
      await own.body?.cancel();
    } finally {
      await a.close(500);
      await b.close(500);
      await storeA.close();
      await storeB.close();
    }
  });
});

/** Starts a slow call with progress in the session, drops its stream after one event; returns that event's id. */
async function droppedCallEventId(url: string, headers: Record<string, string>): Promise<string> {
  const drop = new AbortController();
  const res = await fetch(url, {
    method: "POST",
    headers: { ...MCP_HEADERS, ...headers },
    signal: drop.signal,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "slow", arguments: { ms: 600 }, _meta: { progressToken: "p" } },
    }),
  });
  let lastId: string | undefined;
  for await (const event of readSse(res.body!)) {
    if (event.id) lastId = event.id;
    if (event.data) break;
  }
  drop.abort();
  if (!lastId) throw new Error("the call's stream carried no event id");
  return lastId;
}
