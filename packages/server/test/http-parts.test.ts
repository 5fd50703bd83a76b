import type { IncomingMessage } from "node:http";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { randomUUID } from "node:crypto";
import { MemoryEventStore, RedisEventStore, type EventStore } from "../src/index.js";
import { originPolicy, refusal } from "../src/http/guards.js";
import { sweepIdleSessions, type SweptSession } from "../src/http/idle-sweep.js";
import { sessionEventStore } from "../src/http/session-events.js";
import { StreamLeases } from "../src/http/stream-leases.js";
import { createLogger } from "@toolshed/logging";
import { needRedis } from "../../../test-support/services.js";

const progressOf = (m: JSONRPCMessage) => (m as unknown as { params: { progress: number } }).params.progress;
const msg = (n: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/progress",
  params: { progressToken: 1, progress: n },
});

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
// In CI a missing Redis fails here; elsewhere the Redis store's run is skipped, saying so.
const redisUp = await needRedis(REDIS_URL);

// One suite for every store: what a resuming client relies on.
describe.each([
  ["memory", () => Promise.resolve(new MemoryEventStore())],
  [
    "redis",
    async () => {
      try {
        return await RedisEventStore.connect({ url: REDIS_URL, keyPrefix: `toolshed-test:${randomUUID()}` });
      } catch (err) {
        throw new Error(
          `${(err as Error).message}. These tests need Redis: start it with ` +
            `'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no' ` +
            `or point TOOLSHED_TEST_REDIS_URL at one.`,
        );
      }
    },
  ],
] as const)("%s event store", (name, open) => {
  if (name === "redis" && !redisUp) {
    it.skip("needs Redis (see the message above)", () => {});
    return;
  }
  let store: EventStore & { close?: () => Promise<void> };
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => store.close?.());

  it("replays only the events after the given id, on the right stream", async () => {
    const first = await store.storeEvent("_GET_stream", msg(1));
    await store.storeEvent("other", msg(99));
    const second = await store.storeEvent("_GET_stream", msg(2));
    await store.storeEvent("_GET_stream", msg(3));
    const seen: [string, number][] = [];
    const stream = await store.replayEventsAfter(first, {
      send: (id, m) => {
        seen.push([id, progressOf(m)]);
        return Promise.resolve();
      },
    });
    expect(stream).toBe("_GET_stream");
    expect(seen.map(([, p]) => p)).toEqual([2, 3]);
    expect(seen[0]![0]).toBe(second);
    expect(await store.getStreamIdForEventId!(first)).toBe("_GET_stream");
  });

  it("refuses ids it never issued", async () => {
    await expect(store.replayEventsAfter("nope_1-0", { send: () => Promise.resolve() })).rejects.toThrow(
      /unknown event id/,
    );
    await expect(store.replayEventsAfter("garbage", { send: () => Promise.resolve() })).rejects.toThrow(
      /unknown event id/,
    );
    expect(await store.getStreamIdForEventId!("nope_1-0")).toBeUndefined();
  });

  it("keeps each session's streams to itself and drops them with the session", async () => {
    const [sa, sb] = [randomUUID(), randomUUID()];
    const a = sessionEventStore(store, sa);
    const b = sessionEventStore(store, sb);
    const first = await a.storeEvent("_GET_stream", msg(1));
    await a.storeEvent("_GET_stream", msg(2));
    const own = await b.storeEvent("_GET_stream", msg(7));
    const replay = async (view: EventStore, id: string) => {
      const seen: number[] = [];
      const stream = await view.replayEventsAfter(id, {
        send: (_id, m) => Promise.resolve(void seen.push(progressOf(m))),
      });
      return { stream, seen };
    };
    expect(await replay(a, first)).toEqual({ stream: "_GET_stream", seen: [2] });
    // B's view: A's event id, and the bare name every session's GET stream has, are unknown.
    await expect(replay(b, first)).rejects.toThrow(/unknown event id/);
    await expect(replay(b, "_GET_stream_0")).rejects.toThrow(/unknown event id/);
    expect(await b.getStreamIdForEventId!(first)).toBeUndefined();
    await store.forgetSession!(sa);
    await expect(replay(a, first)).rejects.toThrow(/unknown event id/);
    expect(await b.getStreamIdForEventId!(own)).toBe("_GET_stream");
  });
});

// Call-stream leases on a real Redis: what a replica following another's stream relies on.
describe.runIf(redisUp)("stream leases in Redis", () => {
  const LEASE_MS = 200;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let store: RedisEventStore;
  let leases: StreamLeases;
  const running = new Set<string | number>();
  beforeAll(async () => {
    store = await RedisEventStore.connect({ url: REDIS_URL, keyPrefix: `toolshed-test:${randomUUID()}` });
    leases = new StreamLeases(
      store,
      LEASE_MS,
      (_sid, id) => running.has(id),
      createLogger({ name: "t", level: "silent" }),
    );
  });
  afterAll(async () => {
    leases.close();
    await store.close();
  });
  const response = (id: number): JSONRPCMessage => ({ jsonrpc: "2.0", id, result: {} });

  it("is written with a call stream's first event, renewed while the call runs, and ended by its response", async () => {
    const session = randomUUID();
    const view = leases.wrap(sessionEventStore(store, session), session);
    running.add(7);
    await leases.whilePosting(session, [7], () => view.storeEvent("s1", {} as JSONRPCMessage));
    expect(await store.streamLease(`${session}.s1`)).toEqual({ requestIds: [7], alive: true });
    await sleep(LEASE_MS * 3);
    expect(await store.streamLease(`${session}.s1`)).toEqual({ requestIds: [7], alive: true });
    await view.storeEvent("s1", response(7));
    running.delete(7);
    // Ended, not lapsed: a follower reads on and finds the response.
    expect(await store.streamLease(`${session}.s1`)).toBeUndefined();
  });

  it("lapses once the call stops running here, and a follower's watch reports the unanswered ids", async () => {
    const session = randomUUID();
    const view = leases.wrap(sessionEventStore(store, session), session);
    running.add(8);
    await leases.whilePosting(session, [8], () => view.storeEvent("s2", msg(1)));
    let lapsedAt = 0;
    const watch = leases.watch(`${session}.s2`, () => (lapsedAt = Date.now()));
    await sleep(LEASE_MS * 2);
    expect(watch.lapsed).toBeUndefined();
    const stopped = Date.now();
    running.delete(8);
    while (!lapsedAt && Date.now() - stopped < 5_000) await sleep(10);
    watch.stop();
    expect(watch.lapsed).toEqual([8]);
    expect(lapsedAt - stopped).toBeLessThan(LEASE_MS * 4);
    // What is left of it goes with the session.
    await store.forgetSession(session);
    expect(await store.streamLease(`${session}.s2`)).toBeUndefined();
  });

  it("leases no stream outside its session's POST, no standalone stream, and no stream whose first event is its response", async () => {
    const session = randomUUID();
    const view = leases.wrap(sessionEventStore(store, session), session);
    await view.storeEvent("s3", msg(1));
    await leases.whilePosting(session, [9], () => view.storeEvent("_GET_stream", msg(1)));
    await leases.whilePosting(session, [10], () => view.storeEvent("s4", response(10)));
    await leases.whilePosting(randomUUID(), [11], () => view.storeEvent("s5", msg(1)));
    for (const s of ["s3", "_GET_stream", "s4", "s5"])
      expect(await store.streamLease(`${session}.${s}`)).toBeUndefined();
  });
});

describe("MemoryEventStore bounds", () => {
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

describe("the idle sweep of 2025 sessions", () => {
  afterEach(() => vi.useRealTimers());

  function session(lastSeen: number, inFlight = 0): SweptSession & { closed: boolean } {
    const s: SweptSession & { closed: boolean } = {
      lastSeen,
      inFlight,
      closed: false,
      transport: {
        close() {
          s.closed = true;
          return Promise.resolve();
        },
      },
    };
    return s;
  }

  it("closes idle sessions, never busy ones, and keeps a busy one's shared record alive", () => {
    vi.useFakeTimers();
    const start = Date.now();
    const sessions = new Map([
      ["idle", session(start)],
      ["busy", session(start - 60_000, 1)],
      ["fresh", session(start)],
    ]);
    const kept: string[] = [];
    const stop = sweepIdleSessions(sessions, {
      idleMs: 1_000,
      logger: createLogger({ name: "t", level: "silent" }),
      keepAlive: (sid) => kept.push(sid),
    });
    vi.advanceTimersByTime(500);
    sessions.get("fresh")!.lastSeen = Date.now(); // a request on it
    vi.advanceTimersByTime(1_000); // ticks at 1.0 s and 1.5 s
    expect([...sessions].filter(([, s]) => s.closed).map(([sid]) => sid)).toEqual(["idle"]);
    expect(kept).toEqual(["busy", "busy", "busy"]);
    stop();
    vi.advanceTimersByTime(5_000);
    expect(sessions.get("fresh")!.closed).toBe(false);
  });

  it("closes nothing on a late tick (the event loop stalled: requests may be waiting unread)", () => {
    vi.useFakeTimers();
    const sessions = new Map([["old", session(Date.now() - 60_000)]]);
    const stop = sweepIdleSessions(sessions, {
      idleMs: 1_000,
      logger: createLogger({ name: "t", level: "silent" }),
    });
    vi.setSystemTime(Date.now() + 10_000); // a stall: the clock ran, the timer did not
    vi.advanceTimersByTime(500);
    expect(sessions.get("old")!.closed).toBe(false);
    vi.advanceTimersByTime(500); // the next tick is on time
    expect(sessions.get("old")!.closed).toBe(true);
    stop();
  });
});
