import { ToolshedError } from "@toolshed/errors";
import { MemoryBuckets } from "./memory-store.js";
import { RedisBuckets } from "./redis-store.js";
import type { BucketConfig, RateLimitResult, RateLimiter, RateLimiterOptions } from "./types.js";

export const DEFAULT_RATE_LIMIT_KEY_PREFIX = "toolshed:ratelimit:";

/** How long a "deny" degraded answer tells the caller to wait. */
const DEGRADED_RETRY_MS = 1000;

/**
 * A token bucket per key: `capacity` tokens at most, `refillPerSecond` added back each second. In
 * memory by default; in Redis (one atomic script per take, Redis server time) with `redisUrl`.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { capacity, refillPerSecond } = options;
  if (!(Number.isFinite(capacity) && capacity > 0)) {
    throw new ToolshedError("invalid_input", "rate limit: capacity must be a positive number");
  }
  if (!(Number.isFinite(refillPerSecond) && refillPerSecond > 0)) {
    throw new ToolshedError("invalid_input", "rate limit: refillPerSecond must be a positive number");
  }
  const config: BucketConfig = { capacity, ratePerMs: refillPerSecond / 1000 };

  const checkTake = (key: string, cost: number): void => {
    if (typeof key !== "string" || key === "") {
      throw new ToolshedError("invalid_input", "rate limit: the bucket key must be a non-empty string");
    }
    if (!(Number.isFinite(cost) && cost > 0 && cost <= capacity)) {
      throw new ToolshedError(
        "invalid_input",
        `rate limit: cost must be a positive number no larger than the capacity (${capacity})`,
      );
    }
  };

  if (options.redisUrl === undefined) {
    const maxKeys = options.maxKeys ?? 10_000;
    if (!(Number.isInteger(maxKeys) && maxKeys > 0)) {
      throw new ToolshedError("invalid_input", "rate limit: maxKeys must be a positive integer");
    }
    const buckets = new MemoryBuckets(config, maxKeys);
    return {
      store: "memory",
      take(key: string, cost = 1): Promise<RateLimitResult> {
        try {
          checkTake(key, cost);
          return Promise.resolve(buckets.take(key, cost));
        } catch (error) {
          return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
      },
      check: () => Promise.resolve(),
      trackedKeys: () => buckets.size,
      close(): Promise<void> {
        buckets.clear();
        return Promise.resolve();
      },
    };
  }

  const onStoreError = options.onStoreError ?? "allow";
  const degraded: RateLimitResult =
    onStoreError === "allow"
      ? { allowed: true, remaining: 0, retryAfterMs: 0, degraded: true }
      : { allowed: false, remaining: 0, retryAfterMs: DEGRADED_RETRY_MS, degraded: true };
  const store = new RedisBuckets(config, {
    url: options.redisUrl,
    keyPrefix: options.keyPrefix ?? DEFAULT_RATE_LIMIT_KEY_PREFIX,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    commandTimeoutMs: options.commandTimeoutMs ?? 500,
    onError: options.onError,
  });
  return {
    store: "redis",
    async take(key: string, cost = 1): Promise<RateLimitResult> {
      checkTake(key, cost);
      try {
        const result = await store.take(key, cost);
        return {
          allowed: result.allowed,
          remaining: Math.floor(result.tokens),
          retryAfterMs: result.retryAfterMs,
        };
      } catch {
        return { ...degraded };
      }
    },
    check: () => store.ping(),
    trackedKeys: () => undefined,
    close: () => store.close(),
  };
}
