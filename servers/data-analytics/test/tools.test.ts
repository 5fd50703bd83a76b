import * as path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, client, tempDataDir } from "./helpers.js";

const data = tempDataDir();
let t: TestClient;

beforeAll(async () => {
  // Parquet is generated here rather than committed as a binary.
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  await conn.run(
    `COPY (SELECT range AS id, range % 3 AS bucket, range * 1.5 AS value FROM range(10)) TO '${path.join(data.dir, "numbers.parquet")}' (FORMAT parquet)`,
  );
  conn.closeSync();
  db.closeSync();
  // Replacing asks a person; these tests are about the tools and run unattended (see confirm.test.ts).
  t = await client({ dataDir: data.dir }, { confirm: "never" });
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

describe("datasets", () => {
  it("registers CSV, JSON, NDJSON and Parquet files with inferred types", async () => {
    const csv = await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
    expect(csv.isError).toBeFalsy();
    expect(csv.data).toMatchObject({ name: "sales", format: "csv", rowCount: 6 });
    expect(csv.data.columns).toContainEqual({ name: "amount", type: "DOUBLE" });
    expect(csv.text).toContain("amount: DOUBLE");
    expect((await call(t, "register_dataset", { name: "pets", path: "pets.json" })).data.rowCount).toBe(3);
    expect((await call(t, "register_dataset", { name: "events", path: "events.ndjson" })).data.rowCount).toBe(
      3,
    );
    const pq = await call(t, "register_dataset", {
      name: "numbers",
      path: path.join(data.dir, "numbers.parquet"),
    });
    expect(pq.data).toMatchObject({ format: "parquet", rowCount: 10 });
  });

  it("refuses to overwrite a dataset unless replace is set", async () => {
    const again = await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/already exists/);
    expect(
      (await call(t, "register_dataset", { name: "sales", path: "sales.csv", replace: true })).isError,
    ).toBeFalsy();
  });

  it("loads inline JSON and CSV", async () => {
    const json = await call(t, "load_inline_dataset", {
      name: "inline_json",
      data: '[{"a":1,"b":"x"},{"a":2,"b":"y"}]',
    });
    expect(json.data).toMatchObject({ source: "inline", rowCount: 2 });
    expect(json.data.columns).toEqual([
      { name: "a", type: "BIGINT" },
      { name: "b", type: "VARCHAR" },
    ]);
    const csv = await call(t, "load_inline_dataset", { name: "inline_csv", data: "k,v\na,1.5\nb,2.5\n" });
    expect(csv.data.columns).toContainEqual({ name: "v", type: "DOUBLE" });
    const bad = await call(t, "load_inline_dataset", { name: "bad", data: "[1, 2", format: "json" });
    expect(bad.isError).toBe(true);
  });

  it("lists datasets and survives a restart (catalog in DuckDB)", async () => {
    const listed = await call(t, "list_datasets", {});
    expect(listed.data.datasets.map((d: { name: string }) => d.name)).toEqual(
      expect.arrayContaining(["events", "numbers", "pets", "sales"]),
    );
    await t.close();
    t = await client({ dataDir: data.dir });
    const again = await call(t, "list_datasets", {});
    expect(again.data.datasets.find((d: { name: string }) => d.name === "sales")?.rowCount).toBe(6);
  });

  it("describes a dataset with nulls, distincts, min/max and samples", async () => {
    const d = await call(t, "describe_dataset", { name: "sales" });
    expect(d.data.rowCount).toBe(6);
    expect(d.data.columns.find((c: { name: string }) => c.name === "units")).toMatchObject({
      nullCount: 1,
      distinctCount: 5,
      min: "1",
      max: "5",
    });
    expect(d.data.sample).toHaveLength(5);
    expect(d.text).toContain("| column | type | nulls | distinct | min | max |");
    const missing = await call(t, "describe_dataset", { name: "nope" });
    expect(missing.text).toMatch(/not found; call list_datasets/);
  });
});

describe("query", () => {
  it("returns rows with typed columns as a markdown table", async () => {
    const q = await call(t, "query", {
      sql: "SELECT region, sum(amount) AS total FROM sales GROUP BY 1 ORDER BY 1",
    });
    expect(q.isError).toBeFalsy();
    expect(q.data.columns).toEqual([
      { name: "region", type: "VARCHAR" },
      { name: "total", type: "DOUBLE" },
    ]);
    expect(q.data.rows[0]).toEqual(["east", 49.95]);
    expect(q.data.truncated).toBe(false);
    expect(q.text).toContain("| region (VARCHAR) | total (DOUBLE) |");
  });

  it("caps rows, states the total and gives a cursor for the next page", async () => {
    const q = await call(t, "query", { sql: "SELECT * FROM range(250)", limit: 10 });
    expect(q.data).toMatchObject({
      rowCount: 10,
      offset: 0,
      totalRows: 250,
      truncated: true,
      remainingRows: 240,
    });
    expect(q.text).toContain(
      `10 of 250 rows (truncated). Next page: query {"cursor":"${q.data.cursor}"} (240 rows left`,
    );
    const next = await call(t, "query", { cursor: q.data.cursor });
    expect(next.data).toMatchObject({ rowCount: 10, offset: 10, remainingRows: 230 });
    expect(next.data.rows[0]).toEqual([10]);
    expect(next.text).toMatch(/^Rows 11-20 of 250\. Next page/m);
  });

  it("allows DESCRIBE, SUMMARIZE, SHOW and EXPLAIN", async () => {
    for (const sql of ["DESCRIBE sales", "SUMMARIZE sales", "SHOW TABLES", "EXPLAIN SELECT * FROM sales"]) {
      expect((await call(t, "query", { sql })).isError, sql).toBeFalsy();
    }
  });

  it("reports SQL errors as invalid_input", async () => {
    const q = await call(t, "query", { sql: "SELECT nope FROM sales" });
    expect(q.isError).toBe(true);
    expect(q.text).toMatch(/invalid_input/);
  });
});

describe("analyze", () => {
  it("computes statistics for numeric columns", async () => {
    const a = await call(t, "analyze", { name: "numbers", columns: ["value"] });
    expect(a.data.stats[0]).toMatchObject({
      column: "value",
      count: 10,
      mean: 6.75,
      median: 6.75,
      min: 0,
      max: 13.5,
    });
    expect(a.data.stats[0].stdev).toBeCloseTo(4.5415, 3);
  });

  it("groups by a column", async () => {
    const a = await call(t, "analyze", { name: "sales", columns: ["amount"], groupBy: "region" });
    const north = a.data.stats.find((s: { group: string }) => s.group === "north");
    expect(north).toMatchObject({ count: 2, mean: 30.485 });
    expect(a.text).toContain("| region | column |");
  });

  it("refuses non-numeric columns", async () => {
    const a = await call(t, "analyze", { name: "sales", columns: ["region"] });
    expect(a.text).toMatch(/not numeric/);
  });
});

describe("validate_json", () => {
  it("accepts valid JSON", async () => {
    expect((await call(t, "validate_json", { text: '{"a": [1, 2]}' })).data).toEqual({
      valid: true,
      topLevelType: "object",
    });
  });

  it("reports the line and column of an error", async () => {
    const r = await call(t, "validate_json", { text: '{\n  "a": 1,\n  "b": }' });
    expect(r.data.error).toMatchObject({ line: 3, column: 8 });
    const r2 = await call(t, "validate_json", { text: '{"a": 1' });
    expect(r2.data.error).toMatchObject({ line: 1, column: 8 });
    const r3 = await call(t, "validate_json", { text: "[1,\n 2,\n 3 4]" });
    expect(r3.data.error).toMatchObject({ line: 3, column: 4 });
  });
});

describe("resources and prompt", () => {
  it("serves a dataset schema, completes names and a generated sample", async () => {
    const schema = await t.client.readResource({ uri: "dataset://sales/schema" });
    expect(JSON.parse((schema.contents[0] as { text: string }).text)).toMatchObject({
      name: "sales",
      rowCount: 6,
    });
    const done = await t.client.complete({
      ref: { type: "ref/resource", uri: "dataset://{name}/schema" },
      argument: { name: "name", value: "sa" },
    });
    expect(done.completion.values).toEqual(["sales"]);
    const sample = await t.client.readResource({ uri: "dataset://sample/5" });
    expect((sample.contents[0] as { text: string }).text.trim().split("\n")).toHaveLength(6);
    const big = await t.client.readResource({ uri: "dataset://sample/999999" });
    expect((big.contents[0] as { text: string }).text.trim().split("\n")).toHaveLength(10_001);
  });

  it("gives the workflow prompt", async () => {
    const p = await t.client.getPrompt({
      name: "data_analysis_workflow",
      arguments: { dataset_description: "sales" },
    });
    expect(JSON.stringify(p.messages)).toMatch(/describe_dataset/);
  });
});
