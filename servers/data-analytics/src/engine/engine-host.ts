/**
 * The engine host: a child process that owns the DuckDB instance and runs statements sent over IPC
 * (see engine-protocol.ts). It imports nothing of the server, so it starts fast; its stdout goes
 * nowhere (the parent's stdout is the protocol's) and it ends when the parent goes away.
 */
import {
  DuckDBInstance,
  JsonDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
  type Json,
} from "@duckdb/node-api";
import { DUCKDB_NUMERIC, toNumber } from "../cells.js";
import { checkParsed, GuardRefusal, PARSE_SQL } from "./duckdb-tree-check.js";
import type {
  HostReply,
  HostRequest,
  HostStats,
  OpenSettings,
  OpenValue,
  RunValue,
} from "./engine-protocol.js";
import { ParseCache } from "./parse-cache.js";

let instance: DuckDBInstance | undefined;
/** The one connection with progress tracking on; loads run on it one at a time (the parent queues them). */
let loader: DuckDBConnection | undefined;
/** DuckDB's built-in views (names, lower case), which user SQL may not read. */
let internalViews: ReadonlySet<string> = new Set();
/**
 * Idle connections, kept for the next statement: opening one is a trip through the thread pool
 * that a call should not pay. Nothing a statement may run (user SQL is read-only and cannot SET)
 * leaves state on a connection; one that was interrupted is closed rather than kept.
 */
const idle: DuckDBConnection[] = [];
const MAX_IDLE = 8;
const interrupted = new Set<number>();
/** Connections of running statements, by request id, for interrupts. */
const running = new Map<number, DuckDBConnection>();
/**
 * The guard's parse statement, prepared once per connection: preparing it anew costs about as much
 * as the parse itself, on every user statement.
 */
const parsers = new WeakMap<DuckDBConnection, DuckDBPreparedStatement>();
/**
 * User statements prepared on each connection, by their exact text, least recently used first: a
 * statement sent a third time skips DuckDB's prepare (its parse, bind and plan, one trip through
 * the thread pool). A prepared statement holds no rows and no settings, its bindings are cleared
 * before each run, and DuckDB binds it again when the catalog has changed since (a dataset dropped,
 * replaced or given other columns), so it reads the datasets as they are now.
 */
const prepared = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();
const MAX_PREPARED = 16;

/** Closes a connection with its prepared statements. */
function close(conn: DuckDBConnection): void {
  parsers.get(conn)?.destroySync();
  for (const statement of prepared.get(conn)?.values() ?? []) statement.destroySync();
  conn.closeSync();
}

/**
 * Parses of recent statements: an agent repeats and retries statements, and a parse is a trip
 * through DuckDB's thread pool (about a third of a `SELECT 1` call's time in the host).
 */
const parses = new ParseCache();

/** DuckDB's parse of `sql` (json_serialize_sql's JSON), from the cache or on `conn`. */
async function parse(conn: DuckDBConnection, sql: string): Promise<string> {
  const cached = parses.get(sql);
  if (cached !== undefined) return cached;
  let parser = parsers.get(conn);
  if (!parser) {
    parser = await conn.prepare(PARSE_SQL);
    parsers.set(conn, parser);
  }
  parser.bindVarchar(1, sql);
  const tree = (readMaterialized(await parser.run()).getRowsJson()[0]?.[0] as string | undefined) ?? "{}";
  parses.set(sql, tree);
  return tree;
}

/** What run() reads of a result: the columns, the rows as JSON, and whether it ended. */
type Read = Pick<DuckDBResultReader, "columnNames" | "columnTypes" | "getRowsJson" | "done">;

/**
 * A materialized result's rows, read without awaiting: its chunks are in memory already, while
 * DuckDB's reader fetches each one (and then the end) through the thread pool, two trips for a
 * one-row result.
 */
function readMaterialized(result: DuckDBMaterializedResult): Read {
  const rows: Json[][] = [];
  for (let i = 0; i < result.chunkCount; i++) {
    const chunk = result.getChunk(i);
    for (let row = 0; row < chunk.rowCount; row++)
      rows.push(chunk.convertRowValues<Json>(row, JsonDuckDBValueConverter));
  }
  return {
    columnNames: () => result.columnNames(),
    columnTypes: () => result.columnTypes(),
    getRowsJson: () => rows,
    done: true,
  };
}

/**
 * Runs a statement the guard has checked, which is one statement (multiple are refused), so it is
 * prepared directly: one trip through DuckDB's thread pool instead of the two of splitting the text
 * into statements and then preparing the last; or none, when this connection prepared it before.
 * A bounded statement seen for the first time runs through DuckDB's query instead (one trip in all).
 */
async function readChecked(
  conn: DuckDBConnection,
  sql: string,
  params: Extract<HostRequest, { op: "run" }>["params"],
  maxRows: number | undefined,
  /** Whether to keep the statement prepared: only one sent before, as keeping costs a new one. */
  keep: boolean,
  /** Whether `sql` is exactly the text the guard parsed (not an EXPLAIN of it). */
  exact: boolean,
): Promise<Read> {
  let kept = prepared.get(conn);
  if (!kept) prepared.set(conn, (kept = new Map<string, DuckDBPreparedStatement>()));
  if (!keep && !kept.has(sql) && maxRows === undefined && params.length === 0 && exact) {
    // A first sight of a bounded statement, exactly the text the guard parsed as one statement:
    // DuckDB's query runs it in one trip (parse, plan, run) where preparing and then running takes
    // two, and a statement prepared only to be destroyed saves nothing.
    return readMaterialized(await conn.run(sql));
  }
  const statement = kept.get(sql) ?? (await conn.prepare(sql));
  kept.delete(sql);
  let read: Read;
  try {
    statement.clearBindings();
    if (params.length) statement.bind(params);
    read =
      maxRows === undefined
        ? readMaterialized(await statement.run())
        : await statement.streamAndReadUntil(maxRows + 1);
  } catch (e) {
    // A statement that failed (a dataset gone, a type error) is prepared anew next time.
    statement.destroySync();
    throw e;
  }
  if (!keep) {
    statement.destroySync();
    return read;
  }
  kept.set(sql, statement);
  for (const [text, oldest] of kept) {
    if (kept.size <= MAX_PREPARED) break;
    kept.delete(text);
    oldest.destroySync();
  }
  return read;
}

function send(reply: HostReply): void {
  process.send?.(reply);
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function open(settings: OpenSettings): Promise<OpenValue> {
  instance = await DuckDBInstance.create(settings.databaseFile, {
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
    memory_limit: settings.memoryLimit,
    threads: String(settings.threads),
    temp_directory: settings.tempDirectory,
    max_temp_directory_size: settings.maxTempDirectorySize,
  });
  // Progress tracking is a per-connection setting that the locked configuration cannot turn on
  // later, so one connection is set up for it now (never printing).
  loader = await instance.connect();
  await loader.run("SET enable_progress_bar = true");
  await loader.run("SET enable_progress_bar_print = false");
  await loader.run("SET progress_bar_time = 0");
  const conn = await instance.connect();
  try {
    // Order matters: allowed_directories must be set while external access is still on, and
    // lock_configuration last so no statement (ours or a user's) can change any of it afterwards.
    const dirs = settings.allowedDirectories.map((d) => quote(`${d}/`)).join(", ");
    await conn.run(`SET allowed_directories = [${dirs}]`);
    await conn.run("SET enable_external_access = false");
    await conn.run("SET lock_configuration = true");
    const views = await conn.runAndReadAll(
      "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE internal ORDER BY 1",
    );
    const names = views.getRowsJson().map((row) => row[0] as string);
    internalViews = new Set(names.map((v) => v.slice(v.indexOf(".") + 1).toLowerCase()));
    return { internalViews: names };
  } finally {
    conn.closeSync();
  }
}

async function run(request: Extract<HostRequest, { op: "run" }>): Promise<RunValue | null> {
  if (!instance || !loader) throw new Error("the engine host is not open");
  if (request.progress) {
    const conn = loader;
    running.set(request.id, conn);
    // The progress type lives in @duckdb/node-bindings, which is not our direct dependency.
    const poll = setInterval(
      () =>
        send({ id: request.id, progress: (conn.progress as unknown as { percentage: number }).percentage }),
      200,
    );
    try {
      await conn.run(request.sql, request.params);
      return null;
    } finally {
      clearInterval(poll);
      running.delete(request.id);
      interrupted.delete(request.id);
    }
  }
  const conn = idle.pop() ?? (await instance.connect());
  running.set(request.id, conn);
  try {
    let maxRows = request.maxRows;
    /** Whether the guard has seen this statement before (its parse was cached), see readChecked. */
    let repeated = false;
    if (request.guard) {
      // Parse once and check on this connection, then run: one round trip for user SQL.
      repeated = parses.has(request.guard.inner);
      const tree = await parse(conn, request.guard.inner);
      const shape = checkParsed(tree, internalViews, request.guard.explained, request.guard.inner);
      // A statement whose own LIMIT fits under the cap runs materialized, which DuckDB parallelizes
      // fully; any other is streamed and read only up to the cap (a 10^12-row join costs nothing).
      const bounded = shape.rowLimit !== undefined && shape.rowLimit <= request.guard.maxRows;
      maxRows = bounded ? undefined : request.guard.maxRows;
    }
    const reader = request.guard
      ? await readChecked(
          conn,
          request.sql,
          request.params,
          maxRows,
          repeated,
          request.sql === request.guard.inner,
        )
      : maxRows === undefined
        ? await conn.runAndReadAll(request.sql, request.params)
        : await conn.streamAndReadUntil(request.sql, maxRows + 1, request.params);
    const types = reader.columnTypes().map((t) => t.toString());
    const columns = reader.columnNames().map((name, i) => ({ name, type: types[i] ?? "UNKNOWN" }));
    let rows = reader.getRowsJson() as unknown[][];
    let more = false;
    if (maxRows !== undefined && (rows.length > maxRows || !reader.done)) {
      more = true;
      rows = rows.slice(0, maxRows);
    }
    const numeric = columns.map((c) => DUCKDB_NUMERIC.test(c.type));
    if (numeric.some(Boolean)) rows = rows.map((row) => row.map((v, i) => (numeric[i] ? toNumber(v) : v)));
    return { columns, rows, more };
  } finally {
    running.delete(request.id);
    if (interrupted.delete(request.id) || idle.length >= MAX_IDLE) close(conn);
    else idle.push(conn);
  }
}

process.on("message", (message: HostRequest) => {
  if (message.op === "interrupt") {
    const conn = running.get(message.id);
    if (conn) {
      interrupted.add(message.id);
      conn.interrupt();
    }
    return;
  }
  if (message.op === "stats") {
    const stats: HostStats = { parseCache: { size: parses.size, hits: parses.hits, misses: parses.misses } };
    send({ id: message.id, ok: true, value: stats });
    return;
  }
  const work = message.op === "open" ? open(message.settings) : run(message);
  work.then(
    (value) => send({ id: message.id, ok: true, value }),
    (e: unknown) =>
      send({
        id: message.id,
        ok: false,
        message: e instanceof Error ? e.message : String(e),
        ...(e instanceof GuardRefusal ? { refused: true } : {}),
      }),
  );
});

// The parent going away (or closing the channel to stop us) ends the host; DuckDB checkpoints on close.
process.on("disconnect", () => {
  for (const conn of idle.splice(0)) close(conn);
  loader?.closeSync();
  instance?.closeSync();
  process.exit(0);
});
