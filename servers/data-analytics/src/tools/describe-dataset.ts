import { z } from "@toolshed/server";
import { datasetNameSchema, getDataset } from "../datasets.js";
import { defineTool } from "../deps.js";
import { markdownTable } from "../render.js";
import { quoteIdent } from "../engine/sql.js";

const input = z.object({
  name: datasetNameSchema,
  sampleRows: z.number().int().min(0).max(20).default(5).describe("How many sample rows to include (0-20)."),
});

export const describeDatasetTool = defineTool({
  name: "describe_dataset",
  title: "Describe a dataset",
  description:
    "Profiles one dataset: for every column its type, null count, distinct count, min and max, plus the row count and a few sample rows. Use it before writing a query to learn column names, types and value ranges. An unknown name resembling existing datasets: asks the user which one.",
  input,
  output: z.object({
    name: z.string(),
    rowCount: z.number(),
    columns: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        nullCount: z.number(),
        distinctCount: z.number(),
        min: z.string().nullable(),
        max: z.string().nullable(),
      }),
    ),
    sample: z.array(z.record(z.string(), z.unknown())),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (d) =>
    [
      `Dataset ${d.name}: ${d.rowCount} rows`,
      markdownTable(
        [
          { name: "column" },
          { name: "type" },
          { name: "nulls" },
          { name: "distinct" },
          { name: "min" },
          { name: "max" },
        ],
        d.columns.map((c) => [c.name, c.type, c.nullCount, c.distinctCount, c.min, c.max]),
      ),
      `Sample rows:\n${d.sample.map((r) => JSON.stringify(r)).join("\n")}`,
    ].join("\n\n"),
  handler: async ({ name: asked, sampleRows }, ctx) => {
    const { engine } = ctx.deps;
    const info = await getDataset(engine, asked, ctx);
    const name = info.name;
    const table = engine.tableRef(name);
    const parts = info.columns.flatMap((c) => {
      const raw = quoteIdent(c.name);
      const col = engine.dialect.comparable(raw, c.type);
      return [
        `count(*) - count(${raw})`,
        `count(DISTINCT ${col})`,
        `min(${col})::VARCHAR`,
        `max(${col})::VARCHAR`,
      ];
    });
    const stats = await engine.run(`SELECT count(*)${parts.map((p) => `, ${p}`).join("")} FROM ${table}`, {
      signal: ctx.signal,
    });
    const row = stats.rows[0] ?? [];
    const columns = info.columns.map((c, i) => ({
      name: c.name,
      type: c.type,
      nullCount: Number(row[1 + i * 4]),
      distinctCount: Number(row[2 + i * 4]),
      min: (row[3 + i * 4] as string | null) ?? null,
      max: (row[4 + i * 4] as string | null) ?? null,
    }));
    const sample = await engine.run(`SELECT * FROM ${table} LIMIT ?`, {
      params: [sampleRows],
      signal: ctx.signal,
    });
    return {
      name,
      rowCount: Number(row[0]),
      columns,
      sample: sample.rows.map((r) => Object.fromEntries(sample.columns.map((c, i) => [c.name, r[i]]))),
    };
  },
});
