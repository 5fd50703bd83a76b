import type { WireResult } from "@toolshed/server";
import { LRUCache } from "lru-cache";
import type { UpstreamConfig } from "./config.js";

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
 * One upstream's answers to its read-only tools, kept for `ttlSeconds` (LRU, at most `maxEntries`
 * and 32 MiB; an answer over 1 MiB is not kept). Keyed by the caller (unless `shared`), the tool's
 * own name and its arguments; what is stored is a copy, and every hit gets its own copy.
 */
export class AnswerCache {
  readonly #entries: LRUCache<string, WireResult>;
  readonly #shared: boolean;

  constructor(spec: CacheSpec) {
    this.#shared = spec.shared ?? false;
    this.#entries = new LRUCache<string, WireResult>({
      max: spec.maxEntries ?? 1000,
      ttl: spec.ttlSeconds * 1000,
      maxSize: MAX_BYTES,
      maxEntrySize: MAX_ENTRY_BYTES,
    });
  }

  /** The key of a call; `principal` is the caller's id (undefined without auth). */
  key(principal: string | undefined, tool: string, args: Record<string, unknown>): string {
    return JSON.stringify([this.#shared ? "" : (principal ?? ""), tool, canonical(args)]);
  }

  get(key: string): WireResult | undefined {
    const hit = this.#entries.get(key);
    return hit === undefined ? undefined : structuredClone(hit);
  }

  set(key: string, result: WireResult): void {
    const size = Buffer.byteLength(JSON.stringify(result));
    if (size > MAX_ENTRY_BYTES) return;
    this.#entries.set(key, structuredClone(result), { size });
  }

  get size(): number {
    return this.#entries.size;
  }
}
