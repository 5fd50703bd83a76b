import { describe, expect, it } from "vitest";
import type { Cell } from "../src/engine/engine.js";
import { capBytes, cellCapOf, formatNumber, markdownTable } from "../src/render.js";

/** The cell text markdownTable printed before its fast path: formatNumber on every float. */
function referenceCell(v: number): string {
  const shown = formatNumber(v);
  return shown === String(v) ? shown : `~${shown}`;
}

/** capBytes as it measured before its fast path: row by row. */
function referenceCap(rows: Cell[][], maxBytes: number): { rows: Cell[][]; cut: boolean } {
  const cap = cellCapOf(maxBytes);
  let used = 0;
  let shortened = false;
  const out: Cell[][] = [];
  for (const row of rows) {
    const capped = row.map((v) => {
      if (typeof v === "string" && v.length > cap) {
        shortened = true;
        return `${v.slice(0, cap)}…[cut: ${v.length} chars]`;
      }
      return v;
    });
    const size = Buffer.byteLength(JSON.stringify(capped));
    if (used + size > maxBytes) return { rows: out, cut: true };
    used += size;
    out.push(capped);
  }
  return { rows: out, cut: shortened };
}

/** A deterministic stream of doubles of every shape: tiny, huge, negative, few and many digits. */
function* doubles(n: number): Generator<number> {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < n; i++) {
    const scale = 10 ** Math.floor(next() * 30 - 12);
    const v = (next() - 0.5) * scale;
    yield v;
    yield Number(v.toFixed(Math.floor(next() * 4))); // few decimals, as money and averages have
    yield Number(v.toPrecision(1 + Math.floor(next() * 16)));
  }
}

describe("markdownTable numbers", () => {
  it("prints every float as formatNumber would, marking the rounded ones", () => {
    const values = [
      ...doubles(4000),
      0.5,
      -0.5,
      0.000123456,
      0.0001234567,
      123.456,
      12345.67,
      12345.678,
      999999.99,
      1234567.891,
      123456789012345.67,
      -98765.4321,
      1e-7,
      1.5e-10,
      37103458.82,
    ].filter((v) => !Number.isInteger(v));
    const table = markdownTable(
      [{ name: "x", type: "DOUBLE" }],
      values.map((v) => [v]),
    );
    const cells = table
      .split("\n")
      .slice(2, 2 + values.length)
      .map((line) => line.slice(2, -2));
    expect(cells).toEqual(values.map(referenceCell));
  });

  it("keeps pipes and newlines from breaking the table, and leaves other text alone", () => {
    const table = markdownTable([{ name: "a|b" }], [["x|y\nz"], ["plain"]]);
    expect(table.split("\n")).toEqual(["| a\\|b |", "|---|", "| x\\|y z |", "| plain |"]);
  });
});

describe("capBytes", () => {
  it("measures a page as it did row by row, at every budget", () => {
    const rows: Cell[][] = Array.from({ length: 40 }, (_, i) => [
      i,
      `name ${i} ${"é".repeat(i % 7)}`,
      i % 3 === 0 ? null : i / 3,
      i % 5 === 0 ? { nested: [i, "x"] } : "x".repeat(i * 10),
    ]);
    for (const budget of [0, 10, 100, 1000, 2000, 4000, 8000, 100_000]) {
      const got = capBytes(rows, budget);
      const want = referenceCap(rows, budget);
      expect({ rows: got.rows, cut: got.cut }, `budget ${budget}`).toEqual(want);
    }
    expect(capBytes([], 10)).toEqual({ rows: [], cut: false, shortened: false });
  });

  it("still cuts a long cell in a page that would fit", () => {
    const long = "y".repeat(300);
    const got = capBytes([[long]], 1024);
    expect(got.shortened).toBe(true);
    expect(got.rows[0]![0]).toBe(`${"y".repeat(256)}…[cut: 300 chars]`);
  });
});
