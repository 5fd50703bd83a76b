import type { Redis } from "ioredis";
import { connectRedis } from "../redis.js";
import { expiresAt, TERMINAL, type TaskMutation, type TaskRecord, type TaskStore } from "./store.js";

export interface RedisTaskStoreOptions {
  /** e.g. redis://127.0.0.1:6379 (TOOLSHED_REDIS_URL). */
  url: string;
  /** Key prefix, so several servers can share one Redis. Default "toolshed:tasks". */
  keyPrefix?: string;
}

/**
 * Writes `ARGV[2]` only if the key still holds `ARGV[1]` (compare-and-set), keeping its TTL, and
 * files the task (`ARGV[4]`) in the lease index `KEYS[2]` under its lease `ARGV[3]`, or takes it out
 * when `ARGV[3]` is "" (a finished task).
 */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[2], ARGV[4])
  else
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  end
  return 1
end
return 0`;

/**
 * Up to `ARGV[2]` ids from the lease index `KEYS[1]` whose lease ended before `ARGV[1]`; an id whose
 * task is gone (its ttl passed) is dropped from the index instead. Task keys are `ARGV[3]` + id.
 */
const LAPSED = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local live = {}
for _, id in ipairs(ids) do
  if redis.call('EXISTS', ARGV[3] .. id) == 1 then
    table.insert(live, id)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return live`;

/** How often an update is retried when another replica wrote the same task in between. */
const MAX_ATTEMPTS = 20;

/**
 * Tasks in Redis: one JSON value per task that expires with the task's ttl, a sorted set per
 * owner (scored by expiry) that bounds how many tasks one caller keeps, and one sorted set of the
 * live tasks scored by lease, which replicas sweep for tasks whose replica stopped (lapsed()).
 * Updates are compare-and-set on the whole value, so a replica writing progress and another
 * writing a cancel or an answer never lose each other's change.
 */
export class RedisTaskStore implements TaskStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  private constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /** Connects (with bounded timeouts) and checks the server answers before returning. */
  static async connect(options: RedisTaskStoreOptions): Promise<RedisTaskStore> {
    return new RedisTaskStore(await connectRedis(options.url), options.keyPrefix ?? "toolshed:tasks");
  }

  async create(record: TaskRecord, maxPerOwner: number): Promise<boolean> {
    const owner = this.#ownerKey(record.owner);
    const now = Date.now();
    const replies = await this.#redis.multi().zremrangebyscore(owner, "-inf", now).zcard(owner).exec();
    const count = Number(replies?.[1]?.[1] ?? 0);
    if (count >= maxPerOwner) return false;
    const expiry = expiresAt(record);
    await this.#redis
      .multi()
      .set(this.#key(record.taskId), JSON.stringify(record), "PX", Math.max(1, expiry - now))
      .zadd(owner, expiry, record.taskId)
      .pexpireat(owner, expiry)
      .zadd(this.#leasesKey(), record.leaseUntil, record.taskId)
      .exec();
    return true;
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const raw = await this.#redis.get(this.#key(taskId));
    return raw === null ? undefined : (JSON.parse(raw) as TaskRecord);
  }

  async update(taskId: string, mutate: TaskMutation): Promise<TaskRecord | undefined> {
    const key = this.#key(taskId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = await this.#redis.get(key);
      if (raw === null) return undefined;
      const current = JSON.parse(raw) as TaskRecord;
      const next = mutate(structuredClone(current));
      if (!next) return current;
      const lease = TERMINAL.has(next.status) ? "" : String(next.leaseUntil);
      const written = await this.#redis.eval(
        COMPARE_AND_SET,
        2,
        key,
        this.#leasesKey(),
        raw,
        JSON.stringify(next),
        lease,
        taskId,
      );
      if (written === 1) return next;
    }
    throw new Error(`task ${taskId} is being written too often to update; retry`);
  }

  async lapsed(now: number, limit: number): Promise<string[]> {
    // The script names task keys itself, so they get the prefix the client adds to KEYS (a
    // `?keyPrefix=` in the Redis URL) here; without it every lapsed task looked gone.
    const taskKeys = (this.#redis.options.keyPrefix ?? "") + this.#key("");
    const ids = await this.#redis.eval(LAPSED, 1, this.#leasesKey(), now, limit, taskKeys);
    return ids as string[];
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(taskId: string): string {
    return `${this.#prefix}:task:${taskId}`;
  }

  /** Live tasks by lease (epoch ms); finished ones leave it, expired ones when a sweep meets them. */
  #leasesKey(): string {
    return `${this.#prefix}:leases`;
  }

  #ownerKey(owner: string): string {
    return `${this.#prefix}:owner:${owner}`;
  }
}
