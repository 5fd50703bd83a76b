import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import { openEngine } from "../src/engine/open-engine.js";
import { call, client, postgresSchema, salesClient, tempDataDir } from "./helpers.js";
import { needPostgres } from "../../../test-support/services.js";

// The same tool tests on both engines, over the same sales data: DuckDB from the fixture CSV, and a
// uniquely named schema in the real PostgreSQL on this machine (dropped afterwards).
// In CI a missing PostgreSQL fails here; elsewhere the PostgreSQL half is skipped, saying so.
const postgresUp = await needPostgres();

describe.each(postgresUp ? (["duckdb", "postgres"] as const) : (["duckdb"] as const))("on %s", (kind) => {
  const data = tempDataDir();
  let t: TestClient;
  let close: () => Promise<void>;
  let config: Record<string, unknown>;

  beforeAll(async () => {
    ({ t, config, close } = await salesClient(kind, { dataDir: data.dir, queryTimeoutMs: 1_500 }));
  });
  afterAll(async () => {
    await close();
    data.cleanup();
  });

  it("lists datasets with row counts and column types", async () => {
    const r = await call(t, "list_datasets", {});
    const sales = r.data.datasets.find((d: { name: string }) => d.name === "sales");
    expect(sales).toMatchObject({ rowCount: 6 });
    expect(sales.columns.map((c: { name: string }) => c.name)).toEqual([
      "id",
      "region",
      "product",
      "units",
      "amount",
    ]);
    if (kind === "postgres") expect(r.data.datasets.map((d: { name: string }) => d.name)).toContain("north");
  });

  it("describes a dataset", async () => {
    const d = await call(t, "describe_dataset", { name: "sales" });
    expect(d.isError, d.text).toBeFalsy();
    expect(d.data.rowCount).toBe(6);
    expect(d.data.columns.find((c: { name: string }) => c.name === "units")).toMatchObject({
      nullCount: 1,
      distinctCount: 5,
      min: "1",
      max: "5",
    });
    expect(d.data.sample).toHaveLength(5);
    expect((await call(t, "describe_dataset", { name: "nope" })).text).toMatch(
      /not found; call list_datasets/,
    );
  });

  it("queries read-only SQL with typed columns", async () => {
    const q = await call(t, "query", {
      sql: "SELECT region, sum(amount) AS total FROM sales GROUP BY 1 ORDER BY 1",
    });
    expect(q.isError, q.text).toBeFalsy();
    expect(q.data.rows[0]).toEqual(["east", 49.95]);
    expect(q.data.columns[1]).toEqual({
      name: "total",
      type: kind === "duckdb" ? "DOUBLE" : "double precision",
    });
    expect(q.text).toContain("| region (");
  });

  it("names array types and prints exact decimals, with the engine's hints kept in errors", async () => {
    const q = await call(t, "query", {
      sql: "SELECT ARRAY[1.5, 2.25] AS a, CAST(37103458.82 AS DECIMAL(18,2)) AS d",
    });
    expect(q.isError, q.text).toBeFalsy();
    expect(q.data.columns[0].type).toBe(kind === "duckdb" ? "DECIMAL(3,2)[]" : "numeric[]");
    expect(q.text).toContain("37103458.82");
    const wrong = await call(t, "query", { sql: "SELECT regio FROM sales" });
    expect(wrong.isError).toBe(true);
    // DuckDB names the candidates; PostgreSQL's HINT suggests the column it probably meant.
    expect(wrong.text).toMatch(
      kind === "duckdb"
        ? /Candidate bindings: .*"region"/
        : /HINT: Perhaps you meant to reference the column "sales.region"/,
    );
  });

  it("explains a read-only statement's plan, and refuses what query refuses", async () => {
    const r = await call(t, "explain", { sql: "SELECT region, sum(amount) FROM sales GROUP BY 1;" });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data).toMatchObject({ engine: kind, analyzed: false });
    expect(r.data.plan).toMatch(kind === "duckdb" ? /HASH_GROUP_BY|GROUP_BY/ : /Aggregate/);
    expect(r.data.plan).toMatch(kind === "duckdb" ? /SEQ_SCAN|sales/i : /Seq Scan on sales/);
    const analyzed = await call(t, "explain", { sql: "SELECT count(*) FROM sales", analyze: true });
    expect(analyzed.isError, analyzed.text).toBeFalsy();
    expect(analyzed.data.plan).toMatch(kind === "duckdb" ? /Total Time|Query Profiling/i : /actual time/);
    const refused = await call(t, "explain", {
      sql: kind === "duckdb" ? "SELECT * FROM read_csv('/etc/passwd')" : "SELECT pg_read_file('/etc/passwd')",
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/not allowed/);
    const write = await call(t, "explain", { sql: "DELETE FROM sales" });
    expect(write.isError).toBe(true);
  });

  it("caps rows and states the total", async () => {
    const q = await call(t, "query", {
      sql: "SELECT a.id FROM sales a, sales b, sales c, sales d",
      limit: 10,
    });
    expect(q.data).toMatchObject({ rowCount: 10, totalRows: 1296, truncated: true, remainingRows: 1286 });
    expect(q.data.cursor).toEqual(expect.any(String));
  });

  it("stops a query that never ends", async () => {
    const r = await call(t, "query", {
      sql: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/timeout: query stopped after 1500 ms/);
    expect((await call(t, "query", { sql: "SELECT count(*) AS n FROM sales" })).data.rows).toEqual([[6]]);
  });

  it("analyzes numeric columns, grouped", async () => {
    const a = await call(t, "analyze", { name: "sales", columns: ["amount"], groupBy: "region" });
    expect(a.isError, a.text).toBeFalsy();
    expect(a.data.stats.find((s: { group: string }) => s.group === "north")).toMatchObject({
      count: 2,
      mean: 30.485,
      median: 30.485,
      min: 29.97,
      max: 31,
    });
    const all = await call(t, "analyze", { name: "sales", columns: ["units"] });
    expect(all.data.stats[0]).toMatchObject({ count: 5, median: 3, q25: 2, q75: 4 });
  });

  it("correlates numeric columns", async () => {
    const r = await call(t, "correlate", { name: "sales", columns: ["units", "amount"] });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data.pairs[0]).toMatchObject({ a: "units", b: "amount", n: 5 });
    expect(r.data.pairs[0].r).toBeCloseTo(0.962193, 5);
  });

  it("serves a dataset's schema and sample rows as resources, and lists both", async () => {
    const sample = await t.client.readResource({ uri: "dataset://sales/sample" });
    const body = JSON.parse((sample.contents[0] as { text: string }).text);
    expect(body).toMatchObject({ name: "sales", rowCount: 6 });
    expect(body.rows).toHaveLength(6);
    expect(body.columns.map((c: { name: string }) => c.name)).toContain("amount");
    expect(Object.keys(body.rows[0])).toEqual(["id", "region", "product", "units", "amount"]);
    const listed = (await t.client.listResources()).resources.map((r) => r.uri);
    expect(listed).toEqual(expect.arrayContaining(["dataset://sales/schema", "dataset://sales/sample"]));
    await expect(t.client.readResource({ uri: "dataset://nope/sample" })).rejects.toThrow(/list_datasets/);
  });

  it("pings the engine for readiness", async () => {
    // DuckDB's host process locks its database file, so a second DuckDB engine needs its own dir.
    const own = kind === "duckdb" ? tempDataDir() : undefined;
    const engine = await openEngine(configSchema.parse(own ? { ...config, dataDir: own.dir } : config));
    try {
      expect(await engine.ping()).toBe(true);
    } finally {
      await engine.close();
      own?.cleanup();
    }
  });

  if (kind === "postgres") {
    it("refuses the dataset-writing tools with a clear message", async () => {
      const r = await call(t, "transform", {
        source: "sales",
        target: "x",
        steps: [{ op: "limit", rows: 1 }],
      });
      expect(r.text).toMatch(/transform is not available on the postgres engine/);
      const e = await call(t, "export_dataset", { name: "sales", file: "x.csv" });
      expect(e.text).toMatch(/not available on the postgres engine/);
    });
  }
});

describe.each(postgresUp ? (["postgres"] as const) : [])("large tables on %s", () => {
  const data = tempDataDir();
  let t: TestClient;
  let pg: Awaited<ReturnType<typeof postgresSchema>>;
  beforeAll(async () => {
    pg = await postgresSchema();
    t = await client({ dataDir: data.dir, postgresUrl: pg.url, postgresSchema: [pg.schema] });
  });
  afterAll(async () => {
    await t?.close();
    await pg?.cleanup();
    data.cleanup();
  });

  it("lists a large table with the planner's estimate instead of counting it", async () => {
    const { admin, schema, role } = pg;
    await admin.query(`CREATE TABLE ${schema}.big AS SELECT g AS id FROM generate_series(1, 150000) g`);
    await admin.query(`GRANT SELECT ON ${schema}.big TO ${role}`);
    await admin.query(`ANALYZE ${schema}.big`);
    const r = await call(t, "list_datasets", {});
    const big = r.data.datasets.find((d: { name: string }) => d.name === "big");
    expect(big.rowCountEstimated).toBe(true);
    expect(big.rowCount).toBeGreaterThan(135_000);
    expect(big.rowCount).toBeLessThan(165_000);
    expect(r.text).toMatch(/big \(~\d+ rows \(estimate\)/);
    // Small tables are still counted exactly.
    const sales = r.data.datasets.find((d: { name: string }) => d.name === "sales");
    expect(sales).toMatchObject({ rowCount: 6 });
    expect(sales.rowCountEstimated).toBeUndefined();
    // describe_dataset counts exactly.
    expect((await call(t, "describe_dataset", { name: "big" })).data.rowCount).toBe(150_000);
    await admin.query(`DROP TABLE ${schema}.big`);
  });
});
