import { randomBytes } from "node:crypto";
import { ToolshedError } from "@toolshed/server";
import type { Cell } from "./engine/engine.js";

/** The most row data one kept result holds; rows past it are not kept (the last page says so). */
export const KEPT_RESULT_BYTES = 16 * 1024 * 1024;
/** The most row data all kept results hold together (per server, or in Redis for all replicas); the oldest go first. */
export const KEPT_TOTAL_BYTES = 64 * 1024 * 1024;
/**
 * The most row data one caller's kept results hold together (half the total): past it that caller's
 * own oldest results go first, so one busy caller (an agent paging through query after query)
 * cannot push every other caller's pages out.
 */
export const KEPT_OWNER_BYTES = KEPT_TOTAL_BYTES / 2;

/** What a kept result says about itself: everything but its rows. */
export interface KeptHead {
  columns: { name: string; type: string }[];
  /** Where the kept rows start in the result: the rows of the first page are sent, not kept. */
  base: number;
  /** Where the kept rows end in the result (`base` + how many were kept). */
  end: number;
  /** Rows the query produces in all (null: too costly to count). */
  totalRows: number | null;
  /** Whether the result goes on past the kept rows (the server's paging cap). */
  more: boolean;
  /** The page size the query asked for, the default of its later pages. */
  pageRows: number;
}

/** One query's rows, kept so that its later pages come from the same run. */
export interface KeptResult extends Omit<KeptHead, "end"> {
  /** The result's rows from `base` on, as many as were kept. */
  rows: Cell[][];
}

/** One page read through a cursor: the result's head and its rows from `offset`. */
export interface KeptPage {
  id: string;
  offset: number;
  head: KeptHead;
  /** Up to the count asked for (the result's `pageRows` when none was), fewer at the end. */
  rows: Cell[][];
}

/**
 * Results kept for paging: a truncated `query` keeps the rows it read past its first page and
 * answers with a cursor, `<id>.<offset>` (the row it reads from); `query { cursor }` reads the next
 * page from the same rows, so pages never shift or repeat as a re-run query's could. The id is 128
 * random bits, and a result is read only by the caller that ran it. A cursor is idempotent, so a
 * page lost on the way can be read again. Two stores: this process's memory (MemoryResultCursors)
 * and, when replicas share a Redis, Redis (RedisResultCursors in redis-result-cursors.ts).
 */
export interface ResultCursors {
  /** How long a kept result can be read after its query. */
  readonly ttlMs: number;
  /**
   * Keeps `result` (`bytes`: its rows' JSON size, at most KEPT_RESULT_BYTES) for `owner` ("" without
   * auth); resolves to the cursor of its first kept row. Rejects with `upstream_unavailable` when the
   * store does not answer (the caller answers without a cursor).
   */
  keep(owner: string, result: KeptResult, bytes: number): Promise<string>;
  /**
   * `count` rows (the result's `pageRows` when undefined) from the cursor's row, for its owner only.
   * Unknown, expired and another caller's cursors all get the one `invalid_input` error of
   * {@link unknownCursor}; a store that does not answer, a retryable `upstream_unavailable`.
   */
  read(cursor: string, owner: string, count?: number): Promise<KeptPage>;
  close(): Promise<void>;
}

/** A new cursor id: 128 random bits, 22 base64url characters. */
export function newCursorId(): string {
  return randomBytes(16).toString("base64url");
}

export function cursorOf(id: string, offset: number): string {
  return `${id}.${offset}`;
}

/** The id and row of a well-formed cursor; undefined for anything else. */
export function parseCursor(cursor: string): { id: string; offset: number } | undefined {
  const [, id, at] = /^([A-Za-z0-9_-]{22})\.(\d{1,9})$/.exec(cursor) ?? [];
  return id === undefined ? undefined : { id, offset: Number(at) };
}

/** The head of a result about to be kept. */
export function headOf(result: KeptResult): KeptHead {
  const { columns, base, totalRows, more, pageRows } = result;
  return { columns, base, end: base + result.rows.length, totalRows, more, pageRows };
}

/** Whether `offset` is a row the result kept. */
export function holds(head: KeptHead, offset: number): boolean {
  return offset >= head.base && offset < head.end;
}

/**
 * The one answer to a cursor that cannot be read: unknown, expired and another caller's all read
 * the same, so a cursor's existence is not told. `where` says where results are kept.
 */
export function unknownCursor(cursor: string, ttlMs: number, where: string): ToolshedError {
  return new ToolshedError(
    "invalid_input",
    `cursor '${cursor.slice(0, 40)}' is unknown or expired (results are kept for ${describeMs(ttlMs)} after their query${where}, for the caller that ran it); run the query again with sql`,
  );
}

interface Entry extends KeptResult {
  /** The caller it belongs to ("" without auth); nobody else reads it. */
  owner: string;
  bytes: number;
  expires: number;
}

/** The bounds on kept results: all of them together, and one caller's. */
export interface KeptBounds {
  /** The most bytes all kept results hold together (default KEPT_TOTAL_BYTES). */
  maxTotalBytes?: number;
  /** The most bytes one caller's kept results hold together (default KEPT_OWNER_BYTES). */
  maxOwnerBytes?: number;
}

/**
 * Results kept in this process for `ttlMs` after their query, within the caller's share
 * (KEPT_OWNER_BYTES: its own oldest go first) and KEPT_TOTAL_BYTES (everyone's oldest first): what a
 * server running alone uses. Another replica does not see them.
 */
export class MemoryResultCursors implements ResultCursors {
  readonly #kept = new Map<string, Entry>();
  /** Bytes kept per owner (owners holding nothing are not listed). */
  readonly #owners = new Map<string, number>();
  readonly #maxTotal: number;
  readonly #maxOwner: number;
  #bytes = 0;

  constructor(
    readonly ttlMs: number,
    bounds: KeptBounds = {},
  ) {
    this.#maxTotal = bounds.maxTotalBytes ?? KEPT_TOTAL_BYTES;
    this.#maxOwner = bounds.maxOwnerBytes ?? KEPT_OWNER_BYTES;
  }

  keep(owner: string, result: KeptResult, bytes: number): Promise<string> {
    this.#sweep();
    const id = newCursorId();
    this.#kept.set(id, { ...result, owner, bytes, expires: Date.now() + this.ttlMs });
    this.#bytes += bytes;
    this.#owners.set(owner, (this.#owners.get(owner) ?? 0) + bytes);
    // Map order is insertion order: the first entries are the oldest. The caller's own first...
    for (const [oldest, entry] of this.#kept) {
      if ((this.#owners.get(owner) ?? 0) <= this.#maxOwner || oldest === id) break;
      if (entry.owner === owner) this.#drop(oldest, entry);
    }
    // ...then everyone's, while all of them together are over the total.
    for (const [oldest, entry] of this.#kept) {
      if (this.#bytes <= this.#maxTotal || oldest === id) break;
      this.#drop(oldest, entry);
    }
    return Promise.resolve(cursorOf(id, result.base));
  }

  read(cursor: string, owner: string, count?: number): Promise<KeptPage> {
    this.#sweep();
    const at = parseCursor(cursor);
    const entry = at && this.#kept.get(at.id);
    const head = entry && headOf(entry);
    if (!at || !entry || !head || entry.owner !== owner || !holds(head, at.offset)) {
      return Promise.reject(unknownCursor(cursor, this.ttlMs, ", on this server process"));
    }
    const from = at.offset - head.base;
    const rows = entry.rows.slice(from, from + (count ?? head.pageRows));
    return Promise.resolve({ id: at.id, offset: at.offset, head, rows });
  }

  close(): Promise<void> {
    this.#kept.clear();
    this.#owners.clear();
    this.#bytes = 0;
    return Promise.resolve();
  }

  #sweep(): void {
    const now = Date.now();
    // Every entry lives ttlMs, so insertion order is expiry order.
    for (const [id, entry] of this.#kept) {
      if (entry.expires > now) break;
      this.#drop(id, entry);
    }
  }

  #drop(id: string, entry: Entry): void {
    this.#kept.delete(id);
    this.#bytes -= entry.bytes;
    const left = (this.#owners.get(entry.owner) ?? 0) - entry.bytes;
    if (left > 0) this.#owners.set(entry.owner, left);
    else this.#owners.delete(entry.owner);
  }
}

export function describeMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
