import { randomUUID } from "node:crypto";
import everything from "@toolshed/fixture-everything";
import { RedisEventStore } from "@toolshed/server";
import { needRedis } from "../../../test-support/services.js";
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestHttpServer, textOf, type TestHttpServer } from "../src/index.js";
import { MCP_HEADERS, rawSession, readSse } from "./sse.js";

// Sessions idle for 500 ms are closed; the sweep runs every second. Every call below outlasts that.
const IDLE_MS = 500;
const LONG_CALL_MS = 2_500;

describe("the idle-session sweep", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(everything, { sessionIdleMs: IDLE_MS });
  });
  afterAll(async () => srv.close(1_000));

  it("keeps a session whose call outlasts the idle time, then closes it once it is idle", async () => {
    const client = await srv.connect();
    const id = (client.transport as StreamableHTTPClientTransport).sessionId;
    expect(id).toBeDefined();
    const result = await client.callTool(
      { name: "slow", arguments: { ms: LONG_CALL_MS } },
      { timeout: 15_000 },
    );
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ steps: 10 });
    // The same session answers the next call: the sweep did not close it under the long one.
    expect(textOf(await client.callTool({ name: "echo", arguments: { message: "still here" } }))).toBe(
      "still here",
    );
    expect(srv.sessions).toBe(1);

    // Idle now (the client's standalone GET stream is open, but that is listening, not work).
    await eventually(() => expect(srv.sessions).toBe(0), 10_000);
    const after = await fetch(srv.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": id!, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
    });
    expect(after.status).toBe(404);
    expect(await after.text()).toMatch(/Session not found/);
    await client.close();
  });

  it("keeps a session while a GET resumes a long call's dropped stream", async () => {
    const sid = await rawSession(srv.url);
    const headers = { ...MCP_HEADERS, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" };
    const drop = new AbortController();
    const res = await fetch(srv.url, {
      method: "POST",
      headers,
      signal: drop.signal,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "slow", arguments: { ms: LONG_CALL_MS }, _meta: { progressToken: "p" } },
      }),
    });
    let lastId: string | undefined;
    for await (const event of readSse(res.body!)) {
      if (event.id) lastId = event.id;
      if (event.data) break;
    }
    drop.abort();
    expect(lastId).toBeDefined();
    // Until the server has seen the dropped stream close, it refuses a second one for it (409).
    await new Promise((r) => setTimeout(r, 300));

    const resumed = await fetch(srv.url, {
      headers: {
        accept: "text/event-stream",
        "mcp-session-id": sid,
        "mcp-protocol-version": "2025-06-18",
        "last-event-id": lastId!,
      },
    });
    expect(resumed.status).toBe(200);
    let answer: { id?: number; result?: { structuredContent?: unknown } } | undefined;
    for await (const event of readSse(resumed.body!)) {
      const msg = event.data ? (JSON.parse(event.data) as typeof answer) : undefined;
      if (msg?.id === 1) {
        answer = msg;
        break;
      }
    }
    expect(answer?.result?.structuredContent).toMatchObject({ steps: 10 });
    const next = await fetch(srv.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(next.status).toBe(200);
    await next.text();
  });
});

const redisUp = await needRedis();

describe.runIf(redisUp)("the idle-session sweep, sessions shared through Redis", () => {
  it("keeps the shared record of a session alive while its call outlasts the idle time", async () => {
    const eventStore = await RedisEventStore.connect({
      url: process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      keyPrefix: `toolshed-test:${randomUUID()}`,
    });
    // The record's time to live in Redis is the idle time: the call below outlasts it twice.
    const shared = await startTestHttpServer(everything, { sessionIdleMs: 1_000, eventStore });
    try {
      const client = await shared.connect();
      const result = await client.callTool(
        { name: "slow", arguments: { ms: LONG_CALL_MS } },
        { timeout: 15_000 },
      );
      expect(result.structuredContent).toMatchObject({ steps: 10 });
      expect(textOf(await client.callTool({ name: "echo", arguments: { message: "kept" } }))).toBe("kept");
      await client.close();
    } finally {
      await shared.close(1_000);
    }
  });
});
