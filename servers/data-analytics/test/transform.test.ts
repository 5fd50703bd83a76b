import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, client, tempDataDir } from "./helpers.js";

const data = tempDataDir();
let t: TestClient;

beforeAll(async () => {
  // Replacing asks a person; these tests are about the tools and run unattended (see confirm.test.ts).
  t = await client({ dataDir: data.dir }, { confirm: "never" });
  await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

const rowsOf = async (name: string) =>
  (await call(t, "query", { sql: `SELECT * FROM ${name}` })).data.rows as unknown[][];

describe("transform", () => {
  it("filters, aggregates, sorts and saves a new dataset", async () => {
    const r = await call(t, "transform", {
      source: "sales",
      target: "by_region",
      steps: [
        { op: "filter", where: [{ column: "amount", op: ">", value: 15 }] },
        {
          op: "aggregate",
          groupBy: ["region"],
          aggregates: [
            { fn: "sum", column: "amount", as: "total" },
            { fn: "count", as: "n" },
          ],
        },
        { op: "sort", by: [{ column: "total", direction: "desc" }] },
      ],
    });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data).toMatchObject({ name: "by_region", rowCount: 3 });
    expect(r.data.columns.map((c: { name: string }) => c.name)).toEqual(["region", "total", "n"]);
    expect(r.data.preview[0]).toEqual({ region: "north", total: 60.97, n: 2 });
    expect((await call(t, "list_datasets", {})).text).toMatch(
      /by_region \(3 rows, table from transform of sales\)/,
    );
  });

  it("selects, renames, drops nulls, de-duplicates and limits", async () => {
    const r = await call(t, "transform", {
      source: "sales",
      target: "regions",
      steps: [
        { op: "drop_nulls", columns: ["units"] },
        { op: "select", columns: ["region", "product"] },
        { op: "rename", columns: { region: "area" } },
        { op: "distinct", columns: ["area"] },
        { op: "sort", by: [{ column: "area" }] },
        { op: "limit", rows: 10 },
      ],
    });
    expect(r.isError, r.text).toBeFalsy();
    expect((await rowsOf("regions")).map((row) => row[0])).toEqual(["east", "north", "south"]);
    expect(r.data.columns.map((c: { name: string }) => c.name)).toEqual(["area", "product"]);
  });

  it("filters with in, is_null, contains and or", async () => {
    const r = await call(t, "transform", {
      source: "sales",
      target: "picked",
      steps: [
        {
          op: "filter",
          combine: "or",
          where: [
            { column: "id", op: "in", value: [1, 2] },
            { column: "units", op: "is_null" },
            { column: "product", op: "contains", value: "gad" },
          ],
        },
        { op: "sort", by: [{ column: "id" }] },
        { op: "select", columns: ["id"] },
      ],
    });
    expect(r.isError, r.text).toBeFalsy();
    expect(await rowsOf("picked")).toEqual([[1], [2], [3], [5]]);
  });

  it("pivots values into columns", async () => {
    const r = await call(t, "transform", {
      source: "sales",
      target: "pivoted",
      steps: [
        { op: "pivot", index: ["region"], column: "product", value: "amount", fn: "sum" },
        { op: "sort", by: [{ column: "region" }] },
      ],
    });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data.columns.map((c: { name: string }) => c.name)).toEqual([
      "region",
      "gadget",
      "gizmo",
      "widget",
    ]);
    expect(r.data.preview[1]).toEqual({ region: "north", gadget: 31, gizmo: null, widget: 29.97 });
  });

  it("binds values: a quote-laden filter value is data, not SQL", async () => {
    const r = await call(t, "transform", {
      source: "sales",
      target: "none",
      steps: [{ op: "filter", where: [{ column: "region", op: "=", value: "x' OR '1'='1" }] }],
    });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data.rowCount).toBe(0);
  });

  it("refuses unknown columns, bad names and overwrites without replace", async () => {
    const unknown = await call(t, "transform", {
      source: "sales",
      target: "x1",
      steps: [{ op: "select", columns: ['region" FROM sales; DROP TABLE sales; --'] }],
    });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toMatch(/does not exist at the select step/);
    const again = await call(t, "transform", {
      source: "sales",
      target: "by_region",
      steps: [{ op: "limit", rows: 1 }],
    });
    expect(again.text).toMatch(/already exists; pass replace: true/);
    const replaced = await call(t, "transform", {
      source: "sales",
      target: "by_region",
      replace: true,
      steps: [{ op: "limit", rows: 1 }],
    });
    expect(replaced.data.rowCount).toBe(1);
    const badName = await call(t, "transform", {
      source: "sales",
      target: "a-b",
      steps: [{ op: "limit", rows: 1 }],
    });
    expect(badName.isError).toBe(true);
    expect((await rowsOf("sales")).length).toBe(6);
  });
});

describe("correlate", () => {
  it("computes pairwise Pearson correlations", async () => {
    await call(t, "load_inline_dataset", {
      name: "xy",
      data: "x,y,z,w\n1,2,5,1\n2,4,4,3\n3,6,3,2\n4,8,2,5\n5,10,1,4\n",
    });
    const r = await call(t, "correlate", { name: "xy" });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data.columns).toEqual(["x", "y", "z", "w"]);
    expect(r.data.matrix[0][1]).toBeCloseTo(1, 6);
    expect(r.data.matrix[0][2]).toBeCloseTo(-1, 6);
    expect(r.data.matrix[0][3]).toBeCloseTo(0.8, 6);
    expect(r.data.matrix[1][1]).toBe(1);
    expect(r.data.pairs).toHaveLength(6);
    expect(Math.abs(r.data.pairs[0].r)).toBeCloseTo(1, 6);
    expect(r.data.pairs[0].n).toBe(5);
    const subset = await call(t, "correlate", { name: "sales", columns: ["units", "amount"] });
    expect(subset.data.pairs[0]).toMatchObject({ a: "units", b: "amount", n: 5 });
    expect(subset.data.pairs[0].r).toBeGreaterThan(0.9);
    expect((await call(t, "correlate", { name: "sales", columns: ["region", "amount"] })).text).toMatch(
      /not numeric/,
    );
  });
});

describe("export_dataset", () => {
  it("writes CSV, Parquet and JSON into the data dir's exports folder, readable again", async () => {
    const csv = await call(t, "export_dataset", { name: "sales", file: "sales_out.csv" });
    expect(csv.isError, csv.text).toBeFalsy();
    expect(csv.data).toMatchObject({ file: "exports/sales_out.csv", format: "csv", rowCount: 6 });
    expect(readFileSync(path.join(data.dir, "exports", "sales_out.csv"), "utf8").split("\n")[0]).toBe(
      "id,region,product,units,amount",
    );
    const pq = await call(t, "export_dataset", { name: "sales", file: "sales_out.parquet" });
    expect(pq.data.bytes).toBeGreaterThan(0);
    const back = await call(t, "register_dataset", { name: "sales_back", path: "exports/sales_out.parquet" });
    expect(back.data.rowCount).toBe(6);
    const json = await call(t, "export_dataset", { name: "sales", file: "sales_out.json" });
    expect(
      readFileSync(path.join(data.dir, "exports", "sales_out.json"), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(6);
    expect(json.data.format).toBe("json");
    const again = await call(t, "export_dataset", { name: "sales", file: "sales_out.csv" });
    expect(again.text).toMatch(/already exists; pass replace: true/);
    expect(
      (await call(t, "export_dataset", { name: "sales", file: "sales_out.csv", replace: true })).isError,
    ).toBeFalsy();
  });

  it("refuses ../x, absolute paths, names with / or \\ and other extensions, writing nothing", async () => {
    const before = readdirSync(path.join(data.dir, "exports")).sort();
    for (const file of [
      "../x.csv",
      "../../tmp/x.csv",
      "/tmp/toolshed-da-export-attack.csv",
      "sub/x.csv",
      "a\\b.csv",
      "..csv",
      ".hidden.csv",
      "x.txt",
      "x'.csv",
    ]) {
      const r = await call(t, "export_dataset", { name: "sales", file });
      expect(r.isError, file).toBe(true);
      expect(r.text, file).toMatch(/forbidden: .* is not a plain file name/);
    }
    expect(existsSync("/tmp/toolshed-da-export-attack.csv")).toBe(false);
    expect(existsSync(path.join(path.dirname(data.dir), "x.csv"))).toBe(false);
    expect(readdirSync(path.join(data.dir, "exports")).sort()).toEqual(before);
  });

  it("user SQL still cannot COPY, even into the exports folder", async () => {
    const r = await call(t, "query", {
      sql: `COPY sales TO '${path.join(data.dir, "exports", "sneaky.csv")}'`,
    });
    expect(r.isError).toBe(true);
    expect(existsSync(path.join(data.dir, "exports", "sneaky.csv"))).toBe(false);
  });
});
