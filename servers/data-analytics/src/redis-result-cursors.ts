import { createHash } from "node:crypto";
import { connectRedis, ToolshedError, type SetupContext } from "@toolshed/server";
import type { Cell } from "./engine/engine.js";
import {
  cursorOf,
  headOf,
  holds,
  KEPT_OWNER_BYTES,
  KEPT_TOTAL_BYTES,
  newCursorId,
  parseCursor,
  unknownCursor,
  type KeptHead,
  type KeptPage,
  type KeptResult,
  type ResultCursors,
} from "./result-cursors.js";

type Redis = Awaited<ReturnType<typeof connectRedis>>;
type Log = Pick<SetupContext<unknown>["log"], "warn">;

/** Rows per RPUSH while keeping a result (a long result is several pushes in one transaction). */
const PUSH_BATCH = 1_000;

/**
 * The bookkeeping of a result just kept, on Redis time (in microseconds, so results kept in one
 * millisecond still order by arrival): results past their ttl (Redis has dropped
 * their rows) leave the index `KEYS[1]` (name -> expiry), the sizes `KEYS[2]` (name -> bytes) and the
 * total `KEYS[3]`; the new one `ARGV[1]` (`ARGV[3]` bytes, kept `ARGV[2]` ms) joins them and its
 * owner's index `KEYS[5]` (name -> expiry). While the owner's results (those of its index still in
 * the sizes) hold more than `ARGV[5]`, the owner's result that expires first is deleted; then, while
 * the total is over `ARGV[4]`, everyone's (its key is `KEYS[4]` .. name: the prefix is passed as a
 * key so that a client-side key prefix applies to it as to the others). Another owner's index keeps
 * the name of a result deleted for the total until that owner keeps one again (it is not in the
 * sizes then, so it counts for nothing). The bookkeeping keys live as long as the longest-lived
 * result. Returns how many were deleted.
 */
const KEEP = `
local t = redis.call('TIME')
-- Microseconds, so that two results kept in the same millisecond still order by when they came.
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ttl = tonumber(ARGV[2]) * 1000
local total = tonumber(redis.call('GET', KEYS[3]) or '0')
local function forget(name)
  total = total - tonumber(redis.call('HGET', KEYS[2], name) or '0')
  redis.call('HDEL', KEYS[2], name)
  redis.call('ZREM', KEYS[1], name)
end
local function drop(name)
  redis.call('DEL', KEYS[4] .. name)
  forget(name)
end
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do forget(name) end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[5], now + ttl, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
total = total + tonumber(ARGV[3])
local dropped = 0
local mine = {}
local owned = 0
for _, name in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
  local size = redis.call('HGET', KEYS[2], name)
  if size then
    table.insert(mine, name)
    owned = owned + tonumber(size)
  else
    redis.call('ZREM', KEYS[5], name)
  end
end
for _, name in ipairs(mine) do
  if owned <= tonumber(ARGV[5]) or name == ARGV[1] then break end
  owned = owned - tonumber(redis.call('HGET', KEYS[2], name) or '0')
  drop(name)
  redis.call('ZREM', KEYS[5], name)
  dropped = dropped + 1
end
while total > tonumber(ARGV[4]) do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not first or first == ARGV[1] then break end
  drop(first)
  dropped = dropped + 1
end
redis.call('SET', KEYS[3], math.max(total, 0), 'KEEPTTL')
for _, key in ipairs({KEYS[1], KEYS[2], KEYS[3], KEYS[5]}) do
  if redis.call('PTTL', key) < tonumber(ARGV[2]) then redis.call('PEXPIRE', key, ARGV[2]) end
end
return dropped`;

/**
 * One page of the result `KEYS[1]` (a list: its head's JSON, then one JSON row per item): the head
 * and up to `ARGV[2]` rows (its page size when 0) from row `ARGV[1]` of the result; the head alone
 * when that row was not kept; nothing when the result is gone.
 */
const READ = `
local meta = redis.call('LINDEX', KEYS[1], 0)
if not meta then return {} end
local head = cjson.decode(meta).head
local from = tonumber(ARGV[1]) - head.base
if from < 0 or from >= head['end'] - head.base then return {meta} end
local n = tonumber(ARGV[2])
if n < 1 then n = head.pageRows end
local page = redis.call('LRANGE', KEYS[1], from + 1, from + n)
table.insert(page, 1, meta)
return page`;

export interface RedisResultCursorsOptions {
  ttlMs: number;
  /**
   * Keys are `<keyPrefix>:result:<name>`, and `<keyPrefix>:index`, `:sizes`, `:bytes` and
   * `:owner:<hash of the owner>` for the bounds.
   */
  keyPrefix: string;
  /** The most bytes all kept results hold together, for every replica (default KEPT_TOTAL_BYTES). */
  maxTotalBytes?: number;
  /** The most bytes one caller's kept results hold together, for every replica (default KEPT_OWNER_BYTES). */
  maxOwnerBytes?: number;
  log?: Log;
}

/**
 * Results kept in the Redis the replicas share, so a cursor from one replica reads on any other:
 * one list per result (its head, then its rows, one JSON each), which Redis itself expires `ttlMs`
 * after the query (PEXPIRE in the transaction that writes it). The key of a result is a hash of its
 * cursor id and its owner, so another caller's lookup of the same id finds nothing, and the head
 * names the owner, checked again on every read. One caller's results stay within `maxOwnerBytes`
 * (its own go first) and all replicas' results together within `maxTotalBytes`: an index of results
 * by expiry, one per owner, and their sizes, updated in one script with each new result, drop the
 * results that expire first. Commands fail fast while Redis is down (the kit's
 * connection has no offline queue and a 2 s command timeout): a page read then fails with a
 * retryable error, and a new query answers its first page without a cursor (see query.ts).
 */
export class RedisResultCursors implements ResultCursors {
  readonly ttlMs: number;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxTotalBytes: number;
  readonly #maxOwnerBytes: number;
  readonly #log: Log | undefined;
  #lastWarned = 0;

  constructor(redis: Redis, options: RedisResultCursorsOptions) {
    this.#redis = redis;
    this.ttlMs = options.ttlMs;
    this.#prefix = options.keyPrefix;
    this.#maxTotalBytes = options.maxTotalBytes ?? KEPT_TOTAL_BYTES;
    this.#maxOwnerBytes = options.maxOwnerBytes ?? KEPT_OWNER_BYTES;
    this.#log = options.log;
  }

  /** Connects with the kit's bounded timeouts and checks Redis answers before returning. */
  static async connect(url: string, options: RedisResultCursorsOptions): Promise<RedisResultCursors> {
    return new RedisResultCursors(await connectRedis(url), options);
  }

  async keep(owner: string, result: KeptResult, bytes: number): Promise<string> {
    const id = newCursorId();
    const name = entryName(id, owner);
    const key = this.#entryKey(name);
    const meta = JSON.stringify({ owner, head: headOf(result) });
    const tx = this.#redis.multi().rpush(key, meta);
    for (let i = 0; i < result.rows.length; i += PUSH_BATCH) {
      tx.rpush(key, ...result.rows.slice(i, i + PUSH_BATCH).map((row) => JSON.stringify(row)));
    }
    // The expiry is Redis's own, set with the rows: the result goes even if the bookkeeping failed.
    tx.pexpire(key, this.ttlMs);
    tx.eval(
      KEEP,
      5,
      this.#key("index"),
      this.#key("sizes"),
      this.#key("bytes"),
      this.#entryKey(""),
      this.#key(`owner:${createHash("sha256").update(owner).digest("base64url")}`),
      name,
      this.ttlMs,
      bytes + Buffer.byteLength(meta),
      this.#maxTotalBytes,
      this.#maxOwnerBytes,
    );
    try {
      const replies = await tx.exec();
      // A transaction answers each command's error in its reply rather than rejecting.
      const failed = replies?.find(([err]) => err)?.[0];
      if (!replies || failed) throw failed ?? new Error("the transaction was discarded");
    } catch (err) {
      this.#warn("keeping a result for paging", err);
      throw new ToolshedError(
        "upstream_unavailable",
        "the store that keeps results for paging (Redis) did not answer",
        { cause: err },
      );
    }
    return cursorOf(id, result.base);
  }

  async read(cursor: string, owner: string, count?: number): Promise<KeptPage> {
    const at = parseCursor(cursor);
    if (!at) throw unknownCursor(cursor, this.ttlMs, "");
    let reply: string[];
    try {
      reply = (await this.#redis.eval(
        READ,
        1,
        this.#entryKey(entryName(at.id, owner)),
        at.offset,
        count ?? 0,
      )) as string[];
    } catch (err) {
      this.#warn("reading a page of a kept result", err);
      throw new ToolshedError(
        "upstream_unavailable",
        "the store that keeps query results for paging (Redis) did not answer; read this cursor again in a few seconds (it stays valid until it expires), or run the query again with sql",
        { cause: err, retryable: true },
      );
    }
    const [meta, ...rows] = reply;
    const kept = meta === undefined ? undefined : (JSON.parse(meta) as { owner: string; head: KeptHead });
    if (!kept || kept.owner !== owner || !holds(kept.head, at.offset)) {
      throw unknownCursor(cursor, this.ttlMs, "");
    }
    return { id: at.id, offset: at.offset, head: kept.head, rows: rows.map((r) => JSON.parse(r) as Cell[]) };
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(what: string): string {
    return `${this.#prefix}:${what}`;
  }

  #entryKey(name: string): string {
    return `${this.#prefix}:result:${name}`;
  }

  /** Logs a failed Redis command (what it was for, the error), at most once a minute. */
  #warn(what: string, err: unknown): void {
    const now = Date.now();
    if (now - this.#lastWarned < 60_000) return;
    this.#lastWarned = now;
    this.#log?.warn(
      { err: (err as Error).message },
      `Redis failed while ${what}; query cursors cannot be kept or read until it is back`,
    );
  }
}

/** A result's name in Redis: a hash of its cursor id and its owner, so the id alone finds nothing. */
function entryName(id: string, owner: string): string {
  return createHash("sha256").update(`${id}:${owner}`).digest("base64url");
}
