import { mkdtemp, rm, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { serverEnv, trackChild, untrackChild } from "../lib/children.js";
import type { Mode } from "../lib/cli.js";
import { median, round } from "../lib/stats.js";

export type { Mode };

export interface Plan {
  /** Rows in the generated Parquet and CSV files. */
  rows: number;
  /** Timed rounds per query and side, after one warm-up round. */
  rounds: number;
  /** Calls per side for the call floors (SELECT 1, SELECT <n> vs the bare SDK's echo), after a warm-up. */
  floorCalls: number;
  /** Spawns per side for the cold start (spawn to initialize result), alternating. */
  coldStarts: number;
  watchdogMs: number;
}

export const PLANS: Record<Mode, Plan> = {
  full: { rows: 10_000_000, rounds: 11, floorCalls: 200, coldStarts: 11, watchdogMs: 30 * 60_000 },
  quick: { rows: 1_000_000, rounds: 7, floorCalls: 100, coldStarts: 7, watchdogMs: 10 * 60_000 },
  smoke: { rows: 20_000, rounds: 3, floorCalls: 10, coldStarts: 2, watchdogMs: 25_000 },
};

/** The two queries, the same SQL text on both sides. */
export const QUERIES = {
  groupby:
    "SELECT category, count(*) AS n, sum(amount) AS total, avg(amount) AS mean, max(amount) AS top FROM events GROUP BY category ORDER BY category",
  topk: "SELECT id, store, day, amount FROM events WHERE store < 100 AND amount > 500 ORDER BY amount DESC, id LIMIT 10",
} as const;
export type QueryName = keyof typeof QUERIES;

export interface Samples {
  rows: number;
  parquet_bytes: number;
  csv_bytes: number;
  generate_s: number;
  load_csv_s: number;
  load_parquet_s: number;
  /** Milliseconds per round, in round order. */
  kit_ms: Record<QueryName, number[]>;
  direct_ms: Record<QueryName, number[]>;
  server_peak_rss_mib: number;
  server_stderr_bytes: number;
  /** Milliseconds per call: `query` SELECT 1 on the server vs `echo` on the bare SDK server, both over stdio. */
  floor_kit_ms: number[];
  /**
   * Milliseconds per call of a statement the server has not seen (`SELECT <n>`, n new each call),
   * so that the engine host's parse cache, which serves the repeated SELECT 1, does not flatter the floor.
   */
  floor_fresh_ms: number[];
  floor_sdk_ms: number[];
  /** Milliseconds from spawn to the initialize result: the server vs the bare SDK server. */
  coldstart_kit_ms: number[];
  coldstart_sdk_ms: number[];
}

const CLIENT_INFO = { name: "toolshed-bench-analytics", version: "0.0.0" };

function serverBin(): string {
  return fileURLToPath(new URL("./bin.js", import.meta.resolve("@toolshed/server-data-analytics")));
}

/** The bare-SDK baseline server (src/baseline/sdk-server.ts, built). */
function sdkBin(): string {
  return fileURLToPath(new URL("../baseline/sdk-server.js", import.meta.url));
}

/** Spawns a stdio server and connects an SDK client; resolves once the initialize result is in. */
async function connect(args: string[]): Promise<{ client: Client; pid: number; stderr: () => number }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: serverEnv(),
    stderr: "pipe",
  });
  let stderrBytes = 0;
  transport.stderr!.on("data", (chunk: Buffer) => (stderrBytes += chunk.length));
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await start();
    trackChild(transport.pid!);
  };
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  await client.connect(transport);
  return { client, pid: transport.pid!, stderr: () => stderrBytes };
}

async function closeClient(c: { client: Client; pid: number }): Promise<void> {
  await c.client.close();
  untrackChild(c.pid);
}

/**
 * Cold start: spawn to initialize result, the server (on a fresh data dir each time) against the
 * bare SDK server, alternating which goes first.
 */
async function coldStarts(dir: string, plan: Plan, log: (line: string) => void) {
  const kit: number[] = [];
  const sdk: number[] = [];
  for (let i = -1; i < plan.coldStarts; i++) {
    const order = i % 2 === 0 ? (["kit", "sdk"] as const) : (["sdk", "kit"] as const);
    for (const side of order) {
      const args =
        side === "kit"
          ? [serverBin(), "--data-dir", join(dir, `cold-${i + 1}`)]
          : [sdkBin(), "--transport", "stdio"];
      const [ms, c] = await timed(() => connect(args));
      await closeClient(c);
      if (i >= 0) (side === "kit" ? kit : sdk).push(round3(ms));
    }
  }
  log(`cold start: server ${median(kit)} ms, bare SDK ${median(sdk)} ms (medians of ${plan.coldStarts})`);
  return { kit, sdk };
}

/**
 * The call floors, calls alternating: `query` of the same SELECT 1 each time and of a statement new
 * each time (`SELECT <n>`, parsed anew) on the server, against `echo` on the bare SDK server.
 */
async function callFloor(kitClient: Client, plan: Plan, log: (line: string) => void) {
  const sdk = await connect([sdkBin(), "--transport", "stdio"]);
  const times = { kit: [] as number[], fresh: [] as number[], sdk: [] as number[] };
  // Far from any number the warm-up or the queries above used, and one more each call.
  let n = 1_000_000;
  try {
    for (let i = -10; i < plan.floorCalls; i++) {
      const sides = ["kit", "fresh", "sdk"] as const;
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const [ms] = await timed(() =>
          side === "kit"
            ? callTool(kitClient, "query", { sql: "SELECT 1 AS one" })
            : side === "fresh"
              ? callTool(kitClient, "query", { sql: `SELECT ${n++} AS one` })
              : callTool(sdk.client, "echo", { message: "1" }),
        );
        if (i >= 0) times[side].push(round3(ms));
      }
    }
  } finally {
    await closeClient(sdk);
  }
  log(
    `call floor: server SELECT 1 ${round3(median(times.kit))} ms, SELECT <new n> ${round3(median(times.fresh))} ms, bare SDK echo ${round3(median(times.sdk))} ms (medians of ${plan.floorCalls})`,
  );
  return times;
}

/** Peak resident set size (VmHWM) of a process in MiB, from /proc. */
function peakRssMiB(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return kb === undefined ? Number.NaN : Number(kb) / 1024;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function generate(conn: DuckDBConnection, dir: string, rows: number): Promise<void> {
  // Deterministic pseudo-random columns from the row number (multiplicative hashing).
  const select = `SELECT range AS id, 'cat_' || lpad((range % 100)::VARCHAR, 2, '0') AS category, ((range * 7919) % 1000)::INTEGER AS store, DATE '2024-01-01' + (range % 366)::INTEGER AS day, round(((range * 2654435761) % 100000) / 100.0, 2)::DOUBLE AS amount FROM range(${rows})`;
  await conn.run(`COPY (${select}) TO ${sqlString(join(dir, "events.parquet"))} (FORMAT parquet)`);
  await conn.run(`COPY (${select}) TO ${sqlString(join(dir, "events.csv"))} (FORMAT csv, HEADER true)`);
}

interface CallResult {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallResult> {
  const r = (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 600_000,
  })) as CallResult;
  if (r.isError) throw new Error(`${name} failed: ${r.content?.map((c) => c.text).join(" ")}`);
  return r;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - started) / 1e6, value];
}

export async function runAnalytics(plan: Plan, log: (line: string) => void): Promise<Samples> {
  const dir = await mkdtemp(join(tmpdir(), "toolshed-bench-analytics-"));
  const direct = await DuckDBInstance.create(join(dir, "direct.duckdb"));
  const conn = await direct.connect();
  let client: Client | undefined;
  let pid: number | undefined;
  try {
    log(`generating ${plan.rows.toLocaleString("en")} rows as Parquet and CSV in ${dir}`);
    const [generateMs] = await timed(() => generate(conn, dir, plan.rows));
    const parquetBytes = (await stat(join(dir, "events.parquet"))).size;
    const csvBytes = (await stat(join(dir, "events.csv"))).size;
    log(`generated in ${(generateMs / 1000).toFixed(1)} s: Parquet ${mb(parquetBytes)}, CSV ${mb(csvBytes)}`);

    // The server under test: the built bin over stdio, as a client would run it.
    const server = await connect([serverBin(), "--data-dir", dir, "--query-timeout-ms", "600000"]);
    client = server.client;
    pid = server.pid;
    const stderrBytes = server.stderr;

    const [loadCsvMs] = await timed(() =>
      callTool(client!, "register_dataset", { name: "events_csv", path: "events.csv" }),
    );
    log(
      `register_dataset CSV: ${(loadCsvMs / 1000).toFixed(2)} s, ${Math.round(plan.rows / (loadCsvMs / 1000))} rows/s`,
    );
    const [loadParquetMs] = await timed(() =>
      callTool(client!, "register_dataset", { name: "events", path: "events.parquet" }),
    );
    log(`register_dataset Parquet: ${(loadParquetMs / 1000).toFixed(2)} s`);
    // The direct side gets the same table, loaded the same way, in its own DuckDB file.
    await conn.run(
      `CREATE TABLE events AS SELECT * FROM read_parquet(${sqlString(join(dir, "events.parquet"))})`,
    );

    const kit = async (sql: string) => {
      const r = await callTool(client!, "query", { sql });
      return (r.structuredContent?.rowCount as number | undefined) ?? -1;
    };
    const directRun = async (sql: string) => (await conn.runAndReadAll(sql)).getRowsJson().length;

    // Both sides must return the same rows.
    for (const [name, sql] of Object.entries(QUERIES)) {
      const [a, b] = [await kit(sql), await directRun(sql)];
      if (a !== b) throw new Error(`${name}: the server returned ${a} rows, DuckDB directly ${b}`);
    }

    const kitMs: Record<QueryName, number[]> = { groupby: [], topk: [] };
    const directMs: Record<QueryName, number[]> = { groupby: [], topk: [] };
    for (let round = -1; round < plan.rounds; round++) {
      for (const name of Object.keys(QUERIES) as QueryName[]) {
        const sql = QUERIES[name];
        // Alternate which side goes first, so neither always runs on a warmer cache.
        const order = round % 2 === 0 ? (["kit", "direct"] as const) : (["direct", "kit"] as const);
        for (const side of order) {
          const [ms] = await timed(() => (side === "kit" ? kit(sql) : directRun(sql)));
          if (round >= 0) (side === "kit" ? kitMs : directMs)[name].push(round3(ms));
        }
      }
      if (round >= 0) {
        log(
          `round ${round + 1}/${plan.rounds}: groupby kit ${kitMs.groupby.at(-1)} ms / direct ${directMs.groupby.at(-1)} ms; topk kit ${kitMs.topk.at(-1)} ms / direct ${directMs.topk.at(-1)} ms`,
        );
      }
    }
    const floor = await callFloor(client, plan, log);
    const peak = peakRssMiB(pid);
    const cold = await coldStarts(dir, plan, log);
    return {
      rows: plan.rows,
      parquet_bytes: parquetBytes,
      csv_bytes: csvBytes,
      generate_s: round3(generateMs / 1000),
      load_csv_s: round3(loadCsvMs / 1000),
      load_parquet_s: round3(loadParquetMs / 1000),
      kit_ms: kitMs,
      direct_ms: directMs,
      server_peak_rss_mib: round(peak, 1),
      server_stderr_bytes: stderrBytes(),
      floor_kit_ms: floor.kit,
      floor_fresh_ms: floor.fresh,
      floor_sdk_ms: floor.sdk,
      coldstart_kit_ms: cold.kit,
      coldstart_sdk_ms: cold.sdk,
    };
  } finally {
    await client?.close();
    if (pid !== undefined) untrackChild(pid);
    conn.closeSync();
    direct.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

export function figuresOf(s: Samples): Record<string, number> {
  const kitGroupby = median(s.kit_ms.groupby);
  const directGroupby = median(s.direct_ms.groupby);
  const kitTopk = median(s.kit_ms.topk);
  const directTopk = median(s.direct_ms.topk);
  return {
    // Throughput ratio: queries/s through tools/call over queries/s on DuckDB directly.
    groupby_ratio_vs_duckdb: round(directGroupby / kitGroupby, 3),
    topk_ratio_vs_duckdb: round(directTopk / kitTopk, 3),
    // Overhead ratios: the server's time over the bare SDK server's (lower is better).
    call_floor_ratio_vs_sdk: round(median(s.floor_kit_ms) / median(s.floor_sdk_ms), 3),
    call_floor_fresh_ratio_vs_sdk: round(median(s.floor_fresh_ms) / median(s.floor_sdk_ms), 3),
    coldstart_ratio_vs_sdk: round(median(s.coldstart_kit_ms) / median(s.coldstart_sdk_ms), 3),
    call_floor_kit_ms: round(median(s.floor_kit_ms), 3),
    call_floor_fresh_kit_ms: round(median(s.floor_fresh_ms), 3),
    call_floor_sdk_ms: round(median(s.floor_sdk_ms), 3),
    coldstart_kit_ms: round(median(s.coldstart_kit_ms), 1),
    coldstart_sdk_ms: round(median(s.coldstart_sdk_ms), 1),
    load_rows_per_s: Math.round(s.rows / s.load_csv_s),
    peak_rss_mb: s.server_peak_rss_mib,
    groupby_kit_ms: round(kitGroupby, 2),
    groupby_direct_ms: round(directGroupby, 2),
    topk_kit_ms: round(kitTopk, 2),
    topk_direct_ms: round(directTopk, 2),
    load_parquet_rows_per_s: Math.round(s.rows / s.load_parquet_s),
    rows: s.rows,
  };
}

const round3 = (v: number) => round(v, 3);
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
