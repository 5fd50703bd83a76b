import type { Redis as RedisClient } from "ioredis";
import { TAKE_TOKENS_LUA } from "./token-bucket-script.js";
import type { BucketConfig } from "./types.js";

export interface RedisBucketsOptions {
  url: string;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  onError?: ((error: Error) => void) | undefined;
}

interface TakeCommand {
  toolshedTakeTokens(
    key: string,
    capacity: string,
    ratePerMs: string,
    cost: string,
  ): Promise<[number, string, number]>;
}

export interface RedisTake {
  allowed: boolean;
  tokens: number;
  retryAfterMs: number;
}

/**
 * Token buckets in Redis, one Lua script per take (EVALSHA, falling back to EVAL when the script
 * cache is empty: ioredis `defineCommand`). ioredis is imported only here, on first use.
 */
export class RedisBuckets {
  private readonly client: Promise<RedisClient & TakeCommand>;
  /** Set by a connection error, cleared on ready: takes then fail at once instead of queueing. */
  private failing = false;
  private closed = false;

  constructor(
    private readonly config: BucketConfig,
    private readonly options: RedisBucketsOptions,
  ) {
    this.client = this.connect();
    // A failed import surfaces on the first take; it must not be an unhandled rejection meanwhile.
    this.client.catch(() => undefined);
  }

  private async connect(): Promise<RedisClient & TakeCommand> {
    const { Redis } = await import("ioredis");
    const client = new Redis(this.options.url, {
      connectTimeout: this.options.connectTimeoutMs,
      commandTimeout: this.options.commandTimeoutMs,
      // ioredis waits this long for a dead socket to close on disconnect (2 s by default), holding shutdown.
      disconnectTimeout: this.options.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      // Keep reconnecting in the background, backing off to 2 s; takes meanwhile answer degraded.
      retryStrategy: (times: number) => Math.min(times * 100, 2000),
      lazyConnect: false,
    });
    client.on("error", (error: Error) => {
      this.failing = true;
      this.options.onError?.(error);
    });
    client.on("ready", () => {
      this.failing = false;
    });
    client.defineCommand("toolshedTakeTokens", { numberOfKeys: 1, lua: TAKE_TOKENS_LUA });
    return client as RedisClient & TakeCommand;
  }

  /** A take; rejects when Redis is failing, timed out, or this store is closed. */
  async take(key: string, cost: number): Promise<RedisTake> {
    if (this.closed) throw new Error("rate limiter closed");
    const client = await this.client;
    if (this.failing) throw new Error(`Redis unavailable (status ${client.status})`);
    const [allowed, tokens, retry] = await client.toolshedTakeTokens(
      this.options.keyPrefix + key,
      String(this.config.capacity),
      String(this.config.ratePerMs),
      String(cost),
    );
    return { allowed: allowed === 1, tokens: Number(tokens), retryAfterMs: Number(retry) };
  }

  async ping(): Promise<void> {
    try {
      if (this.closed) throw new Error("rate limiter closed");
      const client = await this.client;
      await client.ping();
    } catch (error) {
      throw new Error(`cannot reach Redis at ${safeUrl(this.options.url)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      const client = await this.client;
      client.disconnect();
    } catch {
      // never connected: nothing to close
    }
  }
}

/** The URL without its password or query, for messages. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}
