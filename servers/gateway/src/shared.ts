import type { Logger } from "@toolshed/logging";
import type { Redis } from "ioredis";

/** Where replicas keep what they share: `toolshed:gateway:<what>:…` on `TOOLSHED_REDIS_URL`. */
export const SHARED_KEY_PREFIX = "toolshed:gateway:";

/**
 * The gateway's state that every replica must see (cached answers, large answers kept for paging),
 * on the Redis the replicas share. Commands fail fast while Redis is down (the kit's connection has
 * no offline queue and a 2 s command timeout); each caller decides what a failure means, and a
 * failure is logged at most once a minute so an outage does not flood the log.
 */
export class SharedStore {
  #lastWarned = 0;

  constructor(
    readonly redis: Redis,
    readonly log: Logger,
  ) {}

  /** Logs a failed Redis command (what it was for, the error), at most once a minute. */
  warn(what: string, err: unknown): void {
    const now = Date.now();
    if (now - this.#lastWarned < 60_000) return;
    this.#lastWarned = now;
    this.log.warn(
      { err: (err as Error).message },
      `shared store (Redis) failed while ${what}; replicas may not see each other's state until it is back`,
    );
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
