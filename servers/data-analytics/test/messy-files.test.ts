import { writeFileSync } from "node:fs";
import * as path from "node:path";
import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { configSchema } from "../src/config.js";
import { call, client, tempDataDir } from "./helpers.js";

// Files shaped like the ones analysts are handed, written here byte for byte: a ragged CSV, a
// Latin-1 semicolon file with day-first dates, decimal commas and 'NA', JSON nested 5,000 deep.
const data = tempDataDir();
let t: TestClient;

function write(name: string, content: string | Buffer): void {
  writeFileSync(path.join(data.dir, name), content);
}

beforeAll(async () => {
  write("ragged.csv", "id,name,amount\n1,a,10\n2,b,20,extra\n3,c\n");
  write(
    "latin1.csv",
    Buffer.from(
      "id;name;when;amount\n1;café;03/04/2024;1,5\n2;naïve;13/04/2024;NA\n3;Zoë;21/12/2023;7,25\n",
      "latin1",
    ),
  );
  write("deep.json", `${"[".repeat(5000)}1${"]".repeat(5000)}`);
  write("plain.json", '[{"a":1},{"a":2}]');
  write("mixed.json", '[{"id":1,"title":{"en":"Dune"}},{"id":2,"title":"Emma"}]');
  // Replacing asks a person; these tests are about the tools and run unattended (see confirm.test.ts).
  t = await client({ dataDir: data.dir }, { confirm: "never" });
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

describe("messy files", () => {
  it("refuses a ragged CSV that would load as one column, and reads it with the options it names", async () => {
    const bad = await call(t, "register_dataset", { name: "ragged", path: "ragged.csv" });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/did not split into columns/);
    expect(bad.text).toContain('delimiter: ",", nullPadding: true');
    expect((await call(t, "list_datasets", {})).text).not.toContain("ragged");

    const padded = await call(t, "register_dataset", {
      name: "ragged",
      path: "ragged.csv",
      options: { delimiter: ",", nullPadding: true },
    });
    expect(padded.isError).toBeFalsy();
    expect(padded.data.rowCount).toBe(3);
    expect((padded.data.columns as { name: string }[]).map((c) => c.name).slice(0, 3)).toEqual([
      "id",
      "name",
      "amount",
    ]);
    expect(padded.text).toMatch(/NULLs of 3 rows: .*amount 1/);

    const skipped = await call(t, "register_dataset", {
      name: "ragged_skip",
      path: "ragged.csv",
      options: { delimiter: ",", ignoreErrors: true },
    });
    expect(skipped.data.rowCount).toBe(1);
  });

  it("names the encoding when a file is not UTF-8, and keeps DuckDB's own possible solutions", async () => {
    const bad = await call(t, "register_dataset", { name: "latin", path: "latin1.csv" });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain("encoding: 'latin-1'");
    expect(bad.text).toMatch(/Possible Solution: Set the correct encoding/);
  });

  it("reports what it assumed (delimiter, header, date order) and notes numbers kept as text", async () => {
    const res = await call(t, "register_dataset", {
      name: "latin",
      path: "latin1.csv",
      options: { encoding: "latin-1" },
    });
    expect(res.isError).toBeFalsy();
    expect(res.data.assumed).toMatchObject({
      delimiter: ";",
      header: true,
      encoding: "latin-1",
      dateFormat: "%d/%m/%Y",
      decimalSeparator: ".",
    });
    expect(res.data.columns).toContainEqual({ name: "when", type: "DATE" });
    expect(res.data.columns).toContainEqual({ name: "amount", type: "VARCHAR" });
    expect(res.text).toMatch(/column 'amount' kept as text: it holds numbers with a decimal comma/);
    expect(res.text).toMatch(/dates read with format '%d\/%m\/%Y'/);

    const fixed = await call(t, "register_dataset", {
      name: "latin",
      path: "latin1.csv",
      replace: true,
      options: { encoding: "latin-1", decimalSeparator: ",", nullStrings: ["NA"], types: { id: "VARCHAR" } },
    });
    expect(fixed.isError).toBeFalsy();
    expect(fixed.data.columns).toContainEqual({ name: "amount", type: "DOUBLE" });
    expect(fixed.data.columns).toContainEqual({ name: "id", type: "VARCHAR" });
    expect(fixed.data.assumed).toMatchObject({ nullStrings: ["NA"], decimalSeparator: "," });
    expect(fixed.text).toMatch(/NULLs of 3 rows: amount 1/);
    const sum = await call(t, "query", { sql: "SELECT sum(amount) AS s, min(name) AS n FROM latin" });
    expect(sum.data.rows).toEqual([[8.75, "Zoë"]]);
  });

  it("validates reader options instead of passing them through as SQL", async () => {
    const badType = await call(t, "register_dataset", {
      name: "x",
      path: "latin1.csv",
      options: { types: { id: "VARCHAR'); DROP TABLE latin; --" } },
    });
    expect(badType.isError).toBe(true);
    expect(badType.text).toMatch(/a DuckDB type such as/);
    const wrongFormat = await call(t, "register_dataset", {
      name: "x",
      path: "plain.json",
      options: { delimiter: ";" },
    });
    expect(wrongFormat.isError).toBe(true);
    expect(wrongFormat.text).toMatch(/apply to CSV and TSV files only, not json/);
    const unknown = await call(t, "register_dataset", {
      name: "x",
      path: "plain.json",
      options: { sql: "1" },
    });
    expect(unknown.isError).toBe(true);
  });

  it("keeps the header of an all-text inline CSV", async () => {
    const res = await call(t, "load_inline_dataset", {
      name: "cities",
      data: "name,city\nRex,Paris\nMia,Rome\n",
    });
    expect(res.isError).toBeFalsy();
    expect(res.data.rowCount).toBe(2);
    expect(res.data.columns).toEqual([
      { name: "name", type: "VARCHAR" },
      { name: "city", type: "VARCHAR" },
    ]);
  });

  it("refuses JSON nested 5,000 deep before DuckDB sees it, and later loads still run", async () => {
    const started = Date.now();
    const deep = await call(t, "register_dataset", { name: "deep", path: "deep.json" });
    expect(deep.isError).toBe(true);
    expect(deep.text).toMatch(/nests JSON arrays or objects more than 256 deep .*flatten the file/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const plain = await call(t, "register_dataset", { name: "plain", path: "plain.json" });
    expect(plain.data.rowCount).toBe(2);
  });

  it("loads under the load time limit, not the query limit", async () => {
    // 400k rows: longer than a 100 ms query limit, well inside the load limit. Only this server runs
    // with so short a query limit: the other tests' queries may take longer on a loaded machine.
    const own = tempDataDir();
    const quick = await client({ dataDir: own.dir, queryTimeoutMs: 100 }, { confirm: "never" });
    onTestFinished(async () => {
      await quick.close();
      own.cleanup();
    });
    const lines = ["id,label,value"];
    for (let i = 0; i < 400_000; i++) lines.push(`${i},label${i % 97},${(i * 0.37).toFixed(2)}`);
    writeFileSync(path.join(own.dir, "big.csv"), lines.join("\n"));
    const started = Date.now();
    const res = await call(quick, "register_dataset", { name: "big", path: "big.csv" });
    const took = Date.now() - started;
    expect(res.text).toMatch(/400000 rows/);
    expect(res.data.rowCount).toBe(400_000);
    expect(took).toBeGreaterThan(100);
  });
});

describe("DuckDB's guidance in errors", () => {
  it("keeps 'Did you mean' and 'Candidate bindings'", async () => {
    const table = await call(t, "query", { sql: "SELECT * FROM plian" });
    expect(table.isError).toBe(true);
    expect(table.text).toMatch(/Did you mean "plain"/);
    const column = await call(t, "query", { sql: "SELECT b FROM plain" });
    expect(column.isError).toBe(true);
    expect(column.text).toMatch(/Candidate bindings: "a"/);
  });
});

describe("exact numbers in text", () => {
  it("prints DECIMALs and big values exactly, and marks rounded floating-point values", async () => {
    const r = await call(t, "query", {
      sql: "SELECT 37103458.82::DECIMAL(18,2) AS d, 12345678901234567.12::DECIMAL(38,2) AS big, 9007199254740993::HUGEINT AS huge, 1/3 AS third, 2.5::DOUBLE AS half, 37103458.82::DOUBLE AS dbl",
    });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.text).toContain(
      "| 37103458.82 | 12345678901234567.12 | 9007199254740993 | ~0.333333 | 2.5 | 37103458.82 |",
    );
    expect(r.text).toMatch(/~ marks floating-point values rounded for display/);
    // Structured: numbers where a double holds them exactly, exact text where it cannot.
    expect(r.data.rows[0]).toEqual([
      37103458.82,
      "12345678901234567.12",
      "9007199254740993",
      1 / 3,
      2.5,
      37103458.82,
    ]);
    const plain = await call(t, "query", { sql: "SELECT 1.50::DECIMAL(5,2) AS a, 2 AS b" });
    expect(plain.text).toContain("| 1.5 | 2 |");
    expect(plain.text).not.toMatch(/~ marks/);
  });
});

describe("read-only statements DuckDB writes its own way", () => {
  it("runs PIVOT with its values listed, and says how when they are not", async () => {
    await call(t, "load_inline_dataset", {
      name: "pv",
      data: '[{"region":"n","yr":2024,"amount":1.5},{"region":"s","yr":2024,"amount":2}]',
    });
    const ok = await call(t, "query", {
      sql: "PIVOT pv ON region IN ('n', 's') USING sum(amount) GROUP BY yr",
    });
    expect(ok.isError, ok.text).toBeFalsy();
    expect(ok.data.rows).toEqual([[2024, 1.5, 2]]);
    const bare = await call(t, "query", { sql: "PIVOT pv ON region USING sum(amount)" });
    expect(bare.isError).toBe(true);
    expect(bare.text).toMatch(/a PIVOT runs here with its values listed: PIVOT t ON col IN/);
  });

  it("notes JSON-typed columns on load and explains a failed comparison on one", async () => {
    const res = await call(t, "register_dataset", { name: "mixed", path: "mixed.json" });
    expect(res.data.columns).toContainEqual({ name: "title", type: "JSON" });
    expect(res.text).toMatch(/column 'title' read as JSON: compare the text with col::VARCHAR/);
    const eq = await call(t, "query", { sql: "SELECT id FROM mixed WHERE title = 'Emma'" });
    expect(eq.isError).toBe(true);
    expect(eq.text).toMatch(/a column of type JSON compares as JSON/);
    const fixed = await call(t, "query", { sql: "SELECT id FROM mixed WHERE title->>'$' = 'Emma'" });
    expect(fixed.data.rows).toEqual([[2]]);
  });
});

describe("export, then register the export, with --allow-dir set", () => {
  const other = tempDataDir();
  const own = tempDataDir();
  let s: TestClient;
  beforeAll(async () => {
    s = await client({ dataDir: own.dir, allowDir: [other.dir] });
  });
  afterAll(async () => {
    await s.close();
    other.cleanup();
    own.cleanup();
  });

  it("reads back exports/<file> from the data dir", async () => {
    expect((await call(s, "register_dataset", { name: "sales", path: "sales.csv" })).isError).toBeFalsy();
    const out = await call(s, "export_dataset", { name: "sales", file: "sales_copy.parquet" });
    expect(out.isError, out.text).toBeFalsy();
    const back = await call(s, "register_dataset", { name: "copy", path: out.data.file as string });
    expect(back.isError, back.text).toBeFalsy();
    expect(back.data.rowCount).toBe(6);
    // Only the exports folder is added, not the rest of the data dir.
    const outside = await call(s, "register_dataset", { name: "x", path: "exports/../analytics.duckdb" });
    expect(outside.isError).toBe(true);
  });
});

describe("answers sized to the transport", () => {
  it("sends big results' rows once in full (structured), the text only the first ones with a pointer", async () => {
    const own = tempDataDir(); // its own DuckDB file: the suite's server holds the other one
    const big = await client({ dataDir: own.dir, maxRows: 5_000, maxBytes: 2 * 1024 * 1024 });
    try {
      const r = await call(big, "query", {
        sql: "SELECT range AS id, repeat('x', 100) AS pad FROM range(3000)",
        limit: 3000,
      });
      expect(r.isError, r.text).toBeFalsy();
      expect(r.data.rows).toHaveLength(3000);
      expect(r.text).toMatch(
        /The text shows the first \d+ of the 3000 rows returned; all of them, in full, are in the structured result/,
      );
      // The text carries a fraction of the rows, not a second copy of all of them.
      expect(r.text.length).toBeLessThan(100_000);
      const small = await call(big, "query", { sql: "SELECT 1 AS one" });
      expect(small.text).not.toMatch(/The text shows/);
    } finally {
      await big.close();
      own.cleanup();
    }
  });

  it("refuses a --max-bytes that would break stdio clients, saying what to do instead", () => {
    const parsed = configSchema.safeParse({ maxBytes: 6 * 1024 * 1024 });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(
      /at most 2097152 \(2 MiB\): bigger answers break stdio clients/,
    );
  });
});
