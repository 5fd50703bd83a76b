import { ToolshedError, z } from "@toolshed/server";
import {
  checkTarget,
  datasetInfoSchema,
  datasetNameSchema,
  confirmReplace,
  getDataset,
  newDatasetNameSchema,
  recordDataset,
} from "../datasets.js";
import { defineTool } from "../deps.js";
import type { DuckDBEngine } from "../engine/duckdb-engine.js";
import { asText, engineMessage, type Cell, requireKind } from "../engine/engine.js";
import { markdownTable } from "../render.js";
import { quoteIdent } from "../engine/sql.js";
import { compileStep, MAX_PIVOT_COLUMNS, stepSchema } from "../transform-spec.js";
import { announcesDatasetWrite } from "../dataset-changes.js";

const input = z.object({
  source: datasetNameSchema.describe("The dataset to transform."),
  target: newDatasetNameSchema.describe("The name of the new dataset the result is saved as."),
  steps: z
    .array(stepSchema)
    .min(1)
    .max(50)
    .describe(
      "Steps applied in order, each to the previous step's result: filter, select, rename, sort, aggregate (group by), pivot, distinct, drop_nulls, limit.",
    ),
  replace: z.boolean().default(false).describe("Overwrite an existing dataset named target."),
});

const transform = defineTool({
  name: "transform",
  title: "Transform a dataset into a new one",
  description:
    "Reshapes a dataset with a pipeline of structured steps and saves the result as a new dataset (refuses to overwrite one unless replace: true, and then asks the user to confirm first; a source name matching none but resembling several: asks which one). Steps: filter (column, op =,!=,<,<=,>,>=,in,not_in,is_null,not_null,contains,starts_with, value), select, rename, sort, aggregate (groupBy + count/count_distinct/sum/avg/min/max/median/stdev), pivot (index, column, value, fn; at most 100 new columns), distinct (optionally on columns), drop_nulls, limit. Returns the new dataset's columns, row count and first rows. Example: { source: 'sales', target: 'north_totals', steps: [{ op: 'filter', where: [{ column: 'region', op: '=', value: 'north' }] }, { op: 'aggregate', groupBy: ['product'], aggregates: [{ fn: 'sum', column: 'amount', as: 'total' }] }] }.",
  input,
  output: datasetInfoSchema.extend({
    preview: z.array(z.record(z.string(), z.unknown())).describe("The first 5 rows of the new dataset."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  timeoutMs: 300_000,
  task: "optional", // a big table's transform runs as a task for clients of the tasks extension
  render: (d) =>
    d.declined ??
    [
      `Dataset ${d.name}: ${d.rowCount} rows (${d.source}). Columns: ${d.columns.map((c) => `${c.name} ${c.type}`).join(", ")}`,
      d.preview.length
        ? markdownTable(
            d.columns,
            d.preview.map((r) => d.columns.map((c) => (r[c.name] ?? null) as Cell)),
          )
        : "(no rows)",
    ].join("\n\n"),
  handler: async ({ source: asked, target, steps, replace }, ctx) => {
    await ctx.progress(0, 1, `transforming ${asked} into ${target}`);
    const engine = requireKind<DuckDBEngine>(ctx.deps.engine, "duckdb", "transform");
    const info = await getDataset(engine, asked, ctx);
    const source = info.name;
    await checkTarget(engine, target, replace);
    const kept = await confirmReplace(engine, ctx, {
      name: target,
      replace,
      by: `the result of transforming '${source}'`,
    });
    if (kept) return { ...kept, preview: [] };
    const ctes: string[] = [`s0 AS (SELECT * FROM ${quoteIdent(source)})`];
    const params: (string | number | boolean)[] = [];
    let columns = info.columns.map((c) => c.name);
    const withClause = () => `WITH ${ctes.join(", ")}`;
    for (const [i, step] of steps.entries()) {
      const from = `s${i}`;
      let pivotValues: (string | number | boolean)[] = [];
      if (step.op === "pivot") {
        pivotValues =
          step.values ?? (await distinctValues(engine, withClause(), params, from, step.column, columns));
      }
      const compiled = compileStep(step, from, columns, pivotValues);
      ctes.push(`s${i + 1} AS (${compiled.sql})`);
      params.push(...compiled.params);
      columns = await columnsOf(engine, `${withClause()} SELECT * FROM s${i + 1} LIMIT 0`, params);
    }
    const sql = `${withClause()} SELECT * FROM s${steps.length}`;
    try {
      await engine.run(`CREATE OR REPLACE TABLE ${quoteIdent(target)} AS ${sql}`, {
        params,
        signal: ctx.signal,
      });
    } catch (e) {
      if (e instanceof ToolshedError) throw e;
      throw new ToolshedError("invalid_input", `transform failed: ${engineMessage(e)}`);
    }
    const saved = await recordDataset(engine, {
      name: target,
      source: `transform of ${source}`,
      format: "table",
    });
    const first = await engine.run(`SELECT * FROM ${quoteIdent(target)} LIMIT 5`);
    return {
      ...saved,
      preview: first.rows.map((r) => Object.fromEntries(first.columns.map((c, j) => [c.name, r[j]]))),
    };
  },
});

async function columnsOf(
  engine: DuckDBEngine,
  sql: string,
  params: (string | number | boolean)[],
): Promise<string[]> {
  try {
    return (await engine.run(sql, { params })).columns.map((c) => c.name);
  } catch (e) {
    throw new ToolshedError("invalid_input", `transform step failed: ${engineMessage(e)}`);
  }
}

async function distinctValues(
  engine: DuckDBEngine,
  withClause: string,
  params: (string | number | boolean)[],
  from: string,
  column: string,
  columns: string[],
): Promise<(string | number | boolean)[]> {
  if (!columns.includes(column)) {
    throw new ToolshedError("invalid_input", `column '${column}' does not exist at the pivot step`);
  }
  const { rows } = await engine.run(
    `${withClause} SELECT DISTINCT ${quoteIdent(column)} FROM ${from} WHERE ${quoteIdent(column)} IS NOT NULL ORDER BY 1 LIMIT ${MAX_PIVOT_COLUMNS + 1}`,
    { params },
  );
  if (rows.length > MAX_PIVOT_COLUMNS) {
    throw new ToolshedError(
      "invalid_input",
      `pivot column '${column}' has more than ${MAX_PIVOT_COLUMNS} distinct values; pass values to choose the columns`,
    );
  }
  return rows.map((r) => {
    const v = r[0];
    return typeof v === "number" || typeof v === "boolean" ? v : asText(v);
  });
}

/** Tells subscribed clients once the dataset is written (dataset-changes.ts). */
export const transformTool = announcesDatasetWrite(transform, (input) => input.target);
