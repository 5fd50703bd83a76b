import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import { DuckDBEngine } from "../src/engine/duckdb-engine.js";
import { ParseCache } from "../src/engine/parse-cache.js";
import { EXPRESSION_FUNCTIONS } from "../src/engine/allowed-functions.js";
import { SET_RETURNING } from "../src/engine/duckdb-tree-check.js";
import { tempDataDir } from "./helpers.js";

describe("ParseCache", () => {
  it("keeps at most maxEntries statements, evicting the least recently used", () => {
    const cache = new ParseCache(3, 1_000_000);
    for (const sql of ["a", "b", "c"]) cache.set(sql, `tree of ${sql}`);
    expect(cache.get("a")).toBe("tree of a");
    cache.set("d", "tree of d");
    expect(cache.size).toBe(3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe("tree of a");
    expect(cache.get("d")).toBe("tree of d");
  });

  it("keeps at most maxChars characters, and never one entry over a quarter of them", () => {
    const cache = new ParseCache(100, 400);
    for (let i = 0; i < 10; i++) cache.set(`s${i}`, "x".repeat(48));
    // Each entry is 50 characters: 8 fit in 400.
    expect(cache.size).toBe(8);
    expect(cache.get("s0")).toBeUndefined();
    expect(cache.get("s9")).toBe("x".repeat(48));
    cache.set("big", "x".repeat(101));
    expect(cache.get("big")).toBeUndefined();
    expect(cache.size).toBe(8);
  });
});

// On the engine host's real DuckDB: the caches (the parse by text, and each connection's prepared
// statements) save work only, never the guard's verdict, rows, or the statement's binding to the
// catalog.
describe("the engine host's parse cache", () => {
  const data = tempDataDir();
  let engine: DuckDBEngine;
  const query = (sql: string) => engine.query(sql, { maxRows: 100 });
  const stats = async () => (await engine.host.stats()).parseCache;

  beforeAll(async () => {
    engine = await DuckDBEngine.open(configSchema.parse({ dataDir: data.dir }));
  });
  afterAll(async () => {
    await engine.close();
    data.cleanup();
  });

  it("answers a repeated statement from the cache, with the same rows", async () => {
    const first = await query("SELECT 41 + 1 AS answer");
    const before = await stats();
    const second = await query("SELECT 41 + 1 AS answer");
    expect(second).toEqual(first);
    expect(second.rows).toEqual([[42]]);
    expect((await stats()).hits).toBe(before.hits + 1);
  });

  it("keys both caches by the exact text: statements differing in case or spacing stay apart", async () => {
    // Three rounds: parsed, then kept prepared (a statement is kept once sent again), then reused.
    for (let round = 0; round < 3; round++) {
      for (const sql of ["SELECT 'a' AS v", "SELECT 'A' AS v", "SELECT 'a  b' AS v", "SELECT 'a b' AS v"]) {
        expect((await query(sql)).rows, sql).toEqual([[/'(.*)'/.exec(sql)![1]]]);
      }
    }
    expect((await query("SELECT 'A' AS v")).rows).toEqual([["A"]]);
    expect((await query("SELECT 'a' AS V")).columns[0]!.name).toBe("V");
  });

  it("answers a bounded statement the same on first sight (run in one trip) as once prepared", async () => {
    const sql =
      "SELECT 12345678901::BIGINT AS big, 1.25::DECIMAL(9, 2) AS dec, [1, 2] AS list, {'a': 'x'} AS rec, 'nan'::DOUBLE AS nan, NULL AS nothing FROM range(3) LIMIT 2";
    // First sight runs through DuckDB's query; the second prepares and keeps it; the third reuses it.
    const rounds = [await query(sql), await query(sql), await query(sql)];
    expect(rounds[0]!.rows).toHaveLength(2);
    expect(rounds[0]!.columns.map((c) => c.type)).toEqual([
      "BIGINT",
      "DECIMAL(9,2)",
      "INTEGER[]",
      'STRUCT("a" VARCHAR)',
      "DOUBLE",
      "INTEGER",
    ]);
    expect(rounds[1]).toEqual(rounds[0]);
    expect(rounds[2]).toEqual(rounds[0]);
    // With a trailing semicolon the text is not exactly the parsed statement: prepared, same answer.
    expect(await query(`${sql};`)).toEqual(rounds[0]);
  });

  it("never checks a statement against the parse of another that reads alike", async () => {
    // The same text but for a newline: the first is SELECT 1 and a comment, the second reads a file.
    expect((await query("SELECT 1 AS one -- FROM read_csv('/etc/passwd')")).rows).toEqual([[1]]);
    await expect(query("SELECT 1 AS one --\nFROM read_csv('/etc/passwd')")).rejects.toThrow(
      /table function read_csv\(\) is not allowed/,
    );
  });

  it("refuses a statement again when its parse comes from the cache", async () => {
    for (const [sql, refusal] of [
      ["SELECT * FROM read_csv('/etc/passwd')", /table function read_csv\(\) is not allowed/],
      ["SELECT current_setting('temp_directory')", /function current_setting\(\) is not allowed/],
      ["SELECT * FROM duckdb_settings()", /table function duckdb_settings\(\) is not allowed/],
      ["SELECT FROM WHERE", /SQL does not parse/],
    ] as const) {
      await expect(query(sql)).rejects.toThrow(refusal);
      const before = await stats();
      await expect(query(sql)).rejects.toThrow(refusal);
      expect((await stats()).hits, sql).toBe(before.hits + 1);
    }
  });

  it("runs a cached statement against the catalog as it is now: dropped, recreated, grown, replaced", async () => {
    await engine.run("CREATE TABLE shifting AS SELECT 1 AS x");
    const sql = "SELECT * FROM shifting";
    expect((await query(sql)).rows).toEqual([[1]]);
    await engine.run("DROP TABLE shifting");
    const before = await stats();
    await expect(query(sql)).rejects.toThrow(/shifting does not exist/);
    await engine.run("CREATE TABLE shifting AS SELECT 'two' AS y, 2 AS z");
    const again = await query(sql);
    expect(again.columns.map((c) => c.name)).toEqual(["y", "z"]);
    expect(again.rows).toEqual([["two", 2]]);
    await engine.run("INSERT INTO shifting VALUES ('three', 3)");
    expect((await query(sql)).rows).toEqual([
      ["two", 2],
      ["three", 3],
    ]);
    await engine.run("CREATE OR REPLACE TABLE shifting AS SELECT 4.5::DOUBLE AS y");
    const replaced = await query(sql);
    expect(replaced.columns).toEqual([{ name: "y", type: "DOUBLE" }]);
    expect(replaced.rows).toEqual([[4.5]]);
    expect((await stats()).hits).toBe(before.hits + 4);
  });

  it("stays bounded however many different statements it sees", async () => {
    for (let i = 0; i < 300; i++) await query(`SELECT ${i} AS n`);
    const { size } = await stats();
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(new ParseCache().maxEntries);
  });

  it("counts as set-returning every allowed function that yields rows in a select list", async () => {
    // A SELECT without FROM runs as one row (materialized) unless it calls one of SET_RETURNING:
    // unnest, and DuckDB's built-in macros that expand to it.
    const { rows } = await engine.run(
      "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE lower(function_name) = 'unnest' OR (function_type = 'macro' AND regexp_matches(lower(macro_definition), '\\b(unnest|unlist)\\s*\\('))",
    );
    const names = rows.map((r) => r[0] as string);
    expect(names).toContain("generate_subscripts");
    const allowed = names.filter((n) => EXPRESSION_FUNCTIONS.has(n));
    expect(allowed).toContain("unnest");
    for (const name of allowed) expect(SET_RETURNING, name).toContain(name);
    expect(SET_RETURNING).toContain("unlist");
  });
});
