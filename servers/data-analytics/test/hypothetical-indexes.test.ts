import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import { explainHypothetical } from "../src/engine/pg-hypothetical.js";
import { PostgresEngine } from "../src/engine/postgres-engine.js";
import { call, client, hypopgMissing, postgresDatabase, tempDataDir } from "./helpers.js";
import { needPostgres, needWithout } from "../../../test-support/services.js";

// explain's hypotheticalIndexes on the real PostgreSQL with HypoPG (its own database, so the
// extension is there), on a database without it, and on DuckDB. In CI a missing PostgreSQL or
// HypoPG fails here; elsewhere these tests are skipped, saying so.
const postgresUp = await needPostgres();
const hypopgUp = postgresUp && needWithout("the HypoPG extension", await hypopgMissing());

const ROWS = 50_000;
const BY_CUSTOMER = "SELECT id, amount FROM events WHERE customer_id = 42";
const data = tempDataDir();
afterAll(() => data.cleanup());

describe.runIf(hypopgUp)("hypothetical indexes on PostgreSQL with HypoPG", () => {
  let db: Awaited<ReturnType<typeof postgresDatabase>>;
  let t: TestClient;
  let engine: PostgresEngine;

  beforeAll(async () => {
    db = await postgresDatabase({ hypopg: true });
    await db.admin.query(
      `CREATE TABLE ${db.schema}.events AS SELECT g AS id, g % 5000 AS customer_id, 'kind' || (g % 7) AS kind, g * 1.5 AS amount FROM generate_series(1, ${ROWS}) g`,
    );
    // VACUUM sets the visibility map, so an index-only scan is costed as one.
    await db.admin.query(`VACUUM ANALYZE ${db.schema}.events`);
    await db.admin.query(`GRANT SELECT ON ${db.schema}.events TO ${db.role}`);
    // One connection, so every call meets whatever an earlier call left on it.
    const config = { postgresUrl: db.url, postgresSchema: [db.schema], postgresPoolSize: 1 };
    t = await client({ dataDir: data.dir, ...config });
    engine = await PostgresEngine.open(configSchema.parse(config), db.url);
  });
  afterAll(async () => {
    await t?.close();
    await engine?.close();
    await db?.cleanup();
  });

  const leftOver = async () =>
    Number((await engine.run("SELECT count(*) FROM public.hypopg()")).rows[0]?.[0]);

  it("a useful hypothetical index lowers the estimated cost, and the planner says it used it", async () => {
    const r = await call(t, "explain", {
      sql: BY_CUSTOMER,
      hypotheticalIndexes: [{ table: "events", columns: ["customer_id"] }],
    });
    expect(r.isError ?? false, r.text).toBe(false);
    const h = r.data.hypothetical;
    expect(h.planWithout).toMatch(/Seq Scan on events/);
    expect(h.totalCostWith).toBeLessThan(h.totalCostWithout / 10);
    expect(h.indexes).toEqual([
      {
        definition: expect.stringMatching(/^CREATE INDEX ON \w+\.events USING btree \(customer_id\)$/),
        name: expect.stringMatching(/^<\d+>btree_/),
        estimatedBytes: expect.any(Number),
        used: true,
      },
    ]);
    expect(h.indexes[0].estimatedBytes).toBeGreaterThan(100_000);
    expect(r.data.plan).toContain(h.indexes[0].name);
    expect(r.data.plan).toMatch(/Index Scan|Bitmap Index Scan/);
    expect(h.advice).toMatch(/estimated cost falls from [\d.]+ to [\d.]+ \(\d+% lower\) using CREATE INDEX/);
    expect(r.text).toMatch(/- used: CREATE INDEX ON \S+ USING btree \(customer_id\)/);
    expect(r.text).toContain("Plan without them:");
  });

  it("the hypothetical indexes are gone afterwards: the next plan is the original one", async () => {
    const again = await call(t, "explain", { sql: BY_CUSTOMER });
    expect(again.isError ?? false, again.text).toBe(false);
    expect(again.data.plan).toMatch(/^Seq Scan on events/);
    expect(again.data.plan).not.toMatch(/<\d+>/);
    expect(again.data.hypothetical).toBeUndefined();
    // HypoPG's functions run inside the READ ONLY transaction, as the read-only role: they write no
    // catalog rows, only the backend's memory (which a ROLLBACK does not clear, hence the reset).
    const inside = await engine.session({}, async (statement) => {
      const r = await statement(
        "SELECT current_setting('transaction_read_only'), current_user::text, count(*)::int FROM public.hypopg_create_index('CREATE INDEX ON events (id)')",
      );
      await statement("SELECT public.hypopg_reset()");
      return r.rows[0];
    });
    expect(inside).toEqual(["on", db.role, 1]);
    expect(await leftOver()).toBe(0);
    // On the engine's single connection itself, after a call and after a call that failed midway
    // (the first index created, the second refused): HypoPG holds nothing.
    await explainHypothetical(engine, BY_CUSTOMER, [{ table: "events", columns: ["customer_id"] }], {});
    expect(await leftOver()).toBe(0);
    await expect(
      explainHypothetical(
        engine,
        BY_CUSTOMER,
        [
          { table: "events", columns: ["customer_id"] },
          { table: "events", columns: ["nope"] },
        ],
        {},
      ),
    ).rejects.toThrow(/column "nope" does not exist/);
    expect(await leftOver()).toBe(0);
    expect((await engine.run(`EXPLAIN ${BY_CUSTOMER}`)).rows[0]?.[0]).toMatch(/^Seq Scan on events/);
  });

  it("reports an index the planner ignores as unused, and advises against one that never helps", async () => {
    const r = await call(t, "explain", {
      sql: BY_CUSTOMER,
      hypotheticalIndexes: [
        { table: "events", columns: ["kind"] },
        { table: "events", columns: ["customer_id"], include: ["id", "amount"] },
      ],
    });
    expect(r.isError ?? false, r.text).toBe(false);
    expect(r.data.hypothetical.indexes.map((i: { used: boolean }) => i.used)).toEqual([false, true]);
    expect(r.data.hypothetical.indexes[1].definition).toMatch(/\(customer_id\) INCLUDE \(id, amount\)$/);
    // With the covering index the planner can answer from the index alone.
    expect(r.data.plan).toMatch(/Index Only Scan/);
    expect(r.data.hypothetical.advice).toMatch(/did not use the other 1/);
    const useless = await call(t, "explain", {
      sql: BY_CUSTOMER,
      hypotheticalIndexes: [{ table: "events", columns: ["kind"], method: "hash" }],
    });
    expect(useless.isError ?? false, useless.text).toBe(false);
    expect(useless.data.hypothetical.indexes[0]).toMatchObject({ used: false });
    expect(useless.data.hypothetical.indexes[0].definition).toMatch(/USING hash \(kind\)/);
    expect(useless.data.hypothetical.totalCostWith).toBe(useless.data.hypothetical.totalCostWithout);
    expect(useless.data.hypothetical.advice).toMatch(/used none of these indexes/);
  });

  it("a partial index (where, as column, operator and value) is used when the statement implies it", async () => {
    const sql = "SELECT id FROM events WHERE customer_id = 42 AND kind = 'kind0'";
    const partial = (where: unknown[]) =>
      call(t, "explain", {
        sql,
        hypotheticalIndexes: [{ table: "events", columns: ["customer_id"], where }],
      });
    const r = await partial([{ column: "kind", op: "=", value: "kind0" }]);
    expect(r.isError ?? false, r.text).toBe(false);
    expect(r.data.hypothetical.indexes[0]).toMatchObject({
      definition: expect.stringMatching(/USING btree \(customer_id\) WHERE \(kind = 'kind0'::text\)$/),
      used: true,
    });
    // A partial index on other rows cannot serve this statement.
    const other = await partial([{ column: "kind", op: "=", value: "kind1" }]);
    expect(other.data.hypothetical.indexes[0].used).toBe(false);
    const twoTerms = await partial([
      { column: "kind", op: "IS NOT NULL" },
      { column: "amount", op: ">", value: 10 },
    ]);
    expect(twoTerms.isError ?? false, twoTerms.text).toBe(false);
    expect(twoTerms.data.hypothetical.indexes[0].definition).toMatch(
      /WHERE \(\(kind IS NOT NULL\) AND \(amount > '?10'?(::numeric)?\)\)$/,
    );
    const noValue = await partial([{ column: "kind", op: "=" }]);
    expect(noValue.isError).toBe(true);
    expect(noValue.text).toMatch(/where kind = needs a value \(or use IS NULL \/ IS NOT NULL\)/);
    expect(await leftOver()).toBe(0);
  });

  it("a brin index, and HypoPG's own refusal of gin", async () => {
    const brin = await call(t, "explain", {
      sql: "SELECT count(*) FROM events WHERE id BETWEEN 100 AND 200",
      hypotheticalIndexes: [{ table: "events", columns: ["id"], method: "brin" }],
    });
    expect(brin.isError ?? false, brin.text).toBe(false);
    expect(brin.data.hypothetical.indexes[0].definition).toMatch(/USING brin \(id\)/);
    const gin = await call(t, "explain", {
      sql: BY_CUSTOMER,
      hypotheticalIndexes: [{ table: "events", columns: ["kind"], method: "gin" }],
    });
    expect(gin.isError).toBe(true);
    expect(gin.text).toMatch(/access method "gin" is not supported/);
  });

  it("an unknown table or column gets PostgreSQL's own error, hint kept", async () => {
    const table = await call(t, "explain", {
      sql: BY_CUSTOMER,
      hypotheticalIndexes: [{ table: "event", columns: ["customer_id"] }],
    });
    expect(table.isError).toBe(true);
    expect(table.text).toMatch(/explain failed: relation "event" does not exist/);
    const column = await call(t, "explain", {
      sql: BY_CUSTOMER,
      hypotheticalIndexes: [{ table: "events", columns: ["customer"] }],
    });
    expect(column.isError).toBe(true);
    expect(column.text).toMatch(/column "customer" does not exist/);
    // A misspelt column in the statement keeps PostgreSQL's HINT, as explain without them does.
    const statement = await call(t, "explain", {
      sql: "SELECT id FROM events WHERE customer = 42",
      hypotheticalIndexes: [{ table: "events", columns: ["customer_id"] }],
    });
    expect(statement.isError).toBe(true);
    expect(statement.text).toMatch(/HINT: Perhaps you meant to reference the column "events.customer_id"/);
    // And the connection is usable afterwards, holding nothing.
    expect((await call(t, "explain", { sql: BY_CUSTOMER })).data.plan).toMatch(/^Seq Scan on events/);
  });

  it("refuses analyze with hypothetical indexes, a schema it does not read, and a statement query refuses", async () => {
    const analyzed = await call(t, "explain", {
      sql: BY_CUSTOMER,
      analyze: true,
      hypotheticalIndexes: [{ table: "events", columns: ["customer_id"] }],
    });
    expect(analyzed.isError).toBe(true);
    expect(analyzed.text).toMatch(/analyze cannot be combined with hypotheticalIndexes.*Drop analyze/);
    const other = await call(t, "explain", {
      sql: BY_CUSTOMER,
      hypotheticalIndexes: [{ table: "pg_catalog.pg_class", columns: ["relname"] }],
    });
    expect(other.isError).toBe(true);
    expect(other.text).toMatch(/schema "pg_catalog" is not one this server reads/);
    const write = await call(t, "explain", {
      sql: "DELETE FROM events",
      hypotheticalIndexes: [{ table: "events", columns: ["customer_id"] }],
    });
    expect(write.isError).toBe(true);
    expect(write.text).toMatch(/DELETE statements are not allowed/);
  });
});

describe.runIf(postgresUp)("hypothetical indexes without HypoPG", () => {
  let db: Awaited<ReturnType<typeof postgresDatabase>>;
  let t: TestClient;
  beforeAll(async () => {
    db = await postgresDatabase({ hypopg: false });
    t = await client({ dataDir: data.dir, postgresUrl: db.url, postgresSchema: [db.schema] });
  });
  afterAll(async () => {
    await t?.close();
    await db?.cleanup();
  });

  it("a database without the extension gets an error saying how to enable it; plain explain still works", async () => {
    const r = await call(t, "explain", {
      sql: "SELECT * FROM sales WHERE region = 'north'",
      hypotheticalIndexes: [{ table: "sales", columns: ["region"] }],
    });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/hypothetical indexes need the HypoPG extension/);
    expect(r.text).toMatch(
      hypopgUp
        ? new RegExp(
            `not enabled in this database: an administrator enables it with CREATE EXTENSION hypopg; in database "${db.database}"`,
          )
        : /not installed on this PostgreSQL server: .*apt-get install postgresql-\d+-hypopg/,
    );
    expect(r.text).toMatch(/call explain without hypotheticalIndexes/);
    const plain = await call(t, "explain", { sql: "SELECT * FROM sales WHERE region = 'north'" });
    expect(plain.isError ?? false, plain.text).toBe(false);
  });

  it.runIf(hypopgUp)(
    "finds HypoPG in a schema of its own, and says which GRANT the role lacks there",
    async () => {
      await db.admin.query("CREATE SCHEMA hypo_private");
      await db.admin.query("CREATE EXTENSION hypopg SCHEMA hypo_private");
      try {
        const args = {
          sql: "SELECT * FROM sales WHERE region = 'north'",
          hypotheticalIndexes: [{ table: "sales", columns: ["region"] }],
        };
        const denied = await call(t, "explain", args);
        expect(denied.isError).toBe(true);
        expect(denied.text).toMatch(
          new RegExp(
            `which is in schema hypo_private, where role ${db.role} may not look: an administrator runs GRANT USAGE ON SCHEMA hypo_private TO ${db.role}`,
          ),
        );
        await db.admin.query(`GRANT USAGE ON SCHEMA hypo_private TO ${db.role}`);
        const r = await call(t, "explain", args);
        expect(r.isError ?? false, r.text).toBe(false);
        expect(r.data.hypothetical.indexes[0].definition).toMatch(/USING btree \(region\)$/);
      } finally {
        await db.admin.query("DROP EXTENSION hypopg");
        await db.admin.query("DROP SCHEMA hypo_private CASCADE");
      }
    },
  );
});

describe("hypothetical indexes on DuckDB", () => {
  it("answers that hypothetical indexes are a PostgreSQL feature", async () => {
    const t = await client({ dataDir: data.dir });
    try {
      await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
      const r = await call(t, "explain", {
        sql: "SELECT * FROM sales WHERE region = 'north'",
        hypotheticalIndexes: [{ table: "sales", columns: ["region"] }],
      });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/hypothetical indexes are a PostgreSQL feature \(the HypoPG extension\)/);
      expect((await call(t, "explain", { sql: "SELECT * FROM sales" })).isError ?? false).toBe(false);
    } finally {
      await t.close();
    }
  });
});
