import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import type { Redis } from "ioredis";
import { connectRedis } from "../redis.js";
import type { SharedEventStore } from "./event-store.js";
import { sessionOfStream } from "./session-events.js";

export interface RedisEventStoreOptions {
  /** e.g. redis://127.0.0.1:6379 (TOOLSHED_REDIS_URL). */
  url: string;
  /** Key prefix, so several servers can share one Redis. Default "toolshed:events". */
  keyPrefix?: string;
  /** Events kept per stream (approximate trim). Default 1000. */
  maxEventsPerStream?: number;
  /** A stream's events expire this long after its last write. Default 1 hour. */
  ttlSeconds?: number;
}

/**
 * Resumable-stream events in Redis Streams: one Redis stream per MCP stream, trimmed and expiring,
 * so every replica behind a load balancer can replay what a client missed. Event ids are
 * `<streamId>_<redis entry id>`, so any replica can find the stream from `Last-Event-ID` alone.
 */
export class RedisEventStore implements SharedEventStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxEvents: number;
  readonly #ttl: number;

  private constructor(redis: Redis, options: RedisEventStoreOptions) {
    this.#redis = redis;
    this.#prefix = options.keyPrefix ?? "toolshed:events";
    this.#maxEvents = options.maxEventsPerStream ?? 1000;
    this.#ttl = options.ttlSeconds ?? 3600;
  }

  /** Connects (with bounded timeouts) and checks the server answers before returning. */
  static async connect(options: RedisEventStoreOptions): Promise<RedisEventStore> {
    return new RedisEventStore(await connectRedis(options.url), options);
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const key = this.#key(streamId);
    const multi = this.#redis
      .multi()
      .xadd(key, "MAXLEN", "~", String(this.#maxEvents), "*", "m", JSON.stringify(message))
      .expire(key, this.#ttl);
    // Remember a session's streams, so they go with it (forgetSession) rather than at their TTL.
    const session = sessionOfStream(streamId);
    if (session !== undefined) {
      const streams = this.#streamsKey(session);
      multi.sadd(streams, key).expire(streams, this.#ttl);
    }
    const result = await multi.exec();
    const entryId = result?.[0]?.[1];
    if (typeof entryId !== "string") throw new Error("Redis did not store the event");
    return `${streamId}_${entryId}`;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const parsed = parse(eventId);
    if (!parsed) return undefined;
    return (await this.#redis.exists(this.#key(parsed.streamId))) ? parsed.streamId : undefined;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const parsed = parse(lastEventId);
    if (!parsed) throw new Error(`unknown event id '${lastEventId}'`);
    const key = this.#key(parsed.streamId);
    if (!(await this.#redis.exists(key))) throw new Error(`unknown event id '${lastEventId}'`);
    // "(" makes the start exclusive: only what came after the client's last event.
    const entries = await this.#redis.xrange(key, `(${parsed.entryId}`, "+");
    for (const [entryId, fields] of entries) {
      const json = fields[fields.indexOf("m") + 1];
      if (json !== undefined) await send(`${parsed.streamId}_${entryId}`, JSON.parse(json) as JSONRPCMessage);
    }
    return parsed.streamId;
  }

  async check(): Promise<string | undefined> {
    try {
      await this.#redis.ping();
      return undefined;
    } catch {
      return "event store (Redis) unavailable; resumable streams and shared sessions are down";
    }
  }

  async registerSession(sessionId: string, owner: string): Promise<void> {
    await this.#redis.set(this.#sessionKey(sessionId), owner, "EX", this.#ttl * 24);
  }

  async forgetSession(sessionId: string): Promise<void> {
    const streams = this.#streamsKey(sessionId);
    const keys = await this.#redis.smembers(streams);
    const leases = keys.flatMap((key) => {
      const streamId = key.slice(this.#prefix.length + 1);
      return [this.#leaseKey(streamId), this.#aliveKey(streamId)];
    });
    await this.#redis.del(
      this.#sessionKey(sessionId),
      this.#recordKey(sessionId),
      streams,
      ...keys,
      ...leases,
    );
  }

  async saveSessionRecord(sessionId: string, record: string, ttlMs: number): Promise<void> {
    await this.#redis.set(this.#recordKey(sessionId), record, "PX", ttlMs);
  }

  async sessionRecord(sessionId: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#recordKey(sessionId))) ?? undefined;
  }

  async touchSessionRecord(sessionId: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.pexpire(this.#recordKey(sessionId), ttlMs)) === 1;
  }

  async sessionOwner(sessionId: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#sessionKey(sessionId))) ?? undefined;
  }

  async follow(
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => Promise<boolean>,
    signal: AbortSignal,
  ): Promise<void> {
    const parsed = parse(lastEventId);
    if (!parsed || !(await this.#redis.exists(this.#key(parsed.streamId)))) {
      throw new Error(`unknown event id '${lastEventId}'`);
    }
    const key = this.#key(parsed.streamId);
    // Blocking reads need a connection of their own.
    const reader = this.#redis.duplicate({ commandTimeout: 5_000 });
    reader.on("error", () => {});
    let cursor = parsed.entryId;
    try {
      await reader.connect();
      while (!signal.aborted) {
        // XREAD returns entries strictly after the cursor: first what was missed, then what comes.
        const batch = await reader.xread("COUNT", 100, "BLOCK", 1_000, "STREAMS", key, cursor);
        for (const [, entries] of batch ?? []) {
          for (const [entryId, fields] of entries) {
            cursor = entryId;
            const json = fields[fields.indexOf("m") + 1];
            if (json === undefined) continue;
            if (await send(`${parsed.streamId}_${entryId}`, JSON.parse(json) as JSONRPCMessage)) return;
          }
        }
      }
    } finally {
      reader.disconnect();
    }
  }

  async leaseStream(
    streamId: string,
    requestIds: readonly (string | number)[],
    ttlMs: number,
  ): Promise<void> {
    // Which calls the stream carries outlives the lease, so a follower can tell a lapsed lease from none.
    await this.#redis
      .multi()
      .set(this.#leaseKey(streamId), JSON.stringify(requestIds), "EX", this.#ttl)
      .set(this.#aliveKey(streamId), "1", "PX", ttlMs)
      .exec();
  }

  async renewStreamLeases(streamIds: readonly string[], ttlMs: number): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const id of streamIds) pipeline.set(this.#aliveKey(id), "1", "PX", ttlMs);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  async endStreamLease(streamId: string): Promise<void> {
    await this.#redis.del(this.#leaseKey(streamId), this.#aliveKey(streamId));
  }

  async streamLease(
    streamId: string,
  ): Promise<{ requestIds: (string | number)[]; alive: boolean } | undefined> {
    const result = await this.#redis
      .multi()
      .get(this.#leaseKey(streamId))
      .exists(this.#aliveKey(streamId))
      .exec();
    const ids = result?.[0]?.[1];
    if (typeof ids !== "string") return undefined;
    const parsed = JSON.parse(ids) as unknown;
    const requestIds = Array.isArray(parsed)
      ? parsed.filter((id): id is string | number => typeof id === "string" || typeof id === "number")
      : [];
    return { requestIds, alive: result?.[1]?.[1] === 1 };
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(streamId: string): string {
    return `${this.#prefix}:${streamId}`;
  }

  #streamsKey(sessionId: string): string {
    return `${this.#prefix}:session-streams:${sessionId}`;
  }

  #recordKey(sessionId: string): string {
    return `${this.#prefix}:session-record:${sessionId}`;
  }

  #leaseKey(streamId: string): string {
    return `${this.#prefix}:lease:${streamId}`;
  }

  #aliveKey(streamId: string): string {
    return `${this.#prefix}:alive:${streamId}`;
  }

  #sessionKey(sessionId: string): string {
    return `${this.#prefix}:session:${sessionId}`;
  }
}

function parse(eventId: string): { streamId: string; entryId: string } | undefined {
  const cut = eventId.lastIndexOf("_");
  if (cut <= 0) return undefined;
  const entryId = eventId.slice(cut + 1);
  return /^\d+-\d+$/.test(entryId) ? { streamId: eventId.slice(0, cut), entryId } : undefined;
}
