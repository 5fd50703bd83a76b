import type { RateLimiter } from "@toolshed/auth";

/** Client addresses blocked here at most (oldest dropped first). */
const MAX_BLOCKED = 10_000;

/**
 * A token bucket of failed authentications per client address (wrong or revoked keys, bad tokens;
 * not requests without credentials). When an address runs out, every request from it is answered 429
 * until the bucket refills, valid credentials included, so a key cannot be guessed at speed. The
 * bucket lives in Redis with --redis-url; each replica also remembers the block it saw, so a blocked
 * address is refused before its credential is checked.
 */
export class AuthFailureLimiter {
  readonly #limiter: RateLimiter;
  readonly #blockedUntil = new Map<string, number>();

  constructor(limiter: RateLimiter) {
    this.#limiter = limiter;
  }

  /** Milliseconds until `address` may try again, or 0 when it is not blocked. */
  blockedFor(address: string): number {
    const until = this.#blockedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return left;
    this.#blockedUntil.delete(address);
    return 0;
  }

  /** Counts a failure; resolves to the wait in milliseconds when the address is now blocked, else 0. */
  async failed(address: string): Promise<number> {
    const taken = await this.#limiter.take(`addr:${address}`);
    if (taken.allowed) return 0;
    const wait = Math.max(1_000, taken.retryAfterMs);
    this.#blockedUntil.delete(address);
    this.#blockedUntil.set(address, Date.now() + wait);
    if (this.#blockedUntil.size > MAX_BLOCKED) {
      const oldest = this.#blockedUntil.keys().next().value;
      if (oldest !== undefined) this.#blockedUntil.delete(oldest);
    }
    return wait;
  }

  close(): Promise<void> {
    return this.#limiter.close();
  }
}
