import type { BucketConfig, RateLimitResult } from "./types.js";

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill */
  at: number;
}

/** A sweep of idle buckets runs at most this often (and whenever the map is full, at most once a second). */
const SWEEP_EVERY_MS = 60_000;
const FULL_SWEEP_MIN_GAP_MS = 1000;

/**
 * Token buckets in a Map kept in least-recently-used order. A bucket that has refilled to capacity
 * is the same as no bucket, so idle buckets are dropped without changing any answer; when the map
 * is full of busy buckets, the least recently used one is dropped (its key starts full again).
 */
export class MemoryBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = Number.NEGATIVE_INFINITY;
  private lastFullSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: BucketConfig,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  take(key: string, cost: number): RateLimitResult {
    const now = performance.now();
    const { capacity, ratePerMs } = this.config;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now);
      this.makeRoom(now);
      bucket = { tokens: capacity, at: now };
    } else {
      this.buckets.delete(key);
      bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * ratePerMs);
      bucket.at = now;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterMs: 0 };
    }
    return {
      allowed: false,
      remaining: Math.floor(bucket.tokens),
      retryAfterMs: Math.ceil((cost - bucket.tokens) / ratePerMs),
    };
  }

  clear(): void {
    this.buckets.clear();
  }

  private makeRoom(now: number): void {
    if (this.buckets.size < this.maxKeys) return;
    if (now - this.lastFullSweep >= FULL_SWEEP_MIN_GAP_MS) {
      this.lastFullSweep = now;
      this.sweep(now);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }

  /** Drops every bucket that has refilled to capacity by now. */
  private sweep(now: number): void {
    this.lastSweep = now;
    const { capacity, ratePerMs } = this.config;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * ratePerMs >= capacity) this.buckets.delete(key);
    }
  }
}
