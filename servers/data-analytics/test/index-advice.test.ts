import { parse } from "libpg-query";
import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexColumns } from "../src/engine/pg-index-candidates.js";
import { call, client, hypopgMissing, postgresDatabase, tempDataDir } from "./helpers.js";
import { needPostgres, needWithout } from "../../../test-support/services.js";

// explain's adviseIndexes: candidate indexes read off PostgreSQL's parse tree, tried as HypoPG
// hypothetical indexes on the real PostgreSQL (its own database, with the extension), and the ones
// the planner would use advised. In CI a missing PostgreSQL or HypoPG fails here; elsewhere these
// tests are skipped, saying so.
const postgresUp = await needPostgres();
const hypopgUp = postgresUp && needWithout("the HypoPG extension", await hypopgMissing());
const data = tempDataDir();
afterAll(() => data.cleanup());

const columnsOf = async (sql: string) => indexColumns((await parse(sql)).stmts?.[0]?.stmt);

describe("where a statement could use an index, from PostgreSQL's parse tree", () => {
  it("finds filter, join and sort columns, qualified by alias or left for the catalog", async () => {
    const found = await columnsOf(
      "SELECT o.id FROM sales.orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'open' AND amount > 5 AND c.region IN ('a', 'b') AND o.day BETWEEN 1 AND 2 AND c.note IS NULL ORDER BY o.created_at DESC",
    );
    expect([...found.tables].sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: "customers" },
      { schema: "sales", name: "orders" },
    ]);
    const uses = found.columns.map(
      (c) =>
        `${c.tables
          .map((i) => found.tables[i]!.name)
          .sort()
          .join("+")}.${c.column}:${c.use}`,
    );
    expect(uses.sort()).toEqual(
      [
        "orders.status:equality",
        "customers+orders.amount:range",
        "customers.region:equality",
        "orders.day:range",
        "customers.note:equality",
        "customers.id:join",
        "orders.customer_id:join",
        "orders.created_at:order",
      ].sort(),
    );
  });

  it("reads subqueries and CTEs, and leaves ORs, expressions and stars alone", async () => {
    const found = await columnsOf(
      "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') SELECT r.* FROM recent r WHERE r.customer_id = 7 OR lower(r.status) = 'x' AND EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = r.id)",
    );
    expect(found.tables.map((t) => t.name).sort()).toEqual(["orders", "recent", "refunds"]);
    const uses = found.columns.map((c) => `${found.tables[c.tables[0]!]!.name}.${c.column}:${c.use}`);
    expect(uses.sort()).toEqual(["orders.created_at:range", "refunds.order_id:equality"]);
  });

  it("walks a long IN list and a long AND chain without overflowing", async () => {
    const values = Array.from({ length: 150_000 }, (_, i) => i).join(",");
    const ands = Array.from({ length: 5_000 }, (_, i) => `c${i} = ${i}`).join(" AND ");
    const found = await columnsOf(`SELECT * FROM t WHERE id IN (${values}) AND ${ands}`);
    expect(found.columns).toHaveLength(5_001);
  });
});

describe.runIf(hypopgUp)("index advice on PostgreSQL with HypoPG", () => {
  let db: Awaited<ReturnType<typeof postgresDatabase>>;
  let t: TestClient;

  beforeAll(async () => {
    db = await postgresDatabase({ hypopg: true });
    const s = db.schema;
    await db.admin.query(
      `CREATE TABLE ${s}.orders AS SELECT g AS id, g % 5000 AS customer_id, (ARRAY['open','paid','shipped','void'])[1 + g % 4] AS status, timestamp '2026-01-01' + g * interval '1 minute' AS created_at, g * 1.5 AS amount FROM generate_series(1, 60000) g`,
    );
    await db.admin.query(
      `CREATE TABLE ${s}.customers AS SELECT g AS id, 'r' || (g % 50) AS region FROM generate_series(0, 4999) g`,
    );
    await db.admin.query(`CREATE VIEW ${s}.open_orders AS SELECT * FROM ${s}.orders WHERE status = 'open'`);
    await db.admin.query(
      `CREATE TABLE ${s}.docs AS SELECT g AS id, json_build_object('k', g) AS payload FROM generate_series(1, 20000) g`,
    );
    await db.admin.query(`VACUUM ANALYZE ${s}.docs`);
    await db.admin.query(`VACUUM ANALYZE ${s}.orders`);
    await db.admin.query(`VACUUM ANALYZE ${s}.customers`);
    await db.admin.query(
      `GRANT SELECT ON ${s}.orders, ${s}.customers, ${s}.open_orders, ${s}.docs TO ${db.role}`,
    );
    t = await client({ dataDir: data.dir, postgresUrl: db.url, postgresSchema: [db.schema] });
  });
  afterAll(async () => {
    await t?.close();
    await db?.cleanup();
  });

  it("advises the index a filter needs, with the cost before and after, and leaves none behind", async () => {
    const r = await call(t, "explain", {
      sql: "SELECT id, amount FROM orders WHERE customer_id = 42",
      adviseIndexes: true,
    });
    expect(r.isError ?? false, r.text).toBe(false);
    const h = r.data.hypothetical;
    expect(h.candidatesTried).toBeGreaterThanOrEqual(1);
    expect(h.indexes.map((i: { definition: string }) => i.definition)).toEqual([
      expect.stringMatching(/^CREATE INDEX ON \w+\.orders USING btree \(customer_id\)$/),
    ]);
    expect(h.totalCostWith).toBeLessThan(h.totalCostWithout / 10);
    expect(h.planWithout).toMatch(/Seq Scan on orders/);
    expect(h.advice).toMatch(/^Build this index \(the best of \d+ tried, at most 3\): CREATE INDEX/);
    expect(r.text).toContain("- used: CREATE INDEX");
    const after = await call(t, "explain", { sql: "SELECT id, amount FROM orders WHERE customer_id = 42" });
    expect(after.data.plan).toMatch(/^Seq Scan on orders/);
  });

  it("finds the composite index for equality then sort, and the join's key, through aliases", async () => {
    const r = await call(t, "explain", {
      sql: "SELECT o.id, c.region FROM orders o JOIN customers c ON c.id = o.customer_id WHERE status = 'open' AND o.customer_id = 7 ORDER BY o.created_at DESC LIMIT 5",
      adviseIndexes: true,
    });
    expect(r.isError ?? false, r.text).toBe(false);
    const h = r.data.hypothetical;
    const definitions = h.indexes.map((i: { definition: string }) => i.definition).join("\n");
    // Equality columns first, then the sort column; and the join's inner side, which pays only
    // once the outer side is cheap.
    expect(definitions).toMatch(/ON \w+\.orders USING btree \(customer_id, status, created_at\)/);
    expect(definitions).toMatch(/ON \w+\.customers USING btree \(id\)/);
    expect(h.indexes).toHaveLength(2);
    expect(h.indexes.every((i: { used: boolean }) => i.used)).toBe(true);
    expect(h.totalCostWith).toBeLessThan(h.totalCostWithout / 10);
    expect(h.advice).toMatch(/^Build these 2 indexes/);
  });

  it("says so when no index would help, or when there is no column to index", async () => {
    const whole = await call(t, "explain", {
      sql: "SELECT status, count(*) FROM orders GROUP BY status",
      adviseIndexes: true,
    });
    expect(whole.isError ?? false, whole.text).toBe(false);
    expect(whole.data.hypothetical.indexes).toEqual([]);
    expect(whole.data.hypothetical.advice).toMatch(/^None of the \d+ candidate indexes tried/);
    const none = await call(t, "explain", { sql: "SELECT count(*) FROM orders", adviseIndexes: true });
    expect(none.data.hypothetical.candidatesTried).toBe(0);
    expect(none.data.hypothetical.advice).toMatch(/no column of a table here/);
    // A view is not indexed: its name drops out (the planner sees through it to orders anyway).
    const view = await call(t, "explain", {
      sql: "SELECT * FROM open_orders WHERE customer_id = 9",
      adviseIndexes: true,
    });
    expect(view.isError ?? false, view.text).toBe(false);
    expect(view.data.hypothetical.candidatesTried).toBe(0);
  });

  it("skips a column btree cannot index (json) and still advises the others", async () => {
    const r = await call(t, "explain", {
      sql: "SELECT id FROM docs WHERE payload IS NULL AND id = 5",
      adviseIndexes: true,
    });
    expect(r.isError ?? false, r.text).toBe(false);
    const h = r.data.hypothetical;
    expect(h.indexes.map((i: { definition: string }) => i.definition)).toEqual([
      expect.stringMatching(/^CREATE INDEX ON \w+\.docs USING btree \(id\)$/),
    ]);
    // The next call on the same pool still plans with no hypothetical index left over.
    const after = await call(t, "explain", { sql: "SELECT id FROM docs WHERE id = 5" });
    expect(after.data.plan).toMatch(/^Seq Scan on docs/);
  });

  it("refuses a write, analyze beside it, and hypothetical indexes beside it", async () => {
    const write = await call(t, "explain", { sql: "DELETE FROM orders", adviseIndexes: true });
    expect(write.isError).toBe(true);
    expect(write.text).toMatch(/DELETE statements are not allowed/);
    const analyzed = await call(t, "explain", {
      sql: "SELECT * FROM orders WHERE id = 1",
      adviseIndexes: true,
      analyze: true,
    });
    expect(analyzed.isError).toBe(true);
    expect(analyzed.text).toMatch(/adviseIndexes finds the indexes itself: pass it alone/);
    const both = await call(t, "explain", {
      sql: "SELECT * FROM orders WHERE id = 1",
      adviseIndexes: true,
      hypotheticalIndexes: [{ table: "orders", columns: ["id"] }],
    });
    expect(both.isError).toBe(true);
  });
});

describe("index advice on DuckDB", () => {
  it("answers that index advice is a PostgreSQL feature", async () => {
    const t = await client({ dataDir: data.dir });
    try {
      await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
      const r = await call(t, "explain", {
        sql: "SELECT * FROM sales WHERE region = 'north'",
        adviseIndexes: true,
      });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/index advice is a PostgreSQL feature/);
    } finally {
      await t.close();
    }
  });
});
