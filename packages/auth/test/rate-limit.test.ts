import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { needRedis } from "../../../test-support/services.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from "../src/index.js";
import { startBlackhole, unusedPort } from "./helpers/net.js";

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const RUN_PREFIX = `toolshed-test:ratelimit:${process.pid}:${randomUUID()}:`;

/** The real Redis, or a failure that says how to start it: these tests never skip. */
async function connectTestRedis(): Promise<Redis> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  client.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${(lastError ?? (error as Error)).message}). The rate-limit tests need a real Redis: ` +
        `start one with \`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\` ` +
        "(CI starts it), or point TOOLSHED_TEST_REDIS_URL at one.",
    );
  }
}

type Store = "memory" | "redis";
// In CI a missing Redis fails here; elsewhere the Redis half is skipped, saying so.
const redisUp = await needRedis(REDIS_URL);
let testCounter = 0;

describe.each<Store>(redisUp ? ["memory", "redis"] : ["memory"])("createRateLimiter (%s store)", (store) => {
  let admin: Redis | undefined;
  const open: RateLimiter[] = [];

  /** A limiter with its own key space, closed after the test. */
  const limiter = (options: Pick<RateLimiterOptions, "capacity" | "refillPerSecond">): RateLimiter => {
    testCounter += 1;
    const made = createRateLimiter(
      store === "redis"
        ? { ...options, redisUrl: REDIS_URL, keyPrefix: `${RUN_PREFIX}${testCounter}:` }
        : options,
    );
    open.push(made);
    return made;
  };

  beforeAll(async () => {
    if (store === "redis") admin = await connectTestRedis();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    if (admin === undefined) return;
    const leftovers = await admin.keys(`${RUN_PREFIX}*`);
    if (leftovers.length > 0) await admin.del(...leftovers);
    admin.disconnect();
  });

  it("names its store", () => {
    expect(limiter({ capacity: 1, refillPerSecond: 1 }).store).toBe(store);
  });

  it("admits a burst up to capacity, then refuses with the time until the next token", async () => {
    const l = limiter({ capacity: 5, refillPerSecond: 1 });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await l.take("alice"));
    expect(results.slice(0, 5).map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    const refused = results[5]!;
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeGreaterThan(500);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1000); // one token takes 1 s at 1/s
    expect(results.every((r) => r.degraded === undefined)).toBe(true);
  });

  it("refills over time, up to capacity, and retryAfterMs is enough to wait", async () => {
    const l = limiter({ capacity: 2, refillPerSecond: 10 });
    expect((await l.take("k")).allowed).toBe(true);
    expect((await l.take("k")).allowed).toBe(true);
    const refused = await l.take("k");
    expect(refused.allowed).toBe(false);
    await sleep(refused.retryAfterMs + 15);
    expect((await l.take("k")).allowed).toBe(true);

    await sleep(450); // 4.5 tokens' worth of time, but the bucket holds 2
    expect((await l.take("k")).allowed).toBe(true);
    expect((await l.take("k")).allowed).toBe(true);
    expect((await l.take("k")).allowed).toBe(false);
  });

  it("keeps keys independent", async () => {
    const l = limiter({ capacity: 1, refillPerSecond: 0.01 });
    expect((await l.take("principal:a")).allowed).toBe(true);
    expect((await l.take("principal:a")).allowed).toBe(false);
    expect((await l.take("principal:b")).allowed).toBe(true);
    expect((await l.take("principal:a:tool:query")).allowed).toBe(true);
  });

  it("takes a cost larger than one, and says how long the missing tokens take", async () => {
    const l = limiter({ capacity: 10, refillPerSecond: 1 });
    expect(await l.take("k", 4)).toMatchObject({ allowed: true, remaining: 6 });
    expect(await l.take("k", 4)).toMatchObject({ allowed: true, remaining: 2 });
    const refused = await l.take("k", 4);
    expect(refused).toMatchObject({ allowed: false, remaining: 2 });
    expect(refused.retryAfterMs).toBeGreaterThan(1000); // 2 missing tokens at 1/s, minus the time elapsed
    expect(refused.retryAfterMs).toBeLessThanOrEqual(2000);
    expect(await l.take("k", 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("refuses a cost it could never admit, and an empty key", async () => {
    const l = limiter({ capacity: 3, refillPerSecond: 1 });
    await expect(l.take("k", 4)).rejects.toMatchObject({ code: "invalid_input" });
    await expect(l.take("k", 0)).rejects.toThrow(
      /cost must be a positive number no larger than the capacity \(3\)/,
    );
    await expect(l.take("")).rejects.toThrow(/non-empty string/);
    expect(() => createRateLimiter({ capacity: 0, refillPerSecond: 1 })).toThrow(/capacity/);
    expect(() => createRateLimiter({ capacity: 1, refillPerSecond: 0 })).toThrow(/refillPerSecond/);
  });

  it("never over-admits 100 parallel takes on one key", async () => {
    const l = limiter({ capacity: 10, refillPerSecond: 0.001 });
    const results = await Promise.all(Array.from({ length: 100 }, () => l.take("hot")));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterMs > 0)).toBe(true);
  });
});

describe("memory store bounds", () => {
  it("drops idle buckets (refilled to capacity) when it reaches maxKeys", async () => {
    const l = createRateLimiter({ capacity: 2, refillPerSecond: 100, maxKeys: 3 });
    for (const key of ["a", "b", "c"]) await l.take(key);
    expect(l.trackedKeys()).toBe(3);
    await sleep(60); // 20 ms refills a bucket
    await l.take("d");
    expect(l.trackedKeys()).toBe(1);
    await l.close();
    expect(l.trackedKeys()).toBe(0);
  });

  it("drops the least recently used bucket when none is idle", async () => {
    const l = createRateLimiter({ capacity: 1, refillPerSecond: 0.001, maxKeys: 3 });
    for (const key of ["a", "b", "c"]) expect((await l.take(key)).allowed).toBe(true);
    expect((await l.take("a")).allowed).toBe(false); // a is now the most recently used
    expect((await l.take("d")).allowed).toBe(true); // evicts b
    expect(l.trackedKeys()).toBe(3);
    expect((await l.take("a")).allowed).toBe(false);
    expect((await l.take("c")).allowed).toBe(false);
    await l.close();
  });
});

describe.runIf(redisUp)("redis store", () => {
  let admin: Redis;
  const prefix = `${RUN_PREFIX}redis-only:`;
  const open: RateLimiter[] = [];
  const onErrors: Error[] = [];

  beforeAll(async () => {
    admin = await connectTestRedis();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    const leftovers = await admin.keys(`${prefix}*`);
    if (leftovers.length > 0) await admin.del(...leftovers);
    admin.disconnect();
  });

  const make = (options: Partial<RateLimiterOptions> = {}): RateLimiter => {
    const l = createRateLimiter({
      capacity: 3,
      refillPerSecond: 1,
      redisUrl: REDIS_URL,
      keyPrefix: prefix,
      onError: (e) => onErrors.push(e),
      ...options,
    });
    open.push(l);
    return l;
  };

  it("shares buckets between limiters (replicas) with the same prefix", async () => {
    const a = make();
    const b = make();
    expect((await a.take("shared")).allowed).toBe(true);
    expect((await b.take("shared")).allowed).toBe(true);
    expect((await a.take("shared")).allowed).toBe(true);
    expect(await b.take("shared")).toMatchObject({ allowed: false, remaining: 0 });
    expect(a.trackedKeys()).toBeUndefined();
  });

  it("stores a bucket as one hash with a PEXPIRE of its time to refill", async () => {
    const l = make({ capacity: 3, refillPerSecond: 1 });
    await l.take("expiring", 2);
    const key = `${prefix}expiring`;
    expect(await admin.type(key)).toBe("hash");
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(1500); // 2 tokens at 1/s
    expect(ttl).toBeLessThanOrEqual(2000);
  });

  it("recovers when the script cache is flushed (EVALSHA falls back to EVAL)", async () => {
    const l = make();
    expect((await l.take("flush")).allowed).toBe(true);
    await admin.script("FLUSH");
    expect(await l.take("flush")).toMatchObject({ allowed: true, remaining: 1 });
  });

  it.each([
    ["allow", true, 0],
    ["deny", false, 1000],
  ] as const)(
    "answers degraded within bounds when Redis is down (onStoreError %s)",
    async (onStoreError, allowed, retryAfterMs) => {
      const port = await unusedPort();
      const errors: Error[] = [];
      const l = make({
        redisUrl: `redis://127.0.0.1:${port}`,
        onStoreError,
        connectTimeoutMs: 300,
        commandTimeoutMs: 300,
        onError: (e) => errors.push(e),
      });
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect(await l.take("k")).toEqual({ allowed, remaining: 0, retryAfterMs, degraded: true });
        expect(Date.now() - started).toBeLessThan(1000);
      }
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]!.message).toMatch(/ECONNREFUSED/);
    },
  );

  it("answers degraded after commandTimeoutMs when Redis accepts but never replies", async () => {
    const blackhole = await startBlackhole();
    try {
      const l = make({
        redisUrl: `redis://127.0.0.1:${blackhole.port}`,
        commandTimeoutMs: 200,
        connectTimeoutMs: 200,
      });
      const started = Date.now();
      expect(await l.take("k")).toMatchObject({ allowed: true, degraded: true });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await blackhole.close();
    }
  });

  it("check() resolves when Redis answers and names the URL, without its password, when not", async () => {
    await expect(make().check()).resolves.toBeUndefined();
    const port = await unusedPort();
    const down = make({ redisUrl: `redis://:s3cr3t-pw@127.0.0.1:${port}/2`, commandTimeoutMs: 300 });
    const error = await down.check().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/2: `));
    expect(error?.message).not.toContain("s3cr3t-pw");
    await expect(createRateLimiter({ capacity: 1, refillPerSecond: 1 }).check()).resolves.toBeUndefined();
  });

  it("answers degraded after close instead of hanging", async () => {
    const l = make();
    await l.close();
    expect(await l.take("k")).toMatchObject({ allowed: true, degraded: true });
  });
});
