/**
 * The messages between the server and its engine host (engine-host.ts), a child process that owns
 * DuckDB so that a native crash or a statement that ignores interrupts costs a restart, not the server.
 */

/** How the host opens DuckDB; every path is absolute and already resolved. */
export interface OpenSettings {
  databaseFile: string;
  /** The only directories DuckDB may read or write once external access is off. */
  allowedDirectories: string[];
  memoryLimit: string;
  threads: number;
  tempDirectory: string;
  maxTempDirectorySize: string;
}

export type HostRequest =
  | { op: "open"; id: number; settings: OpenSettings }
  | {
      op: "run";
      id: number;
      sql: string;
      params: (string | number | boolean | null)[];
      /** Stop reading after this many rows (one more is read to tell whether there are more). */
      maxRows?: number;
      /** Run on the progress-tracking connection, reporting DuckDB's percentage. */
      progress?: boolean;
      /**
       * User SQL: parse `inner` on the same connection and check its tree (duckdb-tree-check.ts)
       * before running; a statement whose own LIMIT is at most `maxRows` runs materialized.
       */
      guard?: { inner: string; explained: boolean; maxRows: number };
    }
  | { op: "interrupt"; id: number }
  /** The host's counters, for tests. */
  | { op: "stats"; id: number };

export interface RunValue {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  more: boolean;
}

export interface OpenValue {
  /** The built-in views (schema.name), which user SQL may not name as tables. */
  internalViews: string[];
}

export interface HostStats {
  /** The cache of DuckDB's parses of user statements (parse-cache.ts). */
  parseCache: { size: number; hits: number; misses: number };
}

export type HostReply =
  | { id: number; ok: true; value: RunValue | OpenValue | HostStats | null }
  | { id: number; ok: false; message: string; /** Set when the guard refused the SQL. */ refused?: boolean }
  | { id: number; progress: number };
