/**
 * The engine host: a child process that owns the DuckDB instance and runs statements sent over IPC
 * (see engine-protocol.ts). It imports nothing of the server, so it starts fast; its stdout goes
 * nowhere (the parent's stdout is the protocol's) and it ends when the parent goes away.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { DUCKDB_NUMERIC, toNumber } from "./cells.js";
import type { HostReply, HostRequest, OpenSettings, OpenValue, RunValue } from "./engine-protocol.js";

let instance: DuckDBInstance | undefined;
/** The one connection with progress tracking on; loads run on it one at a time (the parent queues them). */
let loader: DuckDBConnection | undefined;
/** Connections of running statements, by request id, for interrupts. */
const running = new Map<number, DuckDBConnection>();

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
    return { internalViews: views.getRowsJson().map((row) => row[0] as string) };
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
    }
  }
  const conn = await instance.connect();
  running.set(request.id, conn);
  try {
    const reader =
      request.maxRows === undefined
        ? await conn.runAndReadAll(request.sql, request.params)
        : await conn.streamAndReadUntil(request.sql, request.maxRows + 1, request.params);
    const types = reader.columnTypes().map((t) => t.toString());
    const columns = reader.columnNames().map((name, i) => ({ name, type: types[i] ?? "UNKNOWN" }));
    let rows = reader.getRowsJson() as unknown[][];
    let more = false;
    if (request.maxRows !== undefined && (rows.length > request.maxRows || !reader.done)) {
      more = true;
      rows = rows.slice(0, request.maxRows);
    }
    const numeric = columns.map((c) => DUCKDB_NUMERIC.test(c.type));
    if (numeric.some(Boolean)) rows = rows.map((row) => row.map((v, i) => (numeric[i] ? toNumber(v) : v)));
    return { columns, rows, more };
  } finally {
    running.delete(request.id);
    conn.closeSync();
  }
}

process.on("message", (message: HostRequest) => {
  if (message.op === "interrupt") {
    running.get(message.id)?.interrupt();
    return;
  }
  const work = message.op === "open" ? open(message.settings) : run(message);
  work.then(
    (value) => send({ id: message.id, ok: true, value }),
    (e: unknown) => send({ id: message.id, ok: false, message: e instanceof Error ? e.message : String(e) }),
  );
});

// The parent going away (or closing the channel to stop us) ends the host; DuckDB checkpoints on close.
process.on("disconnect", () => {
  loader?.closeSync();
  instance?.closeSync();
  process.exit(0);
});
