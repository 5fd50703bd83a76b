import { mkdirSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { ToolshedError } from "@toolshed/server";
import type { Config } from "../config.js";
import { catalogFind, catalogList, type DatasetInfo } from "../datasets.js";
import { EngineHostClient } from "./engine-client.js";
import type { RunValue } from "./engine-protocol.js";
import {
  engineMessage,
  type Dialect,
  type Engine,
  type QueryResult,
  type RunOptions,
  type SqlShape,
} from "./engine.js";
import { resolveResourceLimits } from "../resource-limits.js";
import { prefilter } from "./duckdb-tree-check.js";
import { asToolshedError, checkReadOnly } from "./sql-guard.js";
import { CATALOG_TABLE, quoteIdent } from "./sql.js";

const DUCKDB_DIALECT: Dialect = {
  double: (e) => `${e}::DOUBLE`,
  median: (e) => `median(${e})`,
  quantile: (e, q) => `quantile_cont(${e}, ${q})`,
  comparable: (e) => e,
};

/**
 * The embedded DuckDB: one instance on a file in the data dir, locked down, a connection per call,
 * owned by an engine host process (engine-host.ts) so that a crash or a wedged statement in DuckDB
 * costs a restart of the host, not the server and its sessions.
 */
export class DuckDBEngine implements Engine {
  readonly kind = "duckdb" as const;
  readonly dialect = DUCKDB_DIALECT;

  /** Loads run one at a time on the host's progress-tracking connection. */
  private loads: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The engine host; exposed for tests that check restarts. */
    readonly host: EngineHostClient,
    readonly dataDir: string,
    readonly roots: string[],
    private readonly defaultTimeoutMs: number,
    /** The memory limit DuckDB runs under, for the advice when a statement exceeds it. */
    readonly memoryLimit: string,
    /** The time limit of a file load (--load-timeout-ms), separate from the query limit. */
    readonly loadTimeoutMs: number,
  ) {}

  static async open(config: Config): Promise<DuckDBEngine> {
    mkdirSync(config.dataDir, { recursive: true });
    const dataDir = realpathSync(config.dataDir);
    const roots = (config.allowDir.length ? config.allowDir : [dataDir]).map((dir) => realpathSync(dir));
    const limits = resolveResourceLimits(config);
    const tempDirectory = path.join(dataDir, ".tmp");
    mkdirSync(tempDirectory, { recursive: true });
    const host = new EngineHostClient({
      databaseFile: path.join(dataDir, "analytics.duckdb"),
      allowedDirectories: [...new Set([dataDir, ...roots])],
      tempDirectory,
      ...limits,
    });
    await host.start();
    const engine = new DuckDBEngine(
      host,
      dataDir,
      roots,
      config.queryTimeoutMs,
      limits.memoryLimit,
      config.loadTimeoutMs,
    );
    try {
      await engine.run(
        `CREATE TABLE IF NOT EXISTS ${quoteIdent(CATALOG_TABLE)} (name VARCHAR PRIMARY KEY, source VARCHAR, format VARCHAR, row_count BIGINT, columns VARCHAR, created_at TIMESTAMP DEFAULT current_timestamp)`,
      );
    } catch (e) {
      await host.close();
      throw e;
    }
    return engine;
  }

  /** The names (lower case, without schema) of this DuckDB's built-in views, which user SQL may not read. */
  get internalViewNames(): ReadonlySet<string> {
    return this.host.internalViewNames;
  }

  /** Runs one statement on its own connection, interrupted on timeout or abort. */
  async run(sql: string, options: RunOptions = {}): Promise<QueryResult> {
    const value = await this.call(
      {
        sql,
        params: options.params ?? [],
        ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      },
      options,
    );
    return value as RunValue as QueryResult;
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
    const run = this.loads.then(async () => {
      await this.call({ sql, params: options.params ?? [], progress: true }, options);
    });
    this.loads = run.catch(() => undefined);
    return run;
  }

  private async call(
    request: Parameters<EngineHostClient["run"]>[0],
    options: RunOptions & { onProgress?: (percentage: number) => void },
  ): Promise<unknown> {
    try {
      return await this.host.run(request, {
        timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } catch (e) {
      if (!(e instanceof ToolshedError) && /^Out of Memory Error/i.test(engineMessage(e))) {
        throw new ToolshedError(
          "invalid_input",
          `the statement needs more memory than the engine's limit (${this.memoryLimit}, --memory-limit) and the temp-directory spill allows; narrow it with WHERE or LIMIT, aggregate first, or have the operator raise --memory-limit or --max-temp-directory-size. DuckDB said: ${engineMessage(e)}`,
        );
      }
      throw e;
    }
  }

  /** The SQL reference to a dataset's table. */
  tableRef(name: string): string {
    return quoteIdent(name);
  }

  checkReadOnly(sql: string): Promise<SqlShape> {
    return checkReadOnly(this, sql);
  }

  /**
   * User SQL in one round trip: the keyword filter here, then the engine host parses, checks the
   * tree against the allow-lists and runs on one connection (see duckdb-tree-check.ts).
   */
  async query(sql: string, options: RunOptions & { maxRows: number }): Promise<QueryResult> {
    let guard;
    try {
      guard = { ...prefilter(sql), maxRows: options.maxRows };
    } catch (e) {
      throw asToolshedError(e);
    }
    const value = await this.call({ sql, params: options.params ?? [], guard }, options);
    return value as RunValue as QueryResult;
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

  async close(): Promise<void> {
    await this.host.close();
  }
}
