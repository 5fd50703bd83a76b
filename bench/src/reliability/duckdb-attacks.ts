import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { callTool as rawCallTool } from "./raw-http.js";
import type { Attack, AttackContext, AttackOutcome } from "./types.js";
import { sleep, startServer, withTimeout } from "./processes.js";
import type { ServerProcess } from "./types.js";
import { callMessage, initializeMessage, openSession } from "./raw-http.js";

/**
 * data-analytics on its embedded DuckDB: native crashes and wedges in the engine, functions with
 * side effects (logging, SQL text, files, settings), unbounded nesting and memory. The engine runs
 * in a host process of its own; each attack checks the server (not just the engine) stays up.
 */

const CRASH_SQL = "SELECT json_structure(repeat('[', 100000) || repeat(']', 100000)) AS s";

interface Result {
  what: string;
  isError: boolean;
  text: string;
  ok: boolean;
}

async function session(ctx: AttackContext, who: "alice" | "bob"): Promise<Record<string, string>> {
  return (await openSession(ctx.url, { "x-api-key": ctx[who] })).headers;
}

let nextId = 5_000;

/** One raw `tools/call` through the shared helper, with ids of this file's own range. */
function callTool(
  ctx: AttackContext,
  headers: Record<string, string>,
  name: string,
  args: Record<string, unknown>,
) {
  return rawCallTool(ctx.url, headers, nextId++, name, args);
}

function outcome(results: Result[]): AttackOutcome {
  const through = results.filter((r) => !r.ok);
  return {
    refused: through.length === 0,
    detail: through.length
      ? `not refused: ${through.map((r) => `${r.what} -> ${r.text.slice(0, 160)}`).join("; ")}`
      : `${results.length} checks held, e.g. ${results[0]?.what}: ${results[0]?.text.slice(0, 120)}`,
  };
}

/** Each SQL text must be refused by the guard, with the reason matching `reason`. */
async function refuseAll(
  ctx: AttackContext,
  headers: Record<string, string>,
  statements: string[],
  reason: RegExp,
): Promise<Result[]> {
  const results: Result[] = [];
  for (const sql of statements) {
    const r = await callTool(ctx, headers, "query", { sql });
    results.push({ what: sql, ...r, ok: r.isError && reason.test(r.text) && !r.text.includes("/tmp/") });
  }
  return results;
}

/** The server process is still running and a fresh session's query answers. */
async function stillUp(ctx: AttackContext, server: ServerProcess = ctx.server): Promise<Result> {
  if (server.exit()) return { what: "server still running", isError: true, text: "exited", ok: false };
  const r = await callTool(ctx, await session(ctx, "bob"), "query", { sql: "SELECT 42 AS answer" });
  return { what: "another session answers afterwards", ...r, ok: !r.isError && /42/.test(r.text) };
}

/** A data-analytics server over stdio with its own data dir, driven by raw JSON-RPC lines. */
async function stdioServer(ctx: AttackContext, args: string[]) {
  const server = await startServer(ctx.target, { stdio: true, args });
  const dataDir = server.child.spawnargs[server.child.spawnargs.lastIndexOf("--data-dir") + 1] ?? "";
  const nonProtocol: string[] = [];
  const answers = new Map<number | string, unknown>();
  let partial = "";
  server.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!line) continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        nonProtocol.push(line);
        continue;
      }
      if (!JSONRPCMessageSchema.safeParse(message).success) nonProtocol.push(line);
      const id = (message as { id?: number | string }).id;
      if (id !== undefined) answers.set(id, message);
    }
  });
  server.child.stdin!.on("error", () => {});
  const send = (line: string) => server.child.stdin!.write(`${line}\n`);
  const request = async (id: number | string, line: string, ms: number) => {
    send(line);
    await withTimeout(
      (async () => {
        while (!answers.has(id) && !server.exit()) await sleep(25);
      })(),
      ms,
      `no answer to ${String(id)}`,
    );
    return answers.get(id) as { result?: { isError?: boolean; content?: { text?: string }[] } } | undefined;
  };
  const tool = async (id: number, name: string, args: Record<string, unknown>, ms = 15_000) => {
    const m = await request(id, callMessage(id, name, args), ms);
    return {
      isError: m?.result?.isError === true,
      text: (m?.result?.content ?? []).map((c) => c.text ?? "").join("\n"),
    };
  };
  await request("init", initializeMessage("init"), 15_000);
  send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
  return { server, dataDir, nonProtocol, tool, partial: () => partial };
}

export const duckdbAttacks: readonly Attack[] = [
  {
    name: "Native crash in DuckDB (json_structure over 100,000-deep JSON text): the caller gets a retryable error, other sessions keep working",
    run: async (ctx) => {
      const alice = await session(ctx, "alice");
      const crashed = await callTool(ctx, alice, "query", { sql: CRASH_SQL });
      const results: Result[] = [
        {
          what: CRASH_SQL,
          ...crashed,
          ok: crashed.isError && /engine crashed/.test(crashed.text) && /\(retryable\)/.test(crashed.text),
        },
        await stillUp(ctx),
      ];
      const again = await callTool(ctx, alice, "list_datasets", {});
      results.push({ what: "the crashing session goes on", ...again, ok: !again.isError });
      return outcome(results);
    },
  },
  {
    name: "Deeply nested load_inline_dataset (400 KB of '[') is refused by the nesting limit before DuckDB parses it",
    run: async (ctx) => {
      const alice = await session(ctx, "alice");
      const data = `[{"a": ${"[".repeat(200_000)}${"]".repeat(200_000)}}]`;
      const r = await callTool(ctx, alice, "load_inline_dataset", { name: "deep_inline", data });
      return outcome([
        { what: "400 KB nested inline JSON", ...r, ok: r.isError && /more than 256 deep/.test(r.text) },
        await stillUp(ctx),
      ]);
    },
  },
  {
    name: "A 5,000-deep JSON file that wedges DuckDB's reader: refused by the input-shape guard (or stopped at the load time limit), later loads run, SIGTERM ends the server",
    run: async (ctx) => {
      const { server, dataDir, tool } = await stdioServer(ctx, [
        "--query-timeout-ms",
        "1000",
        "--load-timeout-ms",
        "1000",
      ]);
      try {
        writeFileSync(join(dataDir, "deep.json"), "[".repeat(5_000) + "]".repeat(5_000));
        writeFileSync(join(dataDir, "ok.csv"), "a,b\n1,2\n");
        const started = Date.now();
        const wedged = await tool(2, "register_dataset", { name: "deep", path: "deep.json" }, 20_000);
        const took = Date.now() - started;
        const next = await tool(3, "register_dataset", { name: "ok", path: "ok.csv" }, 20_000);
        const results: Result[] = [
          {
            what: `deep.json (answered in ${took} ms)`,
            ...wedged,
            ok:
              wedged.isError &&
              (/^invalid_input: 'deep.json' nests JSON/.test(wedged.text) || /^timeout:/.test(wedged.text)) &&
              took < 12_000,
          },
          { what: "the next load", ...next, ok: !next.isError && /1 rows|rows/.test(next.text) },
        ];
        const exit = await server.stop("SIGTERM", 10_000);
        results.push({
          what: "SIGTERM ends the process",
          isError: exit.signal === "SIGKILL",
          text: `exit ${exit.code ?? exit.signal}`,
          ok: exit.code === 0,
        });
        return outcome(results);
      } finally {
        await server.stop("SIGKILL");
      }
    },
  },
  {
    name: "enable_logging to stdout or a file, and reading duckdb_logs for another principal's SQL, are refused; a stdio server's stdout stays protocol-only",
    run: async (ctx) => {
      const alice = await session(ctx, "alice");
      await callTool(ctx, alice, "query", { sql: "SELECT 'alice-private-marker' AS secret" });
      const bob = await session(ctx, "bob");
      const results = await refuseAll(
        ctx,
        bob,
        [
          "SELECT * FROM enable_logging(storage = 'stdout')",
          "SELECT * FROM enable_logging(storage = 'file', storage_path = './logs')",
          "SELECT * FROM enable_logging(level = 'trace')",
          "CALL enable_logging()",
          "SELECT * FROM duckdb_logs",
          "SELECT * FROM duckdb_logs()",
          "SELECT * FROM duckdb_logs_parsed('QueryLog')",
          "SELECT write_log('forged')",
        ],
        /not allowed|not a dataset/,
      );
      const stdio = await stdioServer(ctx, []);
      try {
        let id = 10;
        for (const sql of [
          "SELECT * FROM enable_logging(storage = 'stdout')",
          "SELECT * FROM enable_logging(storage = 'stdout', level = 'trace')",
          CRASH_SQL,
          "SELECT 1 AS one",
        ]) {
          const r = await stdio.tool(id++, "query", { sql });
          results.push({
            what: `stdio: ${sql}`,
            ...r,
            ok: sql === "SELECT 1 AS one" ? !r.isError : r.isError,
          });
        }
        await sleep(300);
        const stray = [...stdio.nonProtocol, ...(stdio.partial() ? [stdio.partial()] : [])];
        results.push({
          what: "stdio stdout carries JSON-RPC only",
          isError: stray.length > 0,
          text: stray.slice(0, 3).join(" | ") || "protocol only",
          ok: stray.length === 0,
        });
        const logs =
          existsSync(join(stdio.dataDir, "logs")) || readdirSync(stdio.dataDir).some((f) => /log/i.test(f));
        results.push({ what: "no log files in the data dir", isError: logs, text: "", ok: !logs });
      } finally {
        await stdio.server.stop("SIGKILL");
      }
      results.push(await stillUp(ctx));
      return outcome(results);
    },
  },
  {
    name: "SQL text and file reads past the guard: json_execute_serialized_sql, query(), read_text/read_blob/glob by any route are refused",
    run: async (ctx) => {
      const bob = await session(ctx, "bob");
      const results = await refuseAll(
        ctx,
        bob,
        [
          "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT * FROM read_text(''/etc/passwd'')'))",
          "SELECT json_serialize_sql('SELECT 1')",
          "SELECT json_serialize_plan('SELECT * FROM read_text(''/etc/passwd'')')",
          "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
          "SELECT * FROM query_table('_toolshed_datasets')",
          "SELECT * FROM read_text('/etc/passwd')",
          "SELECT * FROM read_blob('/etc/passwd')",
          "SELECT * FROM glob('/etc/*')",
          "SELECT main.read_text('/etc/passwd')",
          "SELECT * FROM system.main.read_text('/etc/passwd')",
          "SELECT * FROM (SELECT 1) t, LATERAL read_text('/etc/passwd')",
          "SELECT * FROM range((SELECT count(*) FROM read_blob('/etc/passwd')))",
          "WITH q AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM q",
          "SELECT * FROM '/etc/passwd'",
          "SELECT * FROM sniff_csv('/etc/passwd')",
          "SELECT * FROM histogram('_toolshed_datasets', name)",
        ],
        /not allowed|not a dataset/,
      );
      results.push(await stillUp(ctx));
      return outcome(results);
    },
  },
  {
    name: "Settings and absolute paths: duckdb_settings(), current_setting, pg_settings, duckdb_databases, pragma_database_list are refused",
    run: async (ctx) => {
      const bob = await session(ctx, "bob");
      const results = await refuseAll(
        ctx,
        bob,
        [
          "SELECT * FROM duckdb_settings()",
          "SELECT name, value FROM duckdb_settings() WHERE value LIKE '/%'",
          "SELECT current_setting('temp_directory')",
          "SELECT getvariable('x')",
          "SELECT * FROM pg_settings",
          "SELECT * FROM pg_catalog.pg_settings",
          "SELECT * FROM duckdb_databases",
          "SELECT path FROM duckdb_databases()",
          "SELECT * FROM pragma_database_list",
          "SELECT * FROM duckdb_temporary_files()",
          "SELECT * FROM duckdb_extensions()",
          "SELECT * FROM system.main.duckdb_tables",
        ],
        /not allowed|not a dataset|not available/,
      );
      results.push(await stillUp(ctx));
      return outcome(results);
    },
  },
  {
    name: "A statement that needs gigabytes (string_agg of 3,000 1-MB strings) hits the engine's memory limit with advice, not the machine's memory",
    run: async (ctx) => {
      const alice = await session(ctx, "alice");
      const r = await callTool(ctx, alice, "query", {
        sql: "SELECT length(string_agg(repeat('x', 1000000), '')) AS n FROM range(3000)",
      });
      return outcome([
        {
          what: "3 GB string_agg",
          ...r,
          ok: r.isError && /^invalid_input: .*--memory-limit/.test(r.text) && /WHERE or LIMIT/.test(r.text),
        },
        await stillUp(ctx),
      ]);
    },
  },
];
