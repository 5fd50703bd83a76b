import { createHash } from "node:crypto";
import type { WireResult } from "@toolshed/server";
import { LRUCache } from "lru-cache";
import type { UpstreamConfig } from "./config.js";
import { SHARED_KEY_PREFIX, type SharedStore } from "./shared.js";

export type CacheSpec = NonNullable<UpstreamConfig["cache"]>;

/** Most bytes (as JSON) one upstream's cache holds, and the largest answer it keeps. */
const MAX_BYTES = 32 * 1024 * 1024;
const MAX_ENTRY_BYTES = 1024 * 1024;

/** Object keys in sorted order at every depth, so `{a, b}` and `{b, a}` are the same arguments. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * One upstream's answers to its read-only tools, kept for `ttlSeconds`. Keyed by the caller (unless
 * `shared`), the tool's own name and its arguments; an answer over 1 MiB is not kept. In memory (LRU,
 * at most `maxEntries` and 32 MiB) when the gateway runs alone; with a shared store (Redis), every
 * replica serves what any of them kept, under a key that also names the upstream's connection, so
 * a changed upstream never serves its predecessor's answers. A Redis failure is a miss.
 */
export class AnswerCache {
  readonly #entries: LRUCache<string, WireResult>;
  readonly #shared: boolean;
  readonly #ttlMs: number;
  readonly #store: SharedStore | undefined;
  readonly #prefix: string;

  /** `scope` names the upstream and its connection (its name and fingerprint) in shared keys. */
  constructor(spec: CacheSpec, options: { store?: SharedStore; scope?: string } = {}) {
    this.#shared = spec.shared ?? false;
    this.#ttlMs = spec.ttlSeconds * 1000;
    this.#store = options.store;
    this.#prefix = `${SHARED_KEY_PREFIX}cache:${options.scope ?? ""}:`;
    this.#entries = new LRUCache<string, WireResult>({
      max: spec.maxEntries ?? 1000,
      ttl: this.#ttlMs,
      maxSize: MAX_BYTES,
      maxEntrySize: MAX_ENTRY_BYTES,
    });
  }

  /** The key of a call; `principal` is the caller's id (undefined without auth). */
  key(principal: string | undefined, tool: string, args: Record<string, unknown>): string {
    return JSON.stringify([this.#shared ? "" : (principal ?? ""), tool, canonical(args)]);
  }

  #sharedKey(key: string): string {
    return this.#prefix + createHash("sha256").update(key).digest("base64url");
  }

  async get(key: string): Promise<WireResult | undefined> {
    const store = this.#store;
    if (!store) {
      const hit = this.#entries.get(key);
      return hit === undefined ? undefined : structuredClone(hit);
    }
    try {
      const raw = await store.redis.get(this.#sharedKey(key));
      return raw === null ? undefined : (JSON.parse(raw) as WireResult);
    } catch (err) {
      store.warn("reading a cached answer", err);
      return undefined;
    }
  }

  async set(key: string, result: WireResult): Promise<void> {
    const json = JSON.stringify(result);
    const size = Buffer.byteLength(json);
    if (size > MAX_ENTRY_BYTES) return;
    const store = this.#store;
    if (!store) {
      this.#entries.set(key, structuredClone(result), { size });
      return;
    }
    try {
      await store.redis.set(this.#sharedKey(key), json, "PX", this.#ttlMs);
    } catch (err) {
      store.warn("keeping a cached answer", err);
    }
  }
}
