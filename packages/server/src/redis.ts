import type { Redis } from "ioredis";

/**
 * A Redis connection for the kit's shared state (resumable streams, tasks): bounded timeouts, no
 * offline queue (a command fails at once while Redis is down), checked with a PING before it is
 * returned. The error names the URL without its password.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: false,
  });
  redis.on("error", () => {}); // surfaced by the failing command instead
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${safeUrl(url)}: ${(err as Error).message}`);
  }
  return redis;
}

/** The URL without its password, for messages and log lines. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
