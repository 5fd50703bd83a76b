import * as path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { client, tempDataDir } from "./helpers.js";

const data = tempDataDir();
let t: TestClient;
// DuckDB's percentage is polled every 200 ms, so the load must outlast a few polls on a quiet machine
// too: 700,000 rows loaded in 0.2 s there and reported no percentage in between.
const ROWS = 4_000_000;

beforeAll(async () => {
  // About 120 MB of CSV, over the 8 MiB threshold for progress notifications.
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  await conn.run(
    `COPY (SELECT range AS id, 'region_' || (range % 50) AS region, range * 0.37 AS amount FROM range(${ROWS})) TO '${path.join(data.dir, "big.csv")}' (HEADER)`,
  );
  conn.closeSync();
  db.closeSync();
  t = await client({ dataDir: data.dir });
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

it("reports DuckDB's own percentage while loading a large file, always going up", async () => {
  const seen: { progress: number; total?: number; message?: string }[] = [];
  const r = (await t.client.callTool(
    { name: "register_dataset", arguments: { name: "big", path: "big.csv" } },
    {
      onprogress: (p) => seen.push(p),
    },
  )) as unknown as { structuredContent: { rowCount: number } };
  expect(r.structuredContent?.rowCount, JSON.stringify(r)).toBe(ROWS);
  expect(seen[0]).toMatchObject({
    progress: 0,
    total: 100,
    message: expect.stringMatching(/^loading big\.csv \(\d+\.\d MiB\)$/),
  });
  expect(seen.at(-1)).toMatchObject({ progress: 100, total: 100 });
  expect(seen.at(-1)?.message).toMatch(new RegExp(`^loaded ${ROWS} rows in \\d+\\.\\d s$`));
  const values = seen.map((s) => s.progress);
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
  // Between start and end, DuckDB's own percentage of the file read so far; on a busy machine DuckDB
  // may report no percentage for a second, and then a heartbeat says the load is still going.
  const middle = seen.slice(1, -1);
  expect(middle.length, JSON.stringify(seen)).toBeGreaterThan(0);
  for (const m of middle)
    expect(m.message).toMatch(/^(loading big\.csv: \d+%|still loading big\.csv: \d+ s)$/);
  expect(
    middle.filter((m) => /^loading big\.csv: \d+%$/.test(m.message ?? "")).length,
    JSON.stringify(seen),
  ).toBeGreaterThan(0);
});

it("sends no progress for a small file", async () => {
  const seen: unknown[] = [];
  await t.client.callTool(
    { name: "register_dataset", arguments: { name: "sales", path: "sales.csv" } },
    {
      onprogress: (p) => seen.push(p),
    },
  );
  expect(seen).toEqual([]);
});
