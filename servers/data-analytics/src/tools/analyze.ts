import { ToolshedError, z } from "@toolshed/server";
import { datasetNameSchema, getDataset } from "../datasets.js";
import { defineTool } from "../deps.js";
import { formatNumber, markdownTable } from "../render.js";
import { NUMERIC_TYPE, quoteIdent } from "../engine/sql.js";

const MAX_GROUPS = 100;

const input = z.object({
  name: datasetNameSchema,
  columns: z
    .array(z.string())
    .max(50)
    .optional()
    .describe("Numeric columns to summarise; every numeric column when omitted."),
  groupBy: z
    .string()
    .optional()
    .describe("A column to group by; statistics are computed per value (first 100 groups)."),
});

const stat = z.number().nullable();

export const analyzeTool = defineTool({
  name: "analyze",
  title: "Summary statistics",
  description:
    "Computes count, mean, median, standard deviation, min, max and the 25th/75th percentiles of numeric columns of a dataset, optionally per group of another column (at most 100 groups, largest first). An unknown name resembling existing datasets: asks the user which one. Example: { name: 'sales', columns: ['amount'], groupBy: 'region' }.",
  input,
  output: z.object({
    name: z.string(),
    groupBy: z.string().nullable(),
    stats: z.array(
      z.object({
        group: z.string().nullable(),
        column: z.string(),
        count: z.number(),
        mean: stat,
        median: stat,
        stdev: stat,
        min: stat,
        max: stat,
        q25: stat,
        q75: stat,
      }),
    ),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    markdownTable(
      [
        ...(r.groupBy ? [{ name: r.groupBy }] : []),
        ...["column", "count", "mean", "median", "stdev", "min", "q25", "q75", "max"].map((name) => ({
          name,
        })),
      ],
      r.stats.map((s) => [
        ...(r.groupBy ? [s.group] : []),
        s.column,
        s.count,
        ...[s.mean, s.median, s.stdev, s.min, s.q25, s.q75, s.max].map((v) =>
          v === null ? null : formatNumber(v),
        ),
      ]),
    ),
  handler: async ({ name: asked, columns, groupBy }, ctx) => {
    const { engine } = ctx.deps;
    const info = await getDataset(engine, asked, ctx);
    const name = info.name;
    const known = new Map(info.columns.map((c) => [c.name, c.type]));
    for (const c of [...(columns ?? []), ...(groupBy ? [groupBy] : [])]) {
      if (!known.has(c)) {
        throw new ToolshedError(
          "invalid_input",
          `column '${c}' not in dataset '${name}'; call describe_dataset`,
        );
      }
    }
    const targets =
      columns ??
      info.columns.filter((c) => NUMERIC_TYPE.test(c.type) && c.name !== groupBy).map((c) => c.name);
    const nonNumeric = targets.filter((c) => !NUMERIC_TYPE.test(known.get(c) ?? ""));
    if (nonNumeric.length) {
      throw new ToolshedError(
        "invalid_input",
        `columns ${nonNumeric.join(", ")} are not numeric; analyze needs numbers`,
      );
    }
    if (!targets.length) throw new ToolshedError("invalid_input", `dataset '${name}' has no numeric columns`);
    const aggs = targets.flatMap((c) => {
      const col = engine.dialect.double(quoteIdent(c));
      return [
        `count(${col})`,
        `avg(${col})`,
        engine.dialect.median(col),
        `stddev_samp(${col})`,
        `min(${col})`,
        `max(${col})`,
        engine.dialect.quantile(col, 0.25),
        engine.dialect.quantile(col, 0.75),
      ];
    });
    const group = groupBy ? quoteIdent(groupBy) : null;
    const sql = group
      ? `SELECT ${group}::VARCHAR, ${aggs.join(", ")} FROM ${engine.tableRef(name)} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ${MAX_GROUPS}`
      : `SELECT NULL, ${aggs.join(", ")} FROM ${engine.tableRef(name)}`;
    const { rows } = await engine.run(sql, { signal: ctx.signal });
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    const stats = rows.flatMap((row) =>
      targets.map((column, i) => {
        const at = 1 + i * 8;
        return {
          group: (row[0] as string | null) ?? null,
          column,
          count: Number(row[at]),
          mean: num(row[at + 1]),
          median: num(row[at + 2]),
          stdev: num(row[at + 3]),
          min: num(row[at + 4]),
          max: num(row[at + 5]),
          q25: num(row[at + 6]),
          q75: num(row[at + 7]),
        };
      }),
    );
    return { name, groupBy: groupBy ?? null, stats };
  },
});
