import { randomBytes } from "node:crypto";
import { ToolshedError } from "@toolshed/server";
import type { Cell } from "./engine/engine.js";

/** The most row data one kept result holds; rows past it are not kept (the last page says so). */
export const KEPT_RESULT_BYTES = 16 * 1024 * 1024;
/** The most row data all kept results hold together; the oldest go first. */
const KEPT_TOTAL_BYTES = 64 * 1024 * 1024;

/** One query's rows, kept so that its later pages come from the same run. */
export interface KeptResult {
  columns: { name: string; type: string }[];
  /** Where `rows` start in the result: the rows of the first page are sent, not kept. */
  base: number;
  /** The result's rows from `base` on, as many as were kept. */
  rows: Cell[][];
  /** Rows the query produces in all (null: too costly to count). */
  totalRows: number | null;
  /** Whether the result goes on past the kept rows (the server's paging cap). */
  more: boolean;
  /** The page size the query asked for, the default of its later pages. */
  pageRows: number;
}

interface Entry extends KeptResult {
  /** The caller it belongs to ("" without auth); nobody else reads it. */
  owner: string;
  bytes: number;
  expires: number;
}

/**
 * Results kept for paging: a truncated `query` keeps the rows it read past its first page here and
 * answers with a cursor, `<id>.<offset>` (the row it reads from); `query { cursor }` reads the next
 * page from the same rows, so pages never shift or repeat as a re-run query's could. The id is 128
 * random bits, and a result is read only by the caller that ran it. Kept in this process for `ttlMs`
 * after the query, within KEPT_TOTAL_BYTES (oldest first); a cursor is idempotent, so a page lost on
 * the way can be read again.
 */
export class ResultCursors {
  readonly #kept = new Map<string, Entry>();
  #bytes = 0;

  constructor(readonly ttlMs: number) {}

  /** Keeps `result` for `owner`; returns the cursor of its first kept row. */
  keep(owner: string, result: KeptResult, bytes: number): string {
    this.#sweep();
    const id = randomBytes(16).toString("base64url");
    this.#kept.set(id, { ...result, owner, bytes, expires: Date.now() + this.ttlMs });
    this.#bytes += bytes;
    // Map order is insertion order: the first entries are the oldest.
    for (const [oldest, entry] of this.#kept) {
      if (this.#bytes <= KEPT_TOTAL_BYTES || oldest === id) break;
      this.#drop(oldest, entry);
    }
    return cursorOf(id, result.base);
  }

  /** The kept result a cursor points into and the offset it reads from, for its owner only. */
  read(cursor: string, owner: string): { id: string; offset: number; result: KeptResult } {
    this.#sweep();
    const [, id, at] = /^([A-Za-z0-9_-]{22})\.(\d{1,9})$/.exec(cursor) ?? [];
    const entry = id === undefined ? undefined : this.#kept.get(id);
    // Unknown, expired and another caller's all read the same: a cursor's existence is not told.
    const offset = Number(at);
    if (!entry || entry.owner !== owner || offset < entry.base || offset >= entry.base + entry.rows.length) {
      throw new ToolshedError(
        "invalid_input",
        `cursor '${cursor.slice(0, 40)}' is unknown or expired (results are kept for ${describeMs(this.ttlMs)} after their query, on this server process, for the caller that ran it); run the query again with sql`,
      );
    }
    return { id: id!, offset, result: entry };
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
  }
}

export function cursorOf(id: string, offset: number): string {
  return `${id}.${offset}`;
}

export function describeMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
