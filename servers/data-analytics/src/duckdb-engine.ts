import { mkdirSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import { ToolshedError } from "@toolshed/server";
import type { Config } from "./config.js";
import { CATALOG_TABLE, quoteIdent } from "./sql.js";

export type Cell = string | number | boolean | null | Cell[] | { [key: string]: Cell };

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Cell[][];
  /** True when reading stopped at the row limit before the result ended. */
  more: boolean;
}

export interface RunOptions {
  params?: DuckDBValue[];
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Stop reading after this many rows (the result may hold more). */
  maxRows?: number;
}

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;

/** The embedded DuckDB: one instance on a file in the data dir, locked down, a connection per call. */
export class Engine {
  static #open: Engine[] = [];

  /** The most recently opened engine still open (for callbacks the kit gives no context). */
  static latest(): Engine | undefined {
    return Engine.#open.at(-1);
  }

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly dataDir: string,
    readonly roots: string[],
    private readonly defaultTimeoutMs: number,
  ) {}

  static async open(config: Config): Promise<Engine> {
    mkdirSync(config.dataDir, { recursive: true });
    const dataDir = realpathSync(config.dataDir);
    const roots = (config.allowDir.length ? config.allowDir : [dataDir]).map((dir) => realpathSync(dir));
    const instance = await DuckDBInstance.create(path.join(dataDir, "analytics.duckdb"), {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
    });
    const conn = await instance.connect();
    try {
      // Order matters: allowed_directories must be set while external access is still on, and
      // lock_configuration last so no statement (ours or a user's) can change any of it afterwards.
      const dirs = [...new Set([dataDir, ...roots])].map((d) => `'${d.replaceAll("'", "''")}/'`).join(", ");
      await conn.run(`SET allowed_directories = [${dirs}]`);
      await conn.run("SET enable_external_access = false");
      await conn.run("SET lock_configuration = true");
      await conn.run(
        `CREATE TABLE IF NOT EXISTS ${quoteIdent(CATALOG_TABLE)} (name VARCHAR PRIMARY KEY, source VARCHAR, format VARCHAR, row_count BIGINT, columns VARCHAR, created_at TIMESTAMP DEFAULT current_timestamp)`,
      );
    } finally {
      conn.closeSync();
    }
    const engine = new Engine(instance, dataDir, roots, config.queryTimeoutMs);
    Engine.#open.push(engine);
    return engine;
  }

  /** Runs one statement on its own connection, interrupted on timeout or abort. */
  async run(sql: string, options: RunOptions = {}): Promise<QueryResult> {
    return this.withConnection(options, async (conn) => {
      const reader =
        options.maxRows === undefined
          ? await conn.runAndReadAll(sql, options.params ?? [])
          : await conn.streamAndReadUntil(sql, options.maxRows + 1, options.params ?? []);
      const types = reader.columnTypes().map((t) => t.toString());
      const columns = reader.columnNames().map((name, i) => ({ name, type: types[i] ?? "UNKNOWN" }));
      let rows = reader.getRowsJson() as Cell[][];
      let more = false;
      if (options.maxRows !== undefined && (rows.length > options.maxRows || !reader.done)) {
        more = true;
        rows = rows.slice(0, options.maxRows);
      }
      const numeric = columns.map((c) => NUMERIC.test(c.type));
      rows = rows.map((row) => row.map((v, i) => (numeric[i] ? toNumber(v) : v)));
      return { columns, rows, more };
    });
  }

  private async withConnection<T>(
    options: RunOptions,
    fn: (conn: DuckDBConnection) => Promise<T>,
  ): Promise<T> {
    if (options.signal?.aborted) throw new ToolshedError("timeout", "the call was cancelled before it ran");
    const conn = await this.instance.connect();
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    let reason: "timeout" | "cancelled" | undefined;
    const stop = (why: "timeout" | "cancelled") => {
      reason ??= why;
      conn.interrupt();
    };
    const timer = setTimeout(() => stop("timeout"), timeoutMs);
    const onAbort = () => stop("cancelled");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await fn(conn);
    } catch (e) {
      if (reason === "timeout") {
        throw new ToolshedError(
          "timeout",
          `query stopped after ${timeoutMs} ms (the time limit); narrow it with WHERE or LIMIT, or aggregate first`,
        );
      }
      if (reason === "cancelled") throw new ToolshedError("timeout", "query cancelled");
      throw e;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      conn.closeSync();
    }
  }

  close(): void {
    Engine.#open = Engine.#open.filter((e) => e !== this);
    this.instance.closeSync();
  }
}

function toNumber(v: Cell): Cell {
  if (typeof v !== "string") return v;
  const n = Number(v);
  return Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(v)) ? n : v;
}

/** DuckDB's error text without its "Kind Error:" prefix noise, for a model to read. */
export function engineMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0]!.slice(0, 500);
}

/** A cell or syntax-tree value as text: strings as they are, anything else as JSON. */
export function asText(v: unknown): string {
  return typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v);
}
