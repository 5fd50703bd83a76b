export interface RateLimitResult {
  allowed: boolean;
  /** Whole tokens left in the bucket after this take. */
  remaining: number;
  /** When a take of the same cost can succeed, in milliseconds from now; 0 when allowed. */
  retryAfterMs: number;
  /** The store failed and the answer comes from `onStoreError`, not from the bucket: log it. */
  degraded?: true;
}

export interface RateLimiter {
  readonly store: "memory" | "redis";
  /** Takes `cost` tokens (default 1) from the bucket of `key`, or refuses and says when to retry. */
  take(key: string, cost?: number): Promise<RateLimitResult>;
  /**
   * Resolves when the store answers (a Redis PING within the command timeout); rejects with an
   * error naming the Redis URL without its password otherwise. For start-up checks and `/readyz`.
   */
  check(): Promise<void>;
  /** Buckets held in memory (memory store); undefined for Redis, whose keys expire on their own. */
  trackedKeys(): number | undefined;
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  /** Bucket size: the largest burst. */
  capacity: number;
  /** Tokens added per second, up to `capacity`. */
  refillPerSecond: number;
  /** `redis://…` to share buckets between replicas; memory otherwise. */
  redisUrl?: string;
  /** Prefix of the Redis keys. Default `toolshed:ratelimit:`. */
  keyPrefix?: string;
  /** What a take answers when Redis fails or times out. Default `allow` (fail open). */
  onStoreError?: "allow" | "deny";
  /** Called with each Redis connection or command error, for the caller to log. */
  onError?: (error: Error) => void;
  /** Memory store: most buckets kept; idle (full) ones go first, then the least recently used. Default 10000. */
  maxKeys?: number;
  /** Redis connect timeout, in milliseconds. Default 2000. */
  connectTimeoutMs?: number;
  /** Redis command timeout, in milliseconds: the longest a take waits on Redis. Default 500. */
  commandTimeoutMs?: number;
}

/** The bucket parameters a store needs. */
export interface BucketConfig {
  capacity: number;
  /** Tokens per millisecond. */
  ratePerMs: number;
}
