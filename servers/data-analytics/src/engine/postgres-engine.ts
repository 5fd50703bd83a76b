import pg from "pg";
import { ToolshedError } from "@toolshed/server";
import type { Config } from "../config.js";
import type { DatasetInfo } from "../datasets.js";
import {
  engineMessage,
  toNumber,
  type Cell,
  type Dialect,
  type Engine,
  type Param,
  type QueryResult,
  type RunOptions,
  type SqlShape,
} from "./engine.js";
import { PgGuardThread } from "./pg-guard-thread.js";
import type { IndexColumns } from "./pg-index-candidates.js";
import { requireReadOnlyRole } from "./pg-role.js";
import { quoteIdent } from "./sql.js";

/** Type names for the OIDs a result commonly has; anything else shows as its OID. */
const TYPE_NAMES: Record<number, string> = {
  16: "boolean",
  17: "bytea",
  18: "char",
  19: "name",
  20: "bigint",
  21: "smallint",
  23: "integer",
  25: "text",
  26: "oid",
  114: "json",
  700: "real",
  701: "double precision",
  1042: "character",
  1043: "character varying",
  1082: "date",
  1083: "time",
  1114: "timestamp",
  1184: "timestamptz",
  1186: "interval",
  1700: "numeric",
  2950: "uuid",
  3802: "jsonb",
  // Arrays, named as PostgreSQL writes them.
  199: "json[]",
  1000: "boolean[]",
  1005: "smallint[]",
  1007: "integer[]",
  1009: "text[]",
  1014: "character[]",
  1015: "character varying[]",
  1016: "bigint[]",
  1021: "real[]",
  1022: "double precision[]",
  1115: "timestamp[]",
  1182: "date[]",
  1185: "timestamptz[]",
  1231: "numeric[]",
  2951: "uuid[]",
  3807: "jsonb[]",
};
const NUMERIC_OIDS = new Set([20, 1700]);
/** Dates and times stay as PostgreSQL prints them rather than becoming JS Dates. */
const AS_TEXT_OIDS = new Set([1082, 1083, 1114, 1184, 1186, 1266]);
function typeParser(oid: number): (value: string) => unknown {
  if (AS_TEXT_OIDS.has(oid)) return (value: string) => value;
  return pg.types.getTypeParser(oid, "text") as (value: string) => unknown;
}
const TYPES = { getTypeParser: typeParser };
const NOT_COMPARABLE =
  /^(boolean|json|jsonb|xml|bytea|point|line|lseg|box|path|polygon|circle|ARRAY|USER-DEFINED)$/i;

const POSTGRES_DIALECT: Dialect = {
  double: (e) => `(${e})::double precision`,
  median: (e) => `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${e})`,
  quantile: (e, q) => `percentile_cont(${q}) WITHIN GROUP (ORDER BY ${e})`,
  comparable: (e, type) => (NOT_COMPARABLE.test(type) ? `${e}::text` : e),
};

const MAX_TABLES = 500;
/** Tables the planner estimates at this many rows or more are listed with the estimate, not counted. */
export const EXACT_COUNT_BELOW = 100_000;

/**
 * Every statement goes over the extended query protocol, whose Parse message carries exactly one
 * statement: `SELECT 1; COMMIT` is refused by PostgreSQL itself. (node-postgres uses the simple
 * protocol, which runs any number of statements, for a query without values unless told otherwise.)
 */
type OneStatement = pg.QueryConfig & { queryMode: "extended"; rowMode?: "array"; types?: typeof TYPES };
/** One statement inside a session's transaction, its rows as arrays (see PostgresEngine.session). */
export type SessionStatement = (text: string, values?: unknown[]) => Promise<pg.QueryResult<unknown[]>>;

function one(text: string, values: unknown[] = [], extra: Partial<OneStatement> = {}): OneStatement {
  return { text, values, queryMode: "extended", ...extra };
}

/**
 * An existing PostgreSQL database, read-only: every statement runs alone (extended protocol) in its
 * own READ ONLY transaction with statement_timeout and idle_in_transaction_session_timeout, on a
 * bounded pool, as a role checked at open to hold no write privileges. Datasets are the tables and
 * views of the allowed schemas; which rows a query can read is up to the role's privileges.
 */
export class PostgresEngine implements Engine {
  readonly kind = "postgres" as const;
  readonly dialect = POSTGRES_DIALECT;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schemas: string[],
    private readonly defaultTimeoutMs: number,
  ) {
    this.searchPath = schemas.map(quoteIdent).join(", ");
  }

  private readonly searchPath: string;
  private readonly guard = new PgGuardThread();

  static async open(config: Config, url: string): Promise<PostgresEngine> {
    const pool = new pg.Pool({
      connectionString: url,
      max: config.postgresPoolSize,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      application_name: "toolshed-data-analytics",
    });
    // An idle client's error (e.g. the server restarting) must not crash the process; the next
    // checkout opens a fresh connection.
    pool.on("error", () => undefined);
    const engine = new PostgresEngine(pool, config.postgresSchema, config.queryTimeoutMs);
    try {
      await engine.ping();
    } catch (e) {
      await pool.end();
      throw new ToolshedError("upstream_error", `cannot reach PostgreSQL: ${engineMessage(e)}`);
    }
    if (!config.postgresAllowPrivilegedRole) {
      try {
        const client = await pool.connect();
        try {
          await requireReadOnlyRole(client, config.postgresSchema);
        } finally {
          client.release();
        }
      } catch (e) {
        await pool.end();
        if (e instanceof ToolshedError) throw e;
        throw new ToolshedError("upstream_error", `cannot check the PostgreSQL role: ${engineMessage(e)}`);
      }
    }
    return engine;
  }

  async run(sql: string, options: RunOptions = {}): Promise<QueryResult> {
    const params = options.params ?? [];
    const text = params.length ? positional(sql) : sql;
    return this.session(options, async (statement) => {
      let result: pg.QueryResult<unknown[]>;
      let more = false;
      if (options.maxRows !== undefined) {
        // A cursor reads only the rows asked for, so a huge result costs no more than the cap. Every
        // statement run here is a SELECT (user SQL has passed the guard, pg-guard.ts).
        await statement(`DECLARE toolshed_cursor NO SCROLL CURSOR FOR ${text}`, params);
        result = await statement(`FETCH ${options.maxRows + 1} FROM toolshed_cursor`);
      } else {
        result = await statement(text, params);
      }
      const columns = result.fields.map((f) => ({
        name: f.name,
        type: TYPE_NAMES[f.dataTypeID] ?? `oid ${f.dataTypeID}`,
      }));
      const numeric = result.fields.map((f) => NUMERIC_OIDS.has(f.dataTypeID));
      let rows = result.rows.map((row) => row.map((v, i) => toCell(v, numeric[i] ?? false)));
      if (options.maxRows !== undefined && rows.length > options.maxRows) {
        more = true;
        rows = rows.slice(0, options.maxRows);
      }
      return { columns, rows, more };
    });
  }

  /**
   * Runs `body` on one pooled connection inside one READ ONLY transaction with the call's time
   * limits, then rolls back: the statements `body` sends share the transaction and the backend (what
   * HypoPG's hypothetical indexes, kept in backend memory, need). With `discardAfterError` the
   * connection is closed, not returned to the pool, when anything failed, so backend state that a
   * ROLLBACK does not undo cannot reach the next caller.
   */
  async session<T>(
    options: Pick<RunOptions, "signal" | "timeoutMs"> & { discardAfterError?: boolean },
    body: (statement: SessionStatement) => Promise<T>,
  ): Promise<T> {
    if (options.signal?.aborted) throw new ToolshedError("timeout", "the call was cancelled before it ran");
    const timeoutMs = Math.max(1, Math.floor(options.timeoutMs ?? this.defaultTimeoutMs));
    const client = await this.pool.connect();
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      void this.pool.query(one("SELECT pg_cancel_backend($1)", [pid(client)])).catch(() => undefined);
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let broken = false;
    try {
      await client.query(one("BEGIN READ ONLY"));
      // Set by us inside the transaction (is_local = true), so they end with it. Unqualified names
      // resolve in the allowed schemas, first one first (names are validated); a connection left
      // idle mid-transaction (a stalled process) is closed by the server after the time limit.
      await client.query(
        one(
          "SELECT set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $1, true), set_config('search_path', $2, true)",
          [String(timeoutMs), this.searchPath],
        ),
      );
      const value = await body((text, values = []) =>
        client.query<unknown[]>(one(text, values, { rowMode: "array", types: TYPES })),
      );
      await client.query(one("ROLLBACK"));
      return value;
    } catch (e) {
      await client.query(one("ROLLBACK")).catch(() => {
        broken = true;
      });
      if (options.discardAfterError) broken = true;
      const code = (e as { code?: string }).code;
      if (code === "57014") {
        if (cancelled) throw new ToolshedError("timeout", "query cancelled");
        throw new ToolshedError(
          "timeout",
          `query stopped after ${timeoutMs} ms (the time limit); narrow it with WHERE or LIMIT, or aggregate first`,
        );
      }
      if (code === "25006") {
        throw new ToolshedError("invalid_input", `refused: ${engineMessage(e)}; this server is read-only`);
      }
      throw e;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      client.release(broken);
    }
  }

  async checkReadOnly(sql: string): Promise<SqlShape> {
    await this.guard.check(sql);
    return {}; // results are read through a cursor whatever their shape
  }

  /** Checks `sql` as checkReadOnly does, and reads where an index could serve it (for index advice). */
  indexColumns(sql: string): Promise<IndexColumns> {
    return this.guard.indexColumns(sql);
  }

  async query(sql: string, options: RunOptions & { maxRows: number }): Promise<QueryResult> {
    await this.checkReadOnly(sql);
    return this.run(sql, options);
  }

  tableRef(name: string): string {
    const [schema, table] = this.split(name);
    return `${quoteIdent(schema)}.${quoteIdent(table)}`;
  }

  listDatasets(): Promise<DatasetInfo[]> {
    return this.tables();
  }

  async findDataset(name: string): Promise<DatasetInfo | undefined> {
    const [schema, table] = this.split(name);
    if (!this.schemas.includes(schema)) return undefined;
    return (await this.tables(schema, table))[0];
  }

  async ping(): Promise<boolean> {
    const { rows } = await this.run("SELECT 1", { timeoutMs: 5_000 });
    return rows[0]?.[0] === 1;
  }

  async close(): Promise<void> {
    await this.guard.close();
    await this.pool.end();
  }

  private split(name: string): [string, string] {
    const dot = name.indexOf(".");
    return dot < 0 ? [this.schemas[0]!, name] : [name.slice(0, dot), name.slice(dot + 1)];
  }

  /** Tables and views of the allowed schemas (or one of them), with columns and exact row counts. */
  private async tables(schema?: string, table?: string): Promise<DatasetInfo[]> {
    const schemas = schema ? [schema] : this.schemas;
    const params: Param[] = [...schemas];
    let where = `c.table_schema IN (${schemas.map(() => "?").join(", ")})`;
    if (table !== undefined) {
      where += " AND c.table_name = ?";
      params.push(table);
    }
    const { rows } = await this.run(
      `SELECT c.table_schema, c.table_name, t.table_type, c.column_name, c.data_type FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name WHERE ${where} ORDER BY 1, 2, c.ordinal_position`,
      { params },
    );
    const found = new Map<string, DatasetInfo>();
    for (const [s, t, kind, column, type] of rows as string[][]) {
      const name = s === this.schemas[0] ? t! : `${s}.${t}`;
      let info = found.get(name);
      if (!info) {
        if (found.size >= MAX_TABLES) break;
        info = {
          name,
          source: `postgres ${s}.${t}`,
          format: kind === "VIEW" ? "view" : "table",
          rowCount: 0,
          columns: [],
        };
        found.set(name, info);
      }
      info.columns.push({ name: column!, type: type! });
    }
    const list = [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
    // A warehouse table of millions of rows is not counted on every listing: above EXACT_COUNT_BELOW
    // rows (by the planner's own estimate, kept by ANALYZE/autovacuum) the estimate is given as one.
    const estimates = new Map<string, number>();
    const { rows: stats } = await this.run(
      `SELECT n.nspname, c.relname, c.reltuples::float8 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN (${schemas.map(() => "?").join(", ")}) AND c.relkind IN ('r', 'm')`,
      { params: [...schemas] },
    );
    for (const [s, t, n] of stats as [string, string, number][]) {
      estimates.set(s === this.schemas[0] ? t : `${s}.${t}`, Number(n));
    }
    for (const info of list) {
      const estimate = estimates.get(info.name) ?? -1;
      if (estimate >= EXACT_COUNT_BELOW) {
        info.rowCount = Math.round(estimate);
        info.rowCountEstimated = true;
        continue;
      }
      try {
        const count = await this.run(`SELECT count(*) FROM ${this.tableRef(info.name)}`, {
          timeoutMs: 5_000,
        });
        info.rowCount = Number(count.rows[0]?.[0] ?? 0);
      } catch {
        info.rowCount = -1;
      }
    }
    return list;
  }
}

function pid(client: pg.PoolClient): number {
  return (client as unknown as { processID: number }).processID;
}

function toCell(v: unknown, numeric: boolean): Cell {
  if (v === null || v === undefined) return null;
  if (numeric) return toNumber(v as string);
  if (Buffer.isBuffer(v)) return `\\x${v.toString("hex")}`;
  return v as Cell;
}

/** `?` placeholders to `$1, $2, …`, leaving string literals and quoted identifiers alone. */
export function positional(sql: string): string {
  let n = 0;
  let out = "";
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === "?") {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}
