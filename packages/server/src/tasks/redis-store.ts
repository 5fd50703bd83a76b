import type { Redis } from "ioredis";
import { connectRedis } from "../redis.js";
import { expiresAt, type TaskMutation, type TaskRecord, type TaskStore } from "./store.js";

export interface RedisTaskStoreOptions {
  /** e.g. redis://127.0.0.1:6379 (TOOLSHED_REDIS_URL). */
  url: string;
  /** Key prefix, so several servers can share one Redis. Default "toolshed:tasks". */
  keyPrefix?: string;
}

/** Writes `ARGV[2]` only if the key still holds `ARGV[1]` (compare-and-set), keeping its TTL. */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0`;

/** How often an update is retried when another replica wrote the same task in between. */
const MAX_ATTEMPTS = 20;

/**
 * Tasks in Redis: one JSON value per task that expires with the task's ttl, and a sorted set per
 * owner (scored by expiry) that bounds how many tasks one caller keeps. Updates are
 * compare-and-set on the whole value, so a replica writing progress and another writing a
 * cancel or an answer never lose each other's change.
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
      const written = await this.#redis.eval(COMPARE_AND_SET, 1, key, raw, JSON.stringify(next));
      if (written === 1) return next;
    }
    throw new Error(`task ${taskId} is being written too often to update; retry`);
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(taskId: string): string {
    return `${this.#prefix}:task:${taskId}`;
  }

  #ownerKey(owner: string): string {
    return `${this.#prefix}:owner:${owner}`;
  }
}
