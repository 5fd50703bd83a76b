/** A vector as the store takes it: plain numbers or a Float32Array. */
export type VectorInput = readonly number[] | Float32Array;

/**
 * The one thing the store needs from a database connection: parameterized queries, a transaction
 * and a way to bind a vector. PGlite (embedded) and `pg` (a PostgreSQL server) both implement it,
 * so the SQL the store writes is the same on both.
 */
export interface SqlClient {
  readonly kind: "pglite" | "postgres";
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Runs `fn` in one transaction on one connection; rolled back if it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** A query parameter that binds to `$n::vector` in pgvector's binary format (no float text parsing). */
  vectorParam(v: VectorInput): unknown;
  close(): Promise<void>;
}

/** pgvector's binary wire format: int16 dimensions, int16 unused, then float4 big-endian. */
export function encodeVector(v: VectorInput): Buffer {
  const buf = Buffer.allocUnsafe(4 + 4 * v.length);
  buf.writeInt16BE(v.length, 0);
  buf.writeInt16BE(0, 2);
  for (let i = 0; i < v.length; i++) buf.writeFloatBE(v[i] ?? 0, 4 + 4 * i);
  return buf;
}

/** A vector as a standalone Uint8Array in pgvector's binary format (PGlite sends it as a binary parameter). */
export function vectorBytes(v: VectorInput): Uint8Array {
  return new Uint8Array(encodeVector(v)); // a copy: not a view of Buffer's shared pool
}

/** pgvector's text output, `[1,2.5,3]`, back to numbers. */
export function parseVectorText(text: string): number[] {
  return JSON.parse(text) as number[];
}

/** HNSW candidate list size at query time; higher: better recall, slower queries. */
export const DEFAULT_EF_SEARCH = 200;

/**
 * Session settings for search: the candidate list size, and iterative index scans so a filtered
 * search keeps scanning the HNSW graph until it has enough matching rows (pgvector >= 0.8).
 */
export function sessionSettings(efSearch: number, maintenanceWorkMemMb?: number): string {
  const ef = Math.min(1000, Math.max(1, Math.trunc(efSearch)));
  const set = `SET hnsw.ef_search = ${ef}; SET hnsw.iterative_scan = relaxed_order`;
  if (maintenanceWorkMemMb === undefined) return set;
  const mb = Math.min(MAX_MAINTENANCE_WORK_MEM_MB, Math.max(1, Math.trunc(maintenanceWorkMemMb)));
  return `${set}; SET maintenance_work_mem = '${mb}MB'`;
}

/** PGlite's default memory for an index build; an HNSW graph that outgrows it builds far slower. */
export const DEFAULT_MAINTENANCE_WORK_MEM_MB = 256;
/** PGlite runs in 32-bit WebAssembly: its whole heap is at most 4 GB (2 GB on some builds). */
export const MAX_MAINTENANCE_WORK_MEM_MB = 2048;
