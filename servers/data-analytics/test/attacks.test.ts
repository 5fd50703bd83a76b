import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { TestClient } from "@toolshed/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { call, client, tempDataDir } from "./helpers.js";

// Every attack must be refused or capped with a clear error, write nothing, and leave the server answering.
const data = tempDataDir();
const outside = mkdtempSync(path.join(tmpdir(), "toolshed-da-outside-"));
let t: TestClient;
let before: string[];

beforeAll(async () => {
  writeFileSync(path.join(outside, "secret.csv"), "secret\nhunter2\n");
  symlinkSync(path.join(outside, "secret.csv"), path.join(data.dir, "link.csv"));
  t = await client({ dataDir: data.dir, queryTimeoutMs: 1_500, maxRows: 100, maxBytes: 64 * 1024 });
  await call(t, "register_dataset", { name: "x", path: "sales.csv" });
  before = readdirSync(data.dir).sort();
});
afterEach(async () => {
  expect(readdirSync(data.dir).sort()).toEqual(before);
  expect(readdirSync(outside)).toEqual(["secret.csv"]);
  const alive = await call(t, "query", { sql: "SELECT count(*) AS n FROM x" });
  expect(alive.data.rows).toEqual([[6]]);
});
afterAll(async () => {
  await t.close();
  data.cleanup();
  rmSync(outside, { recursive: true, force: true });
});

async function refused(sql: string, message: RegExp) {
  const r = await call(t, "query", { sql });
  expect(r.isError, sql).toBe(true);
  expect(r.text).toMatch(message);
  return r;
}

describe("attack suite", () => {
  it("refuses COPY ... TO", async () => {
    const target = path.join(outside, "x.csv");
    await refused(`COPY (SELECT 1) TO '${target}'`, /'COPY' statements are not allowed/);
    await refused(`COPY (SELECT 1) TO '${path.join(data.dir, "x.csv")}'`, /not allowed/);
    expect(existsSync(target)).toBe(false);
  });

  it("refuses ATTACH", async () => {
    await refused(`ATTACH '${path.join(outside, "x.db")}'`, /'ATTACH' statements are not allowed/);
    expect(existsSync(path.join(outside, "x.db"))).toBe(false);
  });

  it("refuses INSTALL httpfs", async () => {
    await refused("INSTALL httpfs", /'INSTALL' statements are not allowed/);
  });

  it("refuses LOAD httpfs", async () => {
    await refused("LOAD httpfs", /'LOAD' statements are not allowed/);
  });

  it("refuses SET enable_external_access=true", async () => {
    await refused("SET enable_external_access=true", /'SET' statements are not allowed/);
    await refused("PRAGMA enable_external_access=true", /not allowed/);
  });

  it("refuses read_csv('/etc/passwd') and other file reads", async () => {
    await refused("SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\) is not allowed/);
    await refused("SELECT * FROM READ_CSV_AUTO('/etc/passwd')", /not allowed/);
    await refused("SELECT * FROM '/etc/passwd'", /reading '\/etc\/passwd' directly is not allowed/);
    await refused("SELECT * FROM glob('/etc/*')", /glob\(\) is not allowed/);
    await refused("SELECT * FROM (SELECT 1) t, read_text('/etc/hostname')", /read_text\(\) is not allowed/);
    await refused("WITH q AS (SELECT * FROM read_parquet('x.parquet')) SELECT * FROM q", /read_parquet/);
    await refused("SELECT getenv('HOME')", /getenv\(\) is not allowed/);
  });

  it("refuses register_dataset with a ../ path", async () => {
    const r = await call(t, "register_dataset", {
      name: "escape",
      path: path.join("..", path.basename(outside), "secret.csv"),
    });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/forbidden: path .* is outside the allowed roots/);
    const etc = await call(t, "register_dataset", { name: "passwd", path: "/etc/passwd", format: "csv" });
    expect(etc.text).toMatch(/outside the allowed roots/);
  });

  it("refuses register_dataset through a symlink pointing outside the root", async () => {
    const r = await call(t, "register_dataset", { name: "linked", path: "link.csv" });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/outside the allowed roots/);
    expect((await call(t, "list_datasets", {})).text).not.toMatch(/linked/);
  });

  it("stops a query that never ends at the timeout", async () => {
    const started = Date.now();
    const r = await call(t, "query", {
      sql: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/timeout: query stopped after 1500 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("caps a 10^12-row cross join by the row cap, quickly", async () => {
    const started = Date.now();
    const r = await call(t, "query", { sql: "SELECT * FROM range(1000000) a, range(1000000) b" });
    expect(r.isError).toBeFalsy();
    expect(r.data).toMatchObject({ rowCount: 100, truncated: true });
    expect(r.text).toMatch(/100 of (more|\d+) rows \(truncated\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("runs a 10^12-row cross join with its own small LIMIT (the materialized path) quickly", async () => {
    const started = Date.now();
    const r = await call(t, "query", {
      sql: "SELECT a.range AS a, b.range AS b FROM range(1000000) a, range(1000000) b ORDER BY a DESC LIMIT 50",
    });
    // ORDER BY over 10^12 rows cannot finish: the time limit stops it, the LIMIT does not help.
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/query stopped after 1500 ms/);
    const quick = await call(t, "query", {
      sql: "SELECT * FROM range(1000000) a, range(1000000) b LIMIT 50",
    });
    expect(quick.isError, quick.text).toBeFalsy();
    expect(quick.data).toMatchObject({ rowCount: 50, truncated: false });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("caps a SELECT without FROM that unnests more rows than the cap (only one that cannot is run as one row)", async () => {
    for (const sql of [
      "SELECT unnest(range(20000)) AS n",
      "SELECT UNLIST(range(20000)) AS n",
      "SELECT 1 AS one, generate_subscripts(range(20000), 1) AS i",
      "SELECT regexp_split_to_table(repeat('a,', 1000), ',') AS part",
      "SELECT (SELECT 7) AS seven, unnest([1, 2, 3]) + unnest(range(200)) AS n",
    ]) {
      const r = await call(t, "query", { sql });
      expect(r.isError, `${sql}: ${r.text}`).toBeFalsy();
      expect(r.data, sql).toMatchObject({ rowCount: 100, truncated: true });
    }
    const one = await call(t, "query", { sql: "SELECT 1 AS one, range(5)::INTEGER[] AS r" });
    expect(one.data).toMatchObject({ rowCount: 1, truncated: false, rows: [[1, [0, 1, 2, 3, 4]]] });
  });

  it("caps a 5 MB text cell by the byte cap", async () => {
    // 5 MB, not more: the cap is 64 KiB, and a bigger cell only races the 1.5 s limit on a loaded machine.
    const r = await call(t, "query", { sql: "SELECT repeat('x', 5000000) AS big" });
    expect(r.isError).toBeFalsy();
    expect(r.data.truncated).toBe(true);
    expect(r.data.hint).toMatch(/cut at 65536 bytes/);
    expect(JSON.stringify(r.data).length).toBeLessThan(70_000);
    expect(r.data.rows[0][0]).toMatch(/…\[cut: 5000000 chars\]$/);
  });

  it("refuses multiple statements", async () => {
    await refused("SELECT 1; DROP TABLE x", /multiple statements are not allowed/);
    await refused("SELECT 1; /* ; */ DROP TABLE x;", /multiple statements/);
    await refused("DROP TABLE x", /not allowed/);
    await refused("WITH a AS (SELECT 1) INSERT INTO x SELECT * FROM x", /not read-only|not allowed/);
  });

  it("refuses enable_logging (stdout, file) and reading duckdb_logs", async () => {
    await refused(
      "SELECT * FROM enable_logging(storage = 'stdout')",
      /table function enable_logging\(\) is not allowed/,
    );
    await refused(
      `SELECT * FROM enable_logging(storage = 'file', storage_path = '${path.join(data.dir, "logs")}')`,
      /enable_logging\(\) is not allowed/,
    );
    await refused("CALL enable_logging()", /'CALL' statements are not allowed/);
    await refused("SELECT * FROM duckdb_logs", /'duckdb_logs' is not a dataset/);
    await refused("SELECT * FROM duckdb_logs()", /duckdb_logs\(\) is not allowed/);
    await refused("SELECT write_log('x')", /write_log\(\) is not allowed/);
  });

  it("refuses SQL text run through json_execute_serialized_sql and file reads by any route", async () => {
    await refused(
      "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT * FROM read_text(''/etc/hostname'')'))",
      /json_execute_serialized_sql\(\) is not allowed/,
    );
    await refused("SELECT json_serialize_sql('SELECT 1')", /json_serialize_sql\(\) is not allowed/);
    await refused(
      "SELECT * FROM query('SELECT * FROM read_text(''/etc/hostname'')')",
      /query\(\) is not allowed/,
    );
    await refused("SELECT * FROM read_blob('/etc/hostname')", /read_blob\(\) is not allowed/);
    await refused("SELECT main.read_text('/etc/hostname')", /read_text\(\) is not allowed/);
    await refused("SELECT * FROM system.main.read_text('/etc/hostname')", /read_text\(\) is not allowed/);
    await refused("SELECT * FROM x, LATERAL read_text('/etc/hostname')", /read_text\(\) is not allowed/);
    await refused("SELECT * FROM range((SELECT count(*) FROM read_text('/etc/hostname')))", /read_text/);
    await refused("SELECT (SELECT content FROM read_text('/etc/hostname'))", /read_text/);
    await refused("SELECT * FROM 'sales.csv'", /directly is not allowed/);
    await refused("SELECT * FROM glob('*')", /glob\(\) is not allowed/);
  });

  it("shows no settings or absolute paths: duckdb_settings, current_setting, pg_settings, duckdb_databases", async () => {
    const leaks = [
      "SELECT * FROM duckdb_settings()",
      "SELECT current_setting('temp_directory')",
      "SELECT * FROM pg_settings",
      "SELECT * FROM pg_catalog.pg_settings",
      "SELECT * FROM duckdb_databases",
      "SELECT * FROM duckdb_databases()",
      "SELECT * FROM pragma_database_list",
      "SELECT * FROM duckdb_temporary_files()",
      "SELECT * FROM duckdb_extensions()",
    ];
    for (const sql of leaks) {
      const r = await refused(sql, /not allowed|not a dataset|not available/);
      expect(r.text).not.toContain(data.dir);
    }
  });

  it("still answers ordinary analytics SQL (aggregates, windows, JSON, lists, generators, CTEs)", async () => {
    const ok = [
      "SELECT region, sum(amount), median(amount), quantile_cont(amount, 0.9) FROM x GROUP BY ALL",
      "SELECT id, rank() OVER (PARTITION BY region ORDER BY amount DESC) FROM x QUALIFY row_number() OVER () < 3",
      "WITH t AS (SELECT * FROM x) SELECT count(*) FROM t JOIN t AS u USING (id)",
      "SELECT '{\"a\": [1, 2]}'::JSON->>'$.a', list_transform([1, 2], v -> v * 2), date_trunc('month', DATE '2024-05-03')",
      "SELECT * FROM range(3) r, generate_series(1, 2) g, unnest([1, 2]) u",
      "SELECT * FROM information_schema.columns WHERE table_name = 'x'",
      "DESCRIBE x",
      "SUMMARIZE x",
    ];
    for (const sql of ok) {
      const r = await call(t, "query", { sql });
      expect(r.isError, `${sql}: ${r.text}`).toBeFalsy();
    }
  });
});

describe("engine layer (beneath the SQL check)", () => {
  it("DuckDB itself refuses files outside the roots, config changes and extension loads", async () => {
    const { DuckDBEngine } = await import("../src/engine/duckdb-engine.js");
    const { configSchema } = await import("../src/config.js");
    const engine = await DuckDBEngine.open(
      configSchema.parse({ dataDir: mkdtempSync(path.join(tmpdir(), "toolshed-da-eng-")) }),
    );
    try {
      await expect(engine.run(`COPY (SELECT 1) TO '${path.join(outside, "y.csv")}'`)).rejects.toThrow(
        /Permission Error/,
      );
      await expect(engine.run("SELECT * FROM read_csv('/etc/passwd')")).rejects.toThrow(/Permission Error/);
      await expect(engine.run(`ATTACH '${path.join(outside, "y.db")}'`)).rejects.toThrow(/Permission Error/);
      await expect(engine.run("SET enable_external_access = true")).rejects.toThrow(/locked/);
      await expect(engine.run("LOAD httpfs")).rejects.toThrow(/disabled/);
    } finally {
      rmSync(engine.dataDir, { recursive: true, force: true });
      await engine.close();
    }
  });
});
