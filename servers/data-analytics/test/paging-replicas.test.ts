import { createHash, randomBytes } from "node:crypto";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { connectRedis } from "@toolshed/server";
import {
  callTool,
  connectHttpClient,
  eventually,
  startServerProcess,
  type CallResult,
  type Client,
  type ServerProcess,
} from "@toolshed/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { redisProxy } from "../../../test-support/redis-proxy.js";
import { needRedis } from "../../../test-support/services.js";
import { RedisResultCursors } from "../src/redis-result-cursors.js";
import {
  KEPT_RESULT_BYTES,
  MemoryResultCursors,
  parseCursor,
  type KeptBounds,
  type KeptResult,
  type ResultCursors,
} from "../src/result-cursors.js";
import { tempDataDir } from "./helpers.js";

// Cursors shared through Redis (TOOLSHED_REDIS_URL): replicas of the built bin on HTTP, sharing one
// real Redis, read each other's results through 2026-07-28 clients (stateless: any request may land
// on any replica). Each run keeps its keys under a prefix of its own, given in the Redis URL
// (`?keyPrefix=`, which the kit's Redis client applies to every key), so runs never see each other's
// results or bounds. The store itself (the total bound, the keys) is tested against the same Redis.

vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp = await needRedis(REDIS_URL);
const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
const KEYS = { alice: "tsk_alice_0123456789abcdef", bob: "tsk_bob_0123456789abcdef" };
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const API_KEYS = Object.entries(KEYS)
  .map(([id, key]) => `${id}:${sha(key)}:*`)
  .join(";");

/** A key prefix of its own for one run or test, and the Redis URL that applies it. */
function keySpace(): { prefix: string; url: string } {
  const prefix = `toolshed-test:cursors-${randomBytes(4).toString("hex")}:`;
  const url = new URL(REDIS_URL);
  url.searchParams.set("keyPrefix", prefix);
  return { prefix, url: url.toString() };
}

/** Every key under `prefix` (to read them in the tests), and a way to delete them all. */
async function rawRedis() {
  const redis = await connectRedis(REDIS_URL);
  return {
    redis,
    keys: (prefix: string) => redis.keys(`${prefix}*`),
    async drop(prefix: string) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    },
  };
}

/** The bin on HTTP on loopback with its own data dir, API keys for alice and bob, and `args`. */
async function replica(redisUrl: string, args: string[] = []): Promise<ServerProcess & { cleanup(): void }> {
  const data = tempDataDir();
  const proc = await startServerProcess(BIN, {
    args: ["--data-dir", data.dir, "--redis-url", redisUrl, ...args],
    env: { TOOLSHED_API_KEYS: API_KEYS, TOOLSHED_LOG_LEVEL: "info" },
    waitReady: true,
    startTimeoutMs: 60_000,
  });
  return Object.assign(proc, { cleanup: () => data.cleanup() });
}

const as = (who: keyof typeof KEYS, url: string): Promise<Client> =>
  connectHttpClient(url, {}, { authorization: `Bearer ${KEYS[who]}` }, "modern");

// 216 rows with a unique key k and no ORDER BY: the pages come from one run, in that run's order.
const CROSS = "SELECT a.r * 100 + b.r * 10 + c.r AS k FROM range(6) a(r), range(6) b(r), range(6) c(r)";

describe.runIf(redisUp)("cursors shared by replicas through Redis", () => {
  const space = keySpace();
  let raw: Awaited<ReturnType<typeof rawRedis>>;
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;
  let short: Awaited<ReturnType<typeof replica>>;
  const clients: Client[] = [];
  const client = async (who: keyof typeof KEYS, r: ServerProcess) => {
    const c = await as(who, r.url);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    raw = await rawRedis();
    const big = ["--max-rows", "10000", "--cursor-max-rows", "100000"];
    // A third replica whose results Redis drops after 3 s.
    [a, b, short] = await Promise.all([
      replica(space.url, big),
      replica(space.url, big),
      replica(space.url, ["--cursor-ttl-ms", "3000"]),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled([a, b, short].map((r) => r?.stop()));
    for (const r of [a, b, short]) r?.cleanup();
    await raw?.drop(space.prefix);
    await raw?.redis.quit();
  });

  it("page 1 from replica A, pages 2 and 3 from replica B: the rows of one run, none repeated or shifted", async () => {
    const onA = await client("alice", a);
    const onB = await client("alice", b);
    const whole = await callTool(onA, "query", { sql: CROSS, limit: 1_000 });
    expect(whole.data).toMatchObject({ rowCount: 216, truncated: false });

    const first = await callTool(onA, "query", { sql: CROSS, limit: 80 });
    expect(first.data).toMatchObject({ rowCount: 80, offset: 0, totalRows: 216, remainingRows: 136 });
    expect(first.text).toMatch(
      /Next page: query \{"cursor":"[A-Za-z0-9_-]{22}\.80"\} \(136 rows left, kept 10 min\)/,
    );
    const second = await callTool(onB, "query", { cursor: first.data.cursor });
    expect(second.isError, second.text).toBeFalsy();
    expect(second.data).toMatchObject({ rowCount: 80, offset: 80, totalRows: 216, remainingRows: 56 });
    const third = await callTool(onB, "query", { cursor: second.data.cursor });
    expect(third.isError, third.text).toBeFalsy();
    expect(third.data).toMatchObject({ rowCount: 56, offset: 160, truncated: false });
    expect(third.data.cursor).toBeUndefined();
    expect(third.text).toMatch(/Rows 161-216 of 216 \(the last page\)\./);

    const rows = [first, second, third].flatMap((p) => p.data.rows as number[][]);
    const keys = rows.map((r) => r[0]);
    expect(new Set(keys).size).toBe(216);
    expect([...keys].sort((x, y) => x! - y!)).toEqual(
      (whole.data.rows as number[][]).map((r) => r[0]).sort((x, y) => x! - y!),
    );
    // A page read again from the other replica is the same page (a retry after a lost answer).
    const again = await callTool(onA, "query", { cursor: first.data.cursor });
    expect(again.data.rows).toEqual(second.data.rows);
  });

  it("another principal on replica B gets the one invalid_input error; the owner still reads it", async () => {
    const alice = await client("alice", a);
    const bob = await client("bob", b);
    const first = await callTool(alice, "query", { sql: CROSS, limit: 100 });
    const cursor = first.data.cursor as string;
    const stolen = await callTool(bob, "query", { cursor });
    expect(stolen.isError).toBe(true);
    expect(stolen.text).toMatch(
      /^invalid_input: cursor '[^']+' is unknown or expired \(results are kept for 10 min after their query, for the caller that ran it\); run the query again with sql$/,
    );
    // Bob's answer is the one a cursor that never existed gets.
    const made = `${"A".repeat(22)}.100`;
    const never = await callTool(bob, "query", { cursor: made });
    expect(never.text).toBe(stolen.text.replace(cursor, made));
    const own = await callTool(await client("alice", b), "query", { cursor });
    expect(own.isError, own.text).toBeFalsy();
    expect(own.data.offset).toBe(100);
  });

  it("cursor ids are random and the key in Redis is not the id: it needs the owner too", async () => {
    const alice = await client("alice", a);
    const cursors = await Promise.all(
      [0, 1, 2].map(
        async () => (await callTool(alice, "query", { sql: CROSS, limit: 10 })).data.cursor as string,
      ),
    );
    const ids = cursors.map((c) => parseCursor(c)!.id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(Buffer.from(id, "base64url")).toHaveLength(16);
    const keys = await raw.keys(space.prefix);
    expect(keys.some((k) => ids.some((id) => k.includes(id)))).toBe(false);
    expect(keys.filter((k) => k.includes(":result:")).length).toBeGreaterThanOrEqual(3);
  });

  it("expires with Redis's own TTL: a result of the replica with --cursor-ttl-ms 3000 is gone on replica A after it", async () => {
    const onShort = await client("alice", short);
    const onA = await client("alice", a);
    const first = await callTool(onShort, "query", { sql: CROSS, limit: 100 });
    const kept = Date.now();
    expect(first.text).toMatch(/kept 3 s\)/);
    const cursor = first.data.cursor as string;
    // The key carries the expiry itself (PX), whichever replica reads it.
    const ttls = await Promise.all(
      (await raw.keys(space.prefix)).filter((k) => k.includes(":result:")).map((k) => raw.redis.pttl(k)),
    );
    expect(ttls.some((t) => t > 0 && t <= 3_000)).toBe(true);
    expect(ttls.every((t) => t > 0)).toBe(true);
    const soon = await callTool(onA, "query", { cursor });
    expect(soon.isError, soon.text).toBeFalsy();
    await new Promise((r) => setTimeout(r, kept + 3_300 - Date.now()));
    const late = await callTool(onA, "query", { cursor });
    expect(late.isError).toBe(true);
    expect(late.text).toMatch(/unknown or expired .*; run the query again with sql/);
  });

  it("keeps at most 16 MiB of one result, and its last kept page says where paging stops", async () => {
    const onA = await client("alice", a);
    const onB = await client("alice", b);
    // 100,000 rows of exactly 213 bytes of JSON each (["000123","x…x"]): 21 MB, past the cap.
    const sql = "SELECT lpad(range::VARCHAR, 6, '0') AS k, repeat('x', 200) AS pad FROM range(100000)";
    const first = await callTool(onA, "query", { sql, limit: 100 });
    expect(first.isError, first.text).toBeFalsy();
    const kept = Math.floor(KEPT_RESULT_BYTES / 213);
    expect(first.data).toMatchObject({ rowCount: 100, totalRows: 100_000, remainingRows: kept });
    const end = 100 + kept;
    // The last 30 kept rows, read from B at a cursor of the same result.
    const near = `${parseCursor(first.data.cursor as string)!.id}.${end - 30}`;
    const last = await callTool(onB, "query", { cursor: near });
    expect(last.isError, last.text).toBeFalsy();
    expect(last.data).toMatchObject({ rowCount: 30, offset: end - 30, truncated: true });
    expect(last.data.cursor).toBeUndefined();
    expect(last.data.hint).toMatch(
      new RegExp(`Paging stops at row ${end}, the last the server keeps .*16 MiB`),
    );
    const past = await callTool(onB, "query", { cursor: `${parseCursor(near)!.id}.${end}` });
    expect(past.text).toMatch(/unknown or expired/);
    // What Redis holds: the head and the kept rows, and the bytes counted for the total bound.
    const lengths = await Promise.all(
      (await raw.keys(space.prefix)).filter((k) => k.includes(":result:")).map((k) => raw.redis.llen(k)),
    );
    expect(lengths).toContain(kept + 1);
    const counted = Number(await raw.redis.get(`${space.prefix}toolshed:data-analytics:cursors:bytes`));
    expect(counted).toBeGreaterThan(kept * 213);
  });
});

describe.runIf(redisUp)("a replica whose Redis goes away", () => {
  const space = keySpace();
  let proxy: Awaited<ReturnType<typeof redisProxy>>;
  let r: Awaited<ReturnType<typeof replica>>;
  let alice: Client;
  let raw: Awaited<ReturnType<typeof rawRedis>>;

  beforeAll(async () => {
    raw = await rawRedis();
    proxy = await redisProxy(new URL(REDIS_URL));
    const url = new URL(space.url);
    url.host = `127.0.0.1:${proxy.port}`;
    r = await replica(url.toString());
    alice = await as("alice", r.url);
  });
  afterAll(async () => {
    await alice?.close();
    await r?.stop();
    r?.cleanup();
    await proxy?.close();
    await raw?.drop(space.prefix);
    await raw?.redis.quit();
  });

  it("fails a page read with a clear retryable error, answers new queries without a cursor saying why, and pages again once Redis is back", async () => {
    const first = await callTool(alice, "query", { sql: CROSS, limit: 100 });
    expect(first.data.cursor).toEqual(expect.any(String));
    const before = await callTool(alice, "query", { cursor: first.data.cursor });
    expect(before.isError, before.text).toBeFalsy();

    proxy.cut();
    const started = Date.now();
    const down = await callTool(alice, "query", { cursor: first.data.cursor });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(down.isError).toBe(true);
    expect(down.text).toMatch(
      /^upstream_unavailable: the store that keeps query results for paging \(Redis\) did not answer; read this cursor again in a few seconds .* \(retryable\)$/,
    );
    const fresh = await callTool(alice, "query", { sql: CROSS, limit: 100 });
    expect(fresh.isError, fresh.text).toBeFalsy();
    expect(fresh.data).toMatchObject({ rowCount: 100, totalRows: 216, truncated: true });
    expect(fresh.data.cursor).toBeUndefined();
    expect(fresh.data.remainingRows).toBeUndefined();
    expect(fresh.text).toMatch(
      /100 of 216 rows \(truncated\)\. The rows after this page could not be kept for paging \(the server's shared store, Redis, did not answer\)/,
    );
    await eventually(() =>
      expect(r.stderr()).toMatch(/Redis failed while .*query cursors cannot be kept or read/),
    );

    proxy.restore();
    let again: CallResult | undefined;
    await eventually(async () => {
      again = await callTool(alice, "query", { cursor: first.data.cursor });
      expect(again.isError, again.text).toBeFalsy();
    }, 15_000);
    expect(again!.data.rows).toEqual(before.data.rows);
  });
});

describe.runIf(redisUp)("the Redis store's bound on all results together", () => {
  let raw: Awaited<ReturnType<typeof rawRedis>>;
  let space: { prefix: string; url: string };
  let store: RedisResultCursors;
  beforeAll(async () => {
    raw = await rawRedis();
  });
  beforeEach(async () => {
    space = keySpace();
    store = await RedisResultCursors.connect(space.url, {
      ttlMs: 60_000,
      keyPrefix: "c",
      maxTotalBytes: 5_000,
    });
  });
  afterEach(async () => {
    await store.close();
    await raw.drop(space.prefix);
  });
  afterAll(async () => {
    await raw?.redis.quit();
  });

  const result = (n: number): { result: KeptResult; bytes: number } => {
    const rows = Array.from({ length: 10 }, (_, i) => [n * 100 + i, "y".repeat(100)]);
    const bytes = rows.reduce((s, row) => s + Buffer.byteLength(JSON.stringify(row)), 0);
    return {
      result: {
        columns: [{ name: "n", type: "BIGINT" }],
        base: 5,
        rows,
        totalRows: 15,
        more: false,
        pageRows: 5,
      },
      bytes,
    };
  };

  it("drops the results that expire first once the total passes the bound, and counts only what it holds", async () => {
    const cursors: string[] = [];
    // About 1.2 KB each with the head: four fit in 5,000 bytes, the fifth pushes the first out.
    for (let n = 0; n < 6; n++) {
      const { result: r, bytes } = result(n);
      cursors.push(await store.keep("alice", r, bytes));
    }
    const readable = await Promise.all(
      cursors.map((c) =>
        store.read(c, "alice").then(
          (p) => p.rows[0]![0],
          () => "gone",
        ),
      ),
    );
    expect(readable).toEqual(["gone", "gone", 200, 300, 400, 500]);
    const p = `${space.prefix}c:`;
    const counted = Number(await raw.redis.get(`${p}bytes`));
    expect(counted).toBeLessThanOrEqual(5_000);
    expect(await raw.redis.zcard(`${p}index`)).toBe(4);
    const sizes = Object.values(await raw.redis.hgetall(`${p}sizes`)).map(Number);
    expect(sizes.reduce((s, x) => s + x, 0)).toBe(counted);
    expect((await raw.keys(`${p}result:`)).length).toBe(4);
    // Redis's own expiry on every key; the bookkeeping lives as long as the longest-lived result.
    for (const key of await raw.keys(p)) {
      const ttl = await raw.redis.pttl(key);
      expect(ttl, key).toBeGreaterThan(50_000);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
    }
  });

  it("forgets results Redis expired when the next one is kept", async () => {
    const brief = await RedisResultCursors.connect(space.url, {
      ttlMs: 200,
      keyPrefix: "c",
      maxTotalBytes: 5_000,
    });
    try {
      const { result: r, bytes } = result(1);
      await brief.keep("alice", r, bytes);
      await brief.keep("alice", r, bytes);
      await new Promise((done) => setTimeout(done, 400));
      const { result: r2, bytes: b2 } = result(2);
      const cursor = await store.keep("alice", r2, b2);
      const p = `${space.prefix}c:`;
      const names = await raw.redis.zrange(`${p}index`, "0", "-1");
      expect(names).toHaveLength(1);
      expect(await raw.redis.get(`${p}bytes`)).toBe(await raw.redis.hget(`${p}sizes`, names[0]!));
      expect((await store.read(cursor, "alice")).rows[0]).toEqual([200, "y".repeat(100)]);
      // A page asked for by size: rows from the cursor's row, the count asked for.
      const page = await store.read(cursor.replace(/\.\d+$/, ".7"), "alice", 3);
      expect(page.rows.map((row) => row[0])).toEqual([202, 203, 204]);
      await expect(store.read(cursor, "bob")).rejects.toThrow(/unknown or expired/);
    } finally {
      await brief.close();
    }
  });
});

// One caller's share: a caller that keeps result after result pushes out its own oldest, not the
// other callers'. The same scenario on both stores (about 1.2 KB a result with its head in Redis).
describe.each([
  [
    "memory",
    (bounds: KeptBounds) =>
      Promise.resolve({ store: new MemoryResultCursors(60_000, bounds), done: () => Promise.resolve() }),
  ],
  [
    "Redis",
    async (bounds: KeptBounds) => {
      if (!redisUp) return undefined;
      const space = keySpace();
      const store = await RedisResultCursors.connect(space.url, { ttlMs: 60_000, keyPrefix: "c", ...bounds });
      const raw = await rawRedis();
      return {
        store,
        done: async () => {
          await store.close();
          await raw.drop(space.prefix);
          await raw.redis.quit();
        },
      };
    },
  ],
] as const)("the %s store's share per caller", (kind, open) => {
  const rows = (n: number) => Array.from({ length: 10 }, (_, i) => [n * 100 + i, "y".repeat(100)]);
  const keep = (store: ResultCursors, owner: string, n: number) => {
    const r = rows(n);
    const bytes = r.reduce((s, row) => s + Buffer.byteLength(JSON.stringify(row)), 0);
    return store.keep(
      owner,
      { columns: [{ name: "n", type: "BIGINT" }], base: 5, rows: r, totalRows: 15, more: false, pageRows: 5 },
      bytes,
    );
  };
  const first = (store: ResultCursors, owner: string, cursor: string) =>
    store.read(cursor, owner).then(
      (p) => p.rows[0]![0],
      () => "gone",
    );

  it.skipIf(kind === "Redis" && !redisUp)(
    "drops the busy caller's own oldest results, and keeps the other caller's",
    async () => {
      const opened = await open({ maxTotalBytes: 10_000, maxOwnerBytes: 3_000 });
      const { store, done } = opened!;
      try {
        const bobs = await keep(store, "bob", 9);
        const alices: string[] = [];
        for (let n = 0; n < 5; n++) alices.push(await keep(store, "alice", n));
        // Two of alice's fit in her 3,000 bytes; her newest two are left, and bob's is untouched.
        expect(await Promise.all(alices.map((c) => first(store, "alice", c)))).toEqual([
          "gone",
          "gone",
          "gone",
          300,
          400,
        ]);
        expect(await first(store, "bob", bobs)).toBe(900);
        // Bob's share is his own: his next results do not touch alice's.
        const bobs2 = await keep(store, "bob", 8);
        expect(await first(store, "bob", bobs2)).toBe(800);
        expect(await first(store, "alice", alices[4]!)).toBe(400);
      } finally {
        await done();
      }
    },
  );
});
