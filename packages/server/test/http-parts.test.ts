import type { IncomingMessage } from "node:http";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { MemoryEventStore } from "../src/index.js";
import { originPolicy, refusal } from "../src/http/guards.js";

const progressOf = (m: JSONRPCMessage) => (m as unknown as { params: { progress: number } }).params.progress;
const msg = (n: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/progress",
  params: { progressToken: 1, progress: n },
});

describe("MemoryEventStore", () => {
  it("replays only the events after the given id, on the right stream", async () => {
    const store = new MemoryEventStore();
    const first = await store.storeEvent("_GET_stream", msg(1));
    await store.storeEvent("other", msg(99));
    await store.storeEvent("_GET_stream", msg(2));
    await store.storeEvent("_GET_stream", msg(3));
    const seen: number[] = [];
    const stream = await store.replayEventsAfter(first, {
      send: (_id, m) => {
        seen.push(progressOf(m));
        return Promise.resolve();
      },
    });
    expect(stream).toBe("_GET_stream");
    expect(seen).toEqual([2, 3]);
    expect(await store.getStreamIdForEventId(first)).toBe("_GET_stream");
    await expect(store.replayEventsAfter("nope_1", { send: () => Promise.resolve() })).rejects.toThrow(
      /unknown event id/,
    );
  });

  it("stays bounded in events per stream and in streams", async () => {
    const store = new MemoryEventStore({ maxEventsPerStream: 2, maxStreams: 2 });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await store.storeEvent("a", msg(i)));
    const seen: number[] = [];
    await store.replayEventsAfter(ids[0]!, {
      send: (_id, m) => {
        seen.push(progressOf(m));
        return Promise.resolve();
      },
    });
    expect(seen).toEqual([3, 4]);
    await store.storeEvent("b", msg(0));
    await store.storeEvent("c", msg(0));
    expect(store.size).toBe(2);
    expect(await store.getStreamIdForEventId(ids[4]!)).toBeUndefined();
  });
});

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe("origin policy", () => {
  it("answers only to loopback names when bound to loopback", () => {
    const p = originPolicy("127.0.0.1");
    expect(refusal(req({ host: "localhost:3000" }), p)).toBeUndefined();
    expect(refusal(req({ host: "127.0.0.1:3000" }), p)).toBeUndefined();
    expect(refusal(req({ host: "[::1]:3000" }), p)).toBeUndefined();
    expect(refusal(req({ host: "attacker.example:3000" }), p)).toBe(
      "host 'attacker.example:3000' is not allowed",
    );
    expect(refusal(req({}), p)).toBe("missing Host header");
    expect(refusal(req({ host: "localhost:3000", origin: "http://attacker.example" }), p)).toBe(
      "origin 'http://attacker.example' is not allowed",
    );
    expect(refusal(req({ host: "localhost:3000", origin: "null" }), p)).toBe("origin 'null' is not allowed");
  });

  it("accepts any host on a public bind but only same-host browser origins", () => {
    const p = originPolicy("0.0.0.0");
    expect(refusal(req({ host: "mcp.internal:8080" }), p)).toBeUndefined();
    expect(
      refusal(req({ host: "mcp.internal:8080", origin: "https://mcp.internal:8080" }), p),
    ).toBeUndefined();
    expect(refusal(req({ host: "mcp.internal:8080", origin: "https://evil.example" }), p)).toMatch(
      /not allowed/,
    );
  });

  it("uses explicit allow-lists when given", () => {
    const p = originPolicy("0.0.0.0", ["mcp.example.com"], ["https://app.example.com"]);
    expect(refusal(req({ host: "mcp.example.com" }), p)).toBeUndefined();
    expect(refusal(req({ host: "other.example.com" }), p)).toMatch(/not allowed/);
    expect(refusal(req({ host: "mcp.example.com", origin: "https://app.example.com" }), p)).toBeUndefined();
    expect(refusal(req({ host: "mcp.example.com", origin: "https://mcp.example.com" }), p)).toMatch(
      /not allowed/,
    );
  });
});
