import { reply, ToolshedError, z } from "@toolshed/server";
import type { TopLevelSpec } from "vega-lite";
import { CHART_APP_URI } from "../chart-app.js";
import { datasetNameSchema, getDataset } from "../datasets.js";
import { defineTool } from "../deps.js";
import { engineMessage, type Cell } from "../engine/engine.js";
import { quoteIdent } from "../engine/sql.js";
import { TaskThread } from "../task-thread.js";

/** Charts render on a worker thread, which loads vega on the first chart. */
const renderThread = new TaskThread("chart rendering");

type FieldKind = "number" | "time" | "text";

const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*|smallint|integer|bigint|real|double precision|numeric)$/;
const TEMPORAL_TYPE = /^(DATE|TIMESTAMP.*|date|timestamp|timestamptz)$/;
/** Text that Vega parses as a date: ISO 8601 days, optionally with a time. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

/**
 * What a result column holds, from its engine type, or for text, from its values: text whose every
 * value is an ISO date is time (plotted on a time axis, not an alphabetical one).
 */
function fieldKind(type: string, values: (Cell | undefined)[]): FieldKind {
  if (NUMERIC_TYPE.test(type)) return "number";
  if (TEMPORAL_TYPE.test(type)) return "time";
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length && present.every((v) => typeof v === "number")) return "number";
  if (present.length && present.every((v) => typeof v === "string" && ISO_DATE.test(v))) return "time";
  return "text";
}

export const MAX_POINTS = 5_000;
const CHART_TYPES = ["bar", "line", "scatter", "histogram"] as const;
const AGGREGATES = ["sum", "mean", "median", "min", "max", "count"] as const;

const input = z.object({
  type: z.enum(CHART_TYPES).describe("bar, line, scatter or histogram."),
  name: datasetNameSchema.optional().describe("The dataset to plot; give name or sql."),
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .optional()
    .describe("A read-only query whose result is plotted (same rules as the query tool); give name or sql."),
  x: z.string().min(1).describe("Column on the x axis (for histogram: the column to bin)."),
  y: z.string().min(1).optional().describe("Column on the y axis; bar and line count rows when omitted."),
  color: z.string().min(1).optional().describe("Column that colours marks by group."),
  aggregate: z
    .enum(AGGREGATES)
    .optional()
    .describe("For bar and line: how y values of the same x combine (sum by default for bar)."),
  bins: z.number().int().min(2).max(200).default(20).describe("Histogram bins."),
  title: z.string().max(200).optional().describe("Chart title."),
  width: z.number().int().min(100).max(2000).default(640).describe("Image width in pixels (100-2000)."),
  height: z.number().int().min(100).max(2000).default(400).describe("Image height in pixels (100-2000)."),
});

export const chartTool = defineTool({
  name: "chart",
  title: "Plot a chart",
  description: `Plots a bar, line, scatter or histogram chart of a dataset or of a read-only query's result and returns it as a PNG image plus the Vega-Lite spec (in structuredContent, with the data). At most ${MAX_POINTS} rows are plotted (the answer says when more were cut; aggregate in SQL first for big data); the image is at most 2000x2000 px. Example: { type: 'bar', name: 'sales', x: 'region', y: 'amount', aggregate: 'sum' }.`,
  input,
  output: z.object({
    type: z.enum(CHART_TYPES),
    spec: z.record(z.string(), z.unknown()).describe("The Vega-Lite spec, data included."),
    points: z.number().describe("Rows plotted."),
    truncated: z
      .boolean()
      .describe(
        `True when the data had more than ${MAX_POINTS} rows: a scatter or histogram of a dataset plots a random sample, other charts the first rows.`,
      ),
    nullsDropped: z
      .number()
      .describe("Rows left out because a plotted field was NULL (said on the image too)."),
    width: z.number(),
    height: z.number(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  timeoutMs: 120_000,
  // Clients that declare MCP Apps also get this page, which draws the spec interactively.
  ui: { resourceUri: CHART_APP_URI },
  handler: async (args, ctx) => {
    const { engine } = ctx.deps;
    if ((args.name === undefined) === (args.sql === undefined)) {
      throw new ToolshedError(
        "invalid_input",
        "give exactly one of name (a dataset) or sql (a read-only query)",
      );
    }
    if ((args.type === "scatter" && !args.y) || (args.type === "histogram" && args.y)) {
      throw new ToolshedError(
        "invalid_input",
        args.type === "scatter" ? "a scatter chart needs y" : "a histogram takes x only",
      );
    }
    const wanted = [args.x, ...(args.y ? [args.y] : []), ...(args.color ? [args.color] : [])];
    let sql: string;
    /** Rows in the dataset when a random sample of it is plotted instead of its first rows. */
    let sampledFrom: number | undefined;
    if (args.name !== undefined) {
      const info = await getDataset(engine, args.name);
      const known = new Set(info.columns.map((c) => c.name));
      for (const c of wanted) {
        if (!known.has(c)) {
          throw new ToolshedError(
            "invalid_input",
            `column '${c}' not in dataset '${args.name}'; call describe_dataset`,
          );
        }
      }
      sql = `SELECT ${wanted.map(quoteIdent).join(", ")} FROM ${engine.tableRef(args.name)}`;
      // Points and bins show a distribution: a big dataset is sampled at random, not cut at its
      // first rows (a line or bar over a sample would misstate totals and order, so those are cut).
      if (
        engine.kind === "duckdb" &&
        (args.type === "scatter" || args.type === "histogram") &&
        info.rowCount > MAX_POINTS
      ) {
        sql += ` USING SAMPLE reservoir(${MAX_POINTS} ROWS) REPEATABLE (42)`;
        sampledFrom = info.rowCount;
      }
    } else {
      await engine.checkReadOnly(args.sql!);
      sql = args.sql!;
    }
    let result;
    try {
      result = await engine.run(sql, {
        maxRows: MAX_POINTS,
        signal: ctx.signal,
        timeoutMs: ctx.config.queryTimeoutMs,
      });
    } catch (e) {
      if (e instanceof ToolshedError) throw e;
      throw new ToolshedError("invalid_input", `chart query failed: ${engineMessage(e)}`);
    }
    const index = new Map(result.columns.map((c, i) => [c.name, i]));
    for (const c of wanted) {
      if (!index.has(c)) {
        throw new ToolshedError(
          "invalid_input",
          `column '${c}' is not in the query result (${result.columns.map((k) => k.name).join(", ")})`,
        );
      }
    }
    // Fixed field names keep user column names out of Vega's field syntax (dots, brackets).
    const pick = (row: Cell[], c: string | undefined) => (c === undefined ? undefined : row[index.get(c)!]);
    const all = result.rows.map((row) => ({
      x: pick(row, args.x),
      y: pick(row, args.y),
      color: pick(row, args.color),
    }));
    const kindOf = (c: string) =>
      fieldKind(
        result.columns[index.get(c)!]!.type,
        result.rows.map((row) => row[index.get(c)!]),
      );
    const kinds = { x: kindOf(args.x), y: args.y === undefined ? undefined : kindOf(args.y) };
    checkKinds(args, kinds);
    // Rows whose plotted fields are NULL cannot be drawn: they are left out and counted, not lost silently.
    const missing = (v: Cell | undefined) => v === null;
    const values = all.filter((v) => !missing(v.x) && !missing(v.y));
    const dropped = all.length - values.length;
    const notes = [
      ...(sampledFrom !== undefined ? [`a random sample of ${MAX_POINTS} of ${sampledFrom} rows`] : []),
      ...(result.more
        ? [`first ${MAX_POINTS} rows only (more were cut; aggregate first to plot everything)`]
        : []),
      ...(dropped
        ? [
            `${dropped} row${dropped > 1 ? "s" : ""} with NULL ${args.y ? `${args.x} or ${args.y}` : args.x} not plotted`,
          ]
        : []),
    ];
    const spec = buildSpec(args, values, kinds, notes);
    let png: Buffer;
    try {
      const rendered = await renderThread.run(
        { op: "chart", spec },
        { timeoutMs: ctx.config.queryTimeoutMs, signal: ctx.signal },
      );
      png = Buffer.from(rendered.png.buffer, rendered.png.byteOffset, rendered.png.byteLength);
    } catch (e) {
      if (e instanceof ToolshedError && e.code !== "invalid_input" && e.code !== "internal") throw e;
      throw new ToolshedError("invalid_input", `could not render the chart: ${engineMessage(e)}`);
    }
    const data = {
      type: args.type,
      spec: spec as unknown as Record<string, unknown>,
      points: values.length,
      truncated: result.more || sampledFrom !== undefined,
      nullsDropped: dropped,
      width: args.width,
      height: args.height,
    };
    const note = notes.length ? ` (${notes.join("; ")})` : "";
    return reply(data, [
      {
        type: "text",
        text: `${args.type} chart of ${args.name ?? "the query"}: ${values.length} rows plotted${note}, ${args.width}x${args.height} PNG. The Vega-Lite spec is in structuredContent.spec.`,
      },
      { type: "image", data: png.toString("base64"), mimeType: "image/png" },
    ]);
  },
});

/** Refuses a mark the field types cannot make, saying which chart or cast would. */
function checkKinds(args: z.output<typeof input>, kinds: { x: FieldKind; y: FieldKind | undefined }): void {
  const refuse = (what: string) => {
    throw new ToolshedError("invalid_input", what);
  };
  if (args.type === "scatter") {
    if (kinds.x === "text") {
      refuse(
        `a scatter chart needs a numeric or date x, and '${args.x}' is text; use a bar chart for categories, or cast it in SQL (e.g. CAST(${args.x} AS DOUBLE))`,
      );
    }
    if (kinds.y !== "number") {
      refuse(
        `a scatter chart needs a numeric y, and '${args.y}' is ${kinds.y ?? "missing"}; cast it in SQL or pick a numeric column`,
      );
    }
  }
  if (args.type === "histogram" && kinds.x !== "number") {
    refuse(
      `a histogram bins numbers, and '${args.x}' is ${kinds.x}; use a bar chart to count categories (y omitted), or cast it in SQL`,
    );
  }
  if (
    (args.type === "bar" || args.type === "line") &&
    args.y &&
    kinds.y !== "number" &&
    args.aggregate !== "count"
  ) {
    refuse(
      `a ${args.type} chart sums or averages y, and '${args.y}' is ${kinds.y}; pick a numeric y, omit y to count rows, or pass aggregate: 'count'`,
    );
  }
}

function buildSpec(
  args: z.output<typeof input>,
  values: Record<string, Cell | undefined>[],
  kinds: { x: FieldKind; y: FieldKind | undefined },
  notes: string[],
): TopLevelSpec {
  let xType: "quantitative" | "temporal" | "ordinal" | "nominal";
  if (args.type === "histogram") xType = "quantitative";
  else if (kinds.x === "time") xType = args.type === "bar" ? "ordinal" : "temporal";
  else if (kinds.x === "number") xType = args.type === "bar" ? "ordinal" : "quantitative";
  else xType = args.type === "line" ? "ordinal" : "nominal";
  // A query's rows come in its own order (its ORDER BY); categories keep it instead of sorting.
  const keepOrder = args.sql !== undefined && (xType === "nominal" || xType === "ordinal");
  const title =
    args.title ?? (notes.length ? `${args.type} of ${args.y ?? "count"} by ${args.x}` : undefined);
  const base = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    // Cuts and dropped NULLs are said on the image, for whoever sees only the picture.
    ...(title ? { title: notes.length ? { text: title, subtitle: notes } : title } : {}),
    width: args.width,
    height: args.height,
    autosize: { type: "fit", contains: "padding" },
    background: "white",
    data: { values },
  } as const;
  const color = args.color ? { color: { field: "color", type: "nominal", title: args.color } } : {};
  if (args.type === "histogram") {
    return {
      ...base,
      mark: "bar",
      encoding: {
        x: { field: "x", type: "quantitative", bin: { maxbins: args.bins }, title: args.x },
        y: { aggregate: "count", type: "quantitative", title: "count" },
        ...color,
      },
    } as TopLevelSpec;
  }
  const y = args.y
    ? {
        field: "y",
        type: "quantitative",
        title: args.aggregate ? `${args.aggregate} of ${args.y}` : args.y,
        ...(args.type === "scatter"
          ? {}
          : { aggregate: args.aggregate ?? (args.type === "bar" ? "sum" : "mean") }),
      }
    : { aggregate: "count", type: "quantitative", title: "count" };
  return {
    ...base,
    mark:
      args.type === "scatter"
        ? { type: "point", filled: true }
        : args.type === "line"
          ? { type: "line", point: true }
          : "bar",
    encoding: {
      x: { field: "x", type: xType, title: args.x, ...(keepOrder ? { sort: null } : {}) },
      y,
      ...color,
    },
  } as TopLevelSpec;
}
