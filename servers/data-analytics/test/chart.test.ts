import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, client, tempDataDir } from "./helpers.js";

const data = tempDataDir();
let t: TestClient;

beforeAll(async () => {
  t = await client({ dataDir: data.dir });
  await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

interface Block {
  type: string;
  data?: string;
  mimeType?: string;
  text?: string;
}

async function chart(args: Record<string, unknown>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK types content loosely; the test reads it
  const r = (await t.client.callTool({ name: "chart", arguments: args })) as any;
  const content = r.content as Block[];
  const image = content.find((c) => c.type === "image");
  const png = image ? Buffer.from(image.data!, "base64") : undefined;

  return { isError: r.isError as boolean | undefined, content, image, png, data: r.structuredContent };
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Width and height from the PNG's IHDR chunk. */
const size = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

describe("chart", () => {
  it("renders a bar chart of a dataset as a PNG of the requested size plus a Vega-Lite spec", async () => {
    const r = await chart({
      type: "bar",
      name: "sales",
      x: "region",
      y: "amount",
      aggregate: "sum",
      width: 500,
      height: 300,
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.image?.mimeType).toBe("image/png");
    expect(r.png!.subarray(0, 8)).toEqual(SIGNATURE);
    expect(size(r.png!)).toEqual({ width: 500, height: 300 });
    expect(r.png!.length).toBeGreaterThan(2_000);
    expect(r.data.spec).toMatchObject({
      mark: "bar",
      encoding: { y: { aggregate: "sum", title: "sum of amount" } },
    });
    expect(r.data.spec.data.values).toHaveLength(6);
    expect(r.data).toMatchObject({ points: 6, truncated: false, width: 500, height: 300 });
  });

  it("renders line, scatter and histogram charts, from a query too", async () => {
    for (const args of [
      { type: "line", sql: "SELECT range AS day, range * range AS v FROM range(30)", x: "day", y: "v" },
      { type: "scatter", name: "sales", x: "units", y: "amount", color: "region" },
      { type: "histogram", sql: "SELECT random() AS r FROM range(1000)", x: "r", bins: 10 },
    ]) {
      const r = await chart(args);
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(r.png!.subarray(0, 8)).toEqual(SIGNATURE);
      expect(size(r.png!)).toEqual({ width: 640, height: 400 });
    }
  });

  it("caps the plotted points and says so", async () => {
    const r = await chart({
      type: "scatter",
      sql: "SELECT range AS a, range % 7 AS b FROM range(20000)",
      x: "a",
      y: "b",
    });
    expect(r.isError).toBeFalsy();
    expect(r.data).toMatchObject({ points: 5000, truncated: true });
    expect(r.content[0]!.text).toMatch(/first 5000 rows only/);
    // Said on the image too, for whoever sees only the picture.
    expect(r.data.spec.title.subtitle).toContainEqual(expect.stringMatching(/first 5000 rows only/));
  });

  it("plots a random sample of a big dataset's points, not its first rows, and says so", async () => {
    await call(t, "load_inline_dataset", {
      name: "many",
      data: ["a,b", ...Array.from({ length: 12_000 }, (_, i) => `${i},${i % 13}`)].join("\n"),
    });
    const r = await chart({ type: "scatter", name: "many", x: "a", y: "b" });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.data).toMatchObject({ points: 5000, truncated: true });
    expect(r.content[0]!.text).toMatch(/a random sample of 5000 of 12000 rows/);
    expect(r.data.spec.title.subtitle).toContain("a random sample of 5000 of 12000 rows");
    // Drawn from the whole table: the first 5,000 rows would stop at a = 4999.
    const xs = (r.data.spec.data.values as { x: number }[]).map((v) => v.x);
    expect(Math.max(...xs)).toBeGreaterThan(6000);
  });

  it("plots text dates on a time axis, not an alphabetical one", async () => {
    const r = await chart({
      type: "line",
      sql: "SELECT strftime(DATE '2024-01-01' + INTERVAL (range * 40) DAY, '%Y-%m-%d') AS day, range AS v FROM range(12)",
      x: "day",
      y: "v",
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.data.spec.encoding.x).toMatchObject({ field: "x", type: "temporal" });
    const typed = await chart({
      type: "line",
      sql: "SELECT DATE '2024-01-01' + range::INTEGER AS day, range AS v FROM range(5)",
      x: "day",
      y: "v",
    });
    expect(typed.data.spec.encoding.x.type).toBe("temporal");
  });

  it("keeps the query's ORDER BY for bars instead of sorting them alphabetically", async () => {
    const r = await chart({
      type: "bar",
      sql: "SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY total DESC",
      x: "region",
      y: "total",
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.data.spec.encoding.x.sort).toBeNull();
    const totals = (r.data.spec.data.values as { y: number }[]).map((v) => v.y);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
  });

  it("says which chart fits when the field types cannot make the mark", async () => {
    const scatter = await chart({ type: "scatter", name: "sales", x: "region", y: "amount" });
    expect(scatter.isError).toBe(true);
    expect(scatter.content[0]!.text).toMatch(
      /scatter chart needs a numeric or date x, and 'region' is text; use a bar chart/,
    );
    const hist = await chart({ type: "histogram", name: "sales", x: "region" });
    expect(hist.content[0]!.text).toMatch(/a histogram bins numbers, and 'region' is text/);
    const bar = await chart({ type: "bar", name: "sales", x: "region", y: "region" });
    expect(bar.content[0]!.text).toMatch(/omit y to count rows/);
  });

  it("announces rows left out for NULLs, in the answer and on the image", async () => {
    const r = await chart({
      type: "scatter",
      sql: "SELECT range AS a, CASE WHEN range % 4 = 0 THEN NULL ELSE range END AS b FROM range(20)",
      x: "a",
      y: "b",
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.data).toMatchObject({ points: 15, nullsDropped: 5 });
    expect(r.content[0]!.text).toMatch(/5 rows with NULL a or b not plotted/);
    expect(r.data.spec.title.subtitle).toContain("5 rows with NULL a or b not plotted");
  });

  it("refuses unsafe SQL, unknown columns, oversize images and bad arguments", async () => {
    const copy = await chart({ type: "bar", sql: "COPY sales TO 'x.csv'", x: "region" });
    expect(copy.isError).toBe(true);
    expect(JSON.stringify(copy.content)).toMatch(/not allowed/);
    const unknown = await chart({ type: "bar", name: "sales", x: "nope" });
    expect(JSON.stringify(unknown.content)).toMatch(/column 'nope' not in dataset/);
    const big = await chart({ type: "bar", name: "sales", x: "region", width: 5000 });
    expect(big.isError).toBe(true);
    const both = await chart({ type: "bar", name: "sales", sql: "SELECT 1", x: "region" });
    expect(JSON.stringify(both.content)).toMatch(/exactly one of name/);
  });
});
