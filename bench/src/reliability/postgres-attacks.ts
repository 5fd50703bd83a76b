import pg from "pg";
import type { Attack, AttackContext, AttackOutcome } from "./types.js";
import { callTool } from "./raw-http.js";
import { httpGet, startServer } from "./processes.js";
import type { ServerProcess } from "./types.js";
import { openSession } from "./raw-http.js";

/** The machine's PostgreSQL as a superuser (trust auth on loopback); CI starts it. */
const ADMIN_URL = process.env.TOOLSHED_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function urlAs(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = "";
  return u.toString();
}

interface Scratch {
  admin: pg.Client;
  schema: string;
  role: string;
  /** Another session, which no query may end. */
  victimPid: number;
  /** What must hold after the attempts: rows, tables, temp relations, the victim's session. */
  intact(): Promise<string[]>;
  close(): Promise<void>;
}

/** A fresh schema with a three-row table, and a read-only role for it (what the server accepts). */
async function scratch(): Promise<Scratch> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  const victim = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await victim.connect();
  } catch (e) {
    await admin.end();
    throw e;
  }
  victim.on("error", () => undefined);
  const schema = `toolshed_attack_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const role = `${schema}_reader`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`CREATE TABLE ${schema}.sales (id int, amount numeric)`);
  await admin.query(`INSERT INTO ${schema}.sales VALUES (1, 10), (2, 20), (3, 30)`);
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  const victimPid = (await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  return {
    admin,
    schema,
    role,
    victimPid,
    intact: async () => {
      const broken: string[] = [];
      const tables = await admin.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        [schema],
      );
      if (tables.rowCount !== 1)
        broken.push(`tables now: ${tables.rows.map((r) => r.table_name).join(", ")}`);
      else {
        const rows = await admin.query(
          `SELECT count(*)::int AS n, sum(amount)::int AS s FROM ${schema}.sales`,
        );
        const { n, s } = rows.rows[0] as { n: number; s: number };
        if (n !== 3 || s !== 60) broken.push(`sales now has ${n} rows summing to ${s}`);
      }
      const temp = await admin.query(
        "SELECT count(*)::int AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.relpersistence = 't' AND r.rolname = $1",
        [role],
      );
      if ((temp.rows[0] as { n: number }).n) broken.push("the reader has temp relations");
      await victim.query("SELECT 1").catch(() => broken.push("another session was ended"));
      return broken;
    },
    close: async () => {
      await victim.end().catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    },
  };
}

/** data-analytics on `url` over HTTP (loopback, no auth), for the length of `fn`. */
async function onPostgres<T>(
  ctx: AttackContext,
  url: string,
  schema: string,
  extraArgs: string[],
  fn: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const server = await startServer(ctx.target, {
    args: ["--postgres-url", url, "--postgres-schema", schema, "--query-timeout-ms", "2000", ...extraArgs],
  });
  try {
    return await fn(server);
  } finally {
    await server.stop("SIGTERM");
  }
}

/**
 * Every statement through `query` as the read-only role: each must be refused by the guard, and
 * afterwards the data, the other session and the server must be as they were.
 */
async function refusedOnPostgres(
  ctx: AttackContext,
  statements: (s: Scratch) => string[],
  refusal: RegExp,
): Promise<AttackOutcome> {
  let db: Scratch;
  try {
    db = await scratch();
  } catch (e) {
    return {
      refused: false,
      detail: `could not test: PostgreSQL at ${ADMIN_URL} (${(e as Error).message}); start it with pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`,
    };
  }
  try {
    return await onPostgres(ctx, urlAs(ADMIN_URL, db.role), db.schema, [], async (server) => {
      const url = `${server.base}/mcp`;
      const session = await openSession(url, {});
      const through: string[] = [];
      let id = 700;
      const sqls = statements(db);
      for (const sql of sqls) {
        const r = await callTool(url, session.headers, id++, "query", { sql });
        if (!r.isError || !refusal.test(r.text)) through.push(`${sql} -> ${r.text.slice(0, 140)}`);
      }
      const count = await callTool(url, session.headers, id++, "query", {
        sql: "SELECT count(*) AS n FROM sales",
      });
      if (count.isError || !/\| 3 \|/.test(count.text))
        through.push(`the server no longer answers: ${count.text}`);
      through.push(...(await db.intact()));
      return {
        refused: through.length === 0,
        detail: through.length
          ? `not refused: ${through.join("; ")}`
          : `${sqls.length} attempts refused, data intact`,
      };
    });
  } finally {
    await db.close();
  }
}

const GUARD = /is not allowed|statements are not allowed|send one statement at a time/;

/**
 * data-analytics on `--postgres-url`: the escapes found against its old regex guard (a `'--'`
 * literal hiding the rest of the line, quoted and schema-qualified function names, several
 * statements over the simple protocol), each against the built server on the machine's PostgreSQL,
 * as a read-only role made for the attack; and a superuser URL, refused at start-up.
 */
export const postgresAttacks: readonly Attack[] = [
  {
    name: "PostgreSQL: a '--' string literal hiding COMMIT and a write, DROP or temp view after it is refused, nothing committed",
    run: (ctx) =>
      refusedOnPostgres(
        ctx,
        () => [
          "SELECT '--'; COMMIT; INSERT INTO sales VALUES (4, 40)",
          "SELECT '--'; COMMIT; DROP TABLE sales",
          "SELECT '--'; COMMIT; CREATE TEMP VIEW sales AS SELECT 1 AS id, 0 AS amount",
          "SELECT 1; UPDATE sales SET amount = 0",
        ],
        GUARD,
      ),
  },
  {
    name: 'PostgreSQL: quoted and schema-qualified functions ("pg_sleep", pg_catalog.pg_sleep, "PG_CATALOG"."pg_terminate_backend", set_config, pg_read_file, lo_import, dblink) are refused; no other session ended',
    run: (ctx) =>
      refusedOnPostgres(
        ctx,
        (db) => [
          `SELECT "pg_sleep"(3)`,
          "SELECT pg_catalog.pg_sleep(3)",
          `SELECT "PG_CATALOG"."pg_terminate_backend"(${db.victimPid})`,
          `SELECT pg_catalog.pg_terminate_backend(${db.victimPid})`,
          "SELECT set_config('statement_timeout', '0', false)",
          "SELECT pg_read_file('/etc/passwd')",
          "SELECT lo_import('/etc/passwd')",
          "SELECT * FROM dblink('dbname=test', 'DROP TABLE sales') AS t(a text)",
          "SELECT query_to_xml('SELECT pg_read_file(''/etc/passwd'')', true, false, '')",
        ],
        GUARD,
      ),
  },
  {
    name: "PostgreSQL: anything but one SELECT (COPY TO PROGRAM, DO, CALL, PREPARE/EXECUTE, LISTEN/NOTIFY, SELECT INTO, FOR UPDATE, a writable CTE) is refused",
    run: (ctx) =>
      refusedOnPostgres(
        ctx,
        () => [
          "COPY (SELECT 1) TO PROGRAM 'id'",
          "DO $$ BEGIN DELETE FROM sales; END $$",
          "CALL p()",
          "PREPARE p AS DELETE FROM sales",
          "EXECUTE p",
          "LISTEN x",
          "NOTIFY x",
          "SELECT * INTO evil FROM sales",
          "SELECT * FROM sales FOR UPDATE",
          "WITH d AS (DELETE FROM sales RETURNING *) SELECT * FROM d",
          "SET statement_timeout = 0",
        ],
        GUARD,
      ),
  },
  {
    name: "PostgreSQL: a superuser URL is refused at start-up (readyz 503, calls refused, the log says why); accepted only with --postgres-allow-privileged-role",
    run: async (ctx) => {
      const seen: string[] = [];
      const refusedRun = await onPostgres(ctx, ADMIN_URL, "public", [], async (server) => {
        const url = `${server.base}/mcp`;
        const session = await openSession(url, {});
        const call = await callTool(url, session.headers, 800, "query", { sql: "SELECT 1 AS one" });
        const ready = await httpGet(server.base, "/readyz");
        const logged = server
          .logLines()
          .some((l) => /refusing to query PostgreSQL as role .*superuser/.test(l));
        seen.push(`call: ${call.text.slice(0, 100)}`, `readyz ${ready.status}`, `log says why: ${logged}`);
        return call.isError && ready.status === 503 && logged;
      });
      // The control: the same URL with the flag works, so the refusal was the role's doing.
      const acceptedRun = await onPostgres(
        ctx,
        ADMIN_URL,
        "public",
        ["--postgres-allow-privileged-role"],
        async (server) => {
          const url = `${server.base}/mcp`;
          const session = await openSession(url, {});
          const call = await callTool(url, session.headers, 801, "query", { sql: "SELECT 1 AS one" });
          seen.push(`with the flag: ${call.isError ? call.text.slice(0, 100) : "answered"}`);
          return !call.isError;
        },
      );
      return { refused: refusedRun && acceptedRun, detail: seen.join("; ") };
    },
  },
];
