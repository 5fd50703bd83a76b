import { mkdirSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { ToolshedError } from "@toolshed/server";
import type { Config } from "./config.js";
import { catalogFind, catalogList, type DatasetInfo } from "./datasets.js";
import {
  toNumber,
  trackEngine,
  untrackEngine,
  type Cell,
  type Dialect,
  type Engine,
  type QueryResult,
  type RunOptions,
  type SqlShape,
} from "./engine.js";
import { checkReadOnly } from "./sql-guard.js";
import { CATALOG_TABLE, quoteIdent } from "./sql.js";

const DUCKDB_DIALECT: Dialect = {
  double: (e) => `${e}::DOUBLE`,
  median: (e) => `median(${e})`,
  quantile: (e, q) => `quantile_cont(${e}, ${q})`,
  comparable: (e) => e,
};

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;

/** The embedded DuckDB: one instance on a file in the data dir, locked down, a connection per call. */
export class DuckDBEngine implements Engine {
  readonly kind = "duckdb" as const;
  readonly dialect = DUCKDB_DIALECT;

  /** Loads run one at a time on this connection, the only one with progress tracking on. */
  private loads: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly loader: DuckDBConnection,
    readonly dataDir: string,
    readonly roots: string[],
    private readonly defaultTimeoutMs: number,
  ) {}

  static async open(config: Config): Promise<DuckDBEngine> {
    mkdirSync(config.dataDir, { recursive: true });
    const dataDir = realpathSync(config.dataDir);
    const roots = (config.allowDir.length ? config.allowDir : [dataDir]).map((dir) => realpathSync(dir));
    const instance = await DuckDBInstance.create(path.join(dataDir, "analytics.duckdb"), {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
    });
    // Progress tracking is a per-connection setting that the locked configuration cannot turn on
    // later, so one connection is set up for it now (never printing: stdout is the protocol's).
    const loader = await instance.connect();
    await loader.run("SET enable_progress_bar = true");
    await loader.run("SET enable_progress_bar_print = false");
    await loader.run("SET progress_bar_time = 0");
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
    const engine = new DuckDBEngine(instance, loader, dataDir, roots, config.queryTimeoutMs);
    trackEngine(engine);
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

  /**
   * Runs one statement that writes no result rows (a load) on the progress-tracking connection,
   * after the loads queued before it, calling `onProgress` with DuckDB's percentage (0-100, or -1
   * while DuckDB cannot tell) five times a second.
   */
  runWithProgress(
    sql: string,
    options: RunOptions & { onProgress: (percentage: number) => void },
  ): Promise<void> {
    const run = this.loads.then(() =>
      this.withConnection(
        options,
        async (conn) => {
          // The progress type lives in @duckdb/node-bindings, which is not our direct dependency.
          const progress = () => (conn.progress as unknown as { percentage: number }).percentage;
          const poll = setInterval(() => options.onProgress(progress()), 200);
          try {
            await conn.run(sql, options.params ?? []);
          } finally {
            clearInterval(poll);
          }
        },
        this.loader,
      ),
    );
    this.loads = run.catch(() => undefined);
    return run;
  }

  private async withConnection<T>(
    options: RunOptions,
    fn: (conn: DuckDBConnection) => Promise<T>,
    shared?: DuckDBConnection,
  ): Promise<T> {
    if (options.signal?.aborted) throw new ToolshedError("timeout", "the call was cancelled before it ran");
    const conn = shared ?? (await this.instance.connect());
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
      if (!shared) conn.closeSync();
    }
  }

  /** The SQL reference to a dataset's table. */
  tableRef(name: string): string {
    return quoteIdent(name);
  }

  checkReadOnly(sql: string): Promise<SqlShape> {
    return checkReadOnly(this, sql);
  }

  listDatasets(): Promise<DatasetInfo[]> {
    return catalogList(this);
  }

  findDataset(name: string): Promise<DatasetInfo | undefined> {
    return catalogFind(this, name);
  }

  async ping(): Promise<boolean> {
    const { rows } = await this.run("SELECT 1");
    return rows[0]?.[0] === 1;
  }

  close(): Promise<void> {
    untrackEngine(this);
    this.loader.closeSync();
    this.instance.closeSync();
    return Promise.resolve();
  }
}
