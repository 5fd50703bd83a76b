import { ToolshedError, z } from "@toolshed/server";
import { datasetNameSchema, getDataset } from "../datasets.js";
import { defineTool } from "../deps.js";
import { formatNumber, markdownTable } from "../render.js";
import { NUMERIC_TYPE, quoteIdent } from "../engine/sql.js";

const MAX_COLUMNS = 30;

const input = z.object({
  name: datasetNameSchema,
  columns: z
    .array(z.string())
    .min(2)
    .max(MAX_COLUMNS)
    .optional()
    .describe(`Numeric columns to correlate; every numeric column (at most ${MAX_COLUMNS}) when omitted.`),
});

export const correlateTool = defineTool({
  name: "correlate",
  title: "Pairwise correlation",
  description: `Computes the Pearson correlation coefficient of every pair of numeric columns of a dataset (rows where either value is null are skipped), as a matrix and as pairs sorted by strength. Use it to find which columns move together. At most ${MAX_COLUMNS} columns. An unknown name resembling existing datasets: asks the user which one. Example: { name: 'sales', columns: ['units', 'unit_price', 'amount'] }.`,
  input,
  output: z.object({
    name: z.string(),
    columns: z.array(z.string()),
    matrix: z.array(z.array(z.number().nullable())).describe("matrix[i][j] = r(columns[i], columns[j])."),
    pairs: z
      .array(z.object({ a: z.string(), b: z.string(), r: z.number().nullable(), n: z.number() }))
      .describe("Each pair once, strongest |r| first; n is the number of rows where both are not null."),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    [
      markdownTable(
        [{ name: "" }, ...r.columns.map((name) => ({ name }))],
        r.matrix.map((row, i) => [r.columns[i]!, ...row.map((v) => (v === null ? null : formatNumber(v)))]),
      ),
      `Strongest pairs: ${r.pairs
        .slice(0, 10)
        .map((p) => `${p.a}~${p.b} r=${p.r === null ? "n/a" : formatNumber(p.r)} (n=${p.n})`)
        .join("; ")}`,
    ].join("\n\n"),
  handler: async ({ name: asked, columns }, ctx) => {
    const { engine } = ctx.deps;
    const info = await getDataset(engine, asked, ctx);
    const name = info.name;
    const known = new Map(info.columns.map((c) => [c.name, c.type]));
    for (const c of columns ?? []) {
      if (!known.has(c)) {
        throw new ToolshedError(
          "invalid_input",
          `column '${c}' not in dataset '${name}'; call describe_dataset`,
        );
      }
      if (!NUMERIC_TYPE.test(known.get(c)!)) {
        throw new ToolshedError("invalid_input", `column '${c}' is not numeric; correlate needs numbers`);
      }
    }
    const targets = columns ?? info.columns.filter((c) => NUMERIC_TYPE.test(c.type)).map((c) => c.name);
    if (targets.length < 2) {
      throw new ToolshedError(
        "invalid_input",
        `dataset '${name}' needs at least two numeric columns to correlate`,
      );
    }
    if (targets.length > MAX_COLUMNS) {
      throw new ToolshedError(
        "invalid_input",
        `more than ${MAX_COLUMNS} numeric columns; pass columns to choose`,
      );
    }
    const pairs: [number, number][] = [];
    for (let i = 0; i < targets.length; i++) for (let j = i + 1; j < targets.length; j++) pairs.push([i, j]);
    const dbl = (c: string) => `CAST(${quoteIdent(c)} AS DOUBLE PRECISION)`;
    const exprs = pairs.flatMap(([i, j]) => {
      const a = dbl(targets[i]!);
      const b = dbl(targets[j]!);
      return [`corr(${a}, ${b})`, `count(${a} + ${b})`];
    });
    const { rows } = await engine.run(`SELECT ${exprs.join(", ")} FROM ${engine.tableRef(name)}`, {
      signal: ctx.signal,
    });
    const row = rows[0] ?? [];
    const matrix = targets.map((_, i) => targets.map((__, j) => (i === j ? 1 : (null as number | null))));
    const out = pairs.map(([i, j], k) => {
      const raw = row[k * 2];
      const r =
        raw === null || raw === undefined || !Number.isFinite(Number(raw)) ? null : round(Number(raw));
      matrix[i]![j] = r;
      matrix[j]![i] = r;
      return { a: targets[i]!, b: targets[j]!, r, n: Number(row[k * 2 + 1] ?? 0) };
    });
    out.sort((x, y) => Math.abs(y.r ?? 0) - Math.abs(x.r ?? 0));
    return { name, columns: targets, matrix, pairs: out };
  },
});

const round = (v: number) => Math.round(v * 1e6) / 1e6;
