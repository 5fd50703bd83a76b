import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { callTool, createTestClient, type CallResult, type TestClient } from "@toolshed/testing";
import type { ConfirmPolicy } from "@toolshed/server";
import pg from "pg";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

/** A fresh temp data dir holding copies of the fixture files. */
export function tempDataDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "toolshed-da-"));
  cpSync(fixtures, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The server and a real SDK client in memory; `confirm: "never"` runs it as an unattended agent would. */
export async function client(
  config: Record<string, unknown>,
  options: {
    confirm?: ConfirmPolicy;
    /** What the client declares at initialize (e.g. the MCP Apps extension). */
    capabilities?: NonNullable<Parameters<typeof createTestClient>[1]>["capabilities"];
  } = {},
): Promise<TestClient> {
  return createTestClient(server, { config: configSchema.parse(config), ...options });
}

export type { CallResult } from "@toolshed/testing";

export function call(t: TestClient, name: string, args: Record<string, unknown>): Promise<CallResult> {
  return callTool(t.client, name, args);
}

export const POSTGRES_URL =
  process.env.TOOLSHED_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The same URL with another user (trust auth on the test server, so no password). */
export function urlAs(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = "";
  return u.toString();
}

/**
 * A uniquely named schema in the real PostgreSQL holding the fixture sales table (and a view), and
 * a read-only role for it (LOGIN, USAGE on the schema, SELECT on its tables: what the server
 * accepts); `url` connects as that role. Both are dropped by cleanup. Fails, never skips, when
 * PostgreSQL is down, saying how to start it.
 */
export async function postgresSchema(databaseUrl = POSTGRES_URL): Promise<{
  schema: string;
  role: string;
  /** Connects as the read-only role. */
  url: string;
  admin: pg.Client;
  cleanup(): Promise<void>;
}> {
  const admin = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(
      `PostgreSQL is not reachable at ${databaseUrl} (${e instanceof Error ? e.message : String(e)}). ` +
        "Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start " +
        "(or set TOOLSHED_TEST_POSTGRES_URL).",
    );
  }
  const schema = `toolshed_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const rows = readFileSync(path.join(fixtures, "sales.csv"), "utf8").trim().split("\n").slice(1);
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(
    `CREATE TABLE ${schema}.sales (id bigint, region text, product text, units bigint, amount double precision)`,
  );
  for (const line of rows) {
    const [id, region, product, units, amount] = line.split(",");
    await admin.query(`INSERT INTO ${schema}.sales VALUES ($1, $2, $3, $4, $5)`, [
      id,
      region,
      product,
      units === "" ? null : units,
      amount,
    ]);
  }
  await admin.query(`CREATE VIEW ${schema}.north AS SELECT * FROM ${schema}.sales WHERE region = 'north'`);
  const role = `${schema}_reader`;
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  return {
    schema,
    role,
    url: urlAs(databaseUrl, role),
    admin,
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP OWNED BY ${role}`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    },
  };
}

/**
 * A fresh database in the real PostgreSQL holding the postgresSchema fixture, with the HypoPG
 * extension enabled in it when asked (an extension is one per database, so tests that need it, or
 * need it absent, get their own). cleanup drops the schema, the role and the database.
 */
export async function postgresDatabase(options: {
  hypopg: boolean;
}): Promise<Awaited<ReturnType<typeof postgresSchema>> & { database: string }> {
  const server = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await server.connect();
  const database = `toolshed_db_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await server.query(`CREATE DATABASE ${database}`);
  const u = new URL(POSTGRES_URL);
  u.pathname = `/${database}`;
  if (options.hypopg) {
    const db = new pg.Client({ connectionString: u.toString() });
    await db.connect();
    await db.query("CREATE EXTENSION hypopg");
    await db.end();
  }
  const fixture = await postgresSchema(u.toString());
  return {
    ...fixture,
    database,
    cleanup: async () => {
      try {
        await fixture.cleanup();
      } finally {
        await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await server.end();
      }
    },
  };
}

/** Why the HypoPG extension cannot be enabled on the test PostgreSQL, or undefined when it can. */
export async function hypopgMissing(): Promise<string | undefined> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ major: number; n: number }>(
      "SELECT current_setting('server_version_num')::int / 10000 AS major, (SELECT count(*)::int FROM pg_available_extensions WHERE name = 'hypopg') AS n",
    );
    const { major, n } = rows[0]!;
    return n ? undefined : `install it with 'apt-get install -y postgresql-${major}-hypopg'`;
  } finally {
    await admin.end();
  }
}

/**
 * A client whose `sales` dataset is the fixture's, on either engine: DuckDB with sales.csv registered
 * in `config.dataDir`, or a fresh schema in the real PostgreSQL (see postgresSchema). `config` is
 * what the server was started with; `close` closes the client and drops the schema.
 */
export async function salesClient(
  kind: "duckdb" | "postgres",
  base: Record<string, unknown>,
): Promise<{ t: TestClient; config: Record<string, unknown>; close: () => Promise<void> }> {
  let config = base;
  let dropSchema: (() => Promise<void>) | undefined;
  if (kind === "postgres") {
    const fixture = await postgresSchema();
    dropSchema = () => fixture.cleanup();
    config = { ...config, postgresUrl: fixture.url, postgresSchema: [fixture.schema] };
  }
  const t = await client(config);
  if (kind === "duckdb") await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
  return {
    t,
    config,
    close: async () => {
      await t.close();
      await dropSchema?.();
    },
  };
}
