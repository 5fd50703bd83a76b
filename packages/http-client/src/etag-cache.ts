import type { HttpHeaders } from "./types.js";

export interface EtagCacheOptions {
  /** Most responses kept. Default 500. */
  maxEntries?: number;
  /** Most body bytes kept, summed over entries. Default 10 MiB. */
  maxBytes?: number;
}

export interface CachedResponse {
  etag: string;
  status: number;
  headers: HttpHeaders;
  /** The raw body; decoded again on every hit so a caller mutating its data cannot change the cache. */
  body: Buffer;
}

/**
 * A least-recently-used store of GET responses that carried an ETag, bounded by entries and bytes.
 * A Map keeps insertion order, so re-inserting on every hit makes its first key the least recent.
 */
export class EtagCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  private readonly entries = new Map<string, CachedResponse>();
  private bytes = 0;

  constructor(options: EtagCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 500;
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: CachedResponse): void {
    this.delete(key);
    if (entry.body.length > this.maxBytes || this.maxEntries <= 0) return;
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.body.length;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
