import { ToolshedError, z } from "@toolshed/server";
import { quoteIdent } from "./engine/sql.js";

/**
 * The transform pipeline: a structured spec compiled to one SELECT of chained CTEs. Identifiers are
 * quoted and checked against the columns each step produces; values are bound parameters.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const column = z.string().min(1).max(200);

const OPERATORS = [
  "=",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "in",
  "not_in",
  "is_null",
  "not_null",
  "contains",
  "starts_with",
] as const;
const AGGREGATES = ["count", "count_distinct", "sum", "avg", "min", "max", "median", "stdev"] as const;
type Aggregate = (typeof AGGREGATES)[number];

const condition = z.object({
  column,
  op: z.enum(OPERATORS),
  value: z
    .union([scalar, z.array(scalar).max(1000)])
    .optional()
    .describe("The value to compare with (a list for in/not_in; none for is_null/not_null)."),
});

export const stepSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("filter"),
    where: z.array(condition).min(1).max(50),
    combine: z.enum(["and", "or"]).default("and"),
  }),
  z.object({ op: z.literal("select"), columns: z.array(column).min(1).max(500) }),
  z
    .object({ op: z.literal("rename"), columns: z.record(column, column) })
    .describe("columns maps old name -> new name."),
  z.object({
    op: z.literal("sort"),
    by: z
      .array(z.object({ column, direction: z.enum(["asc", "desc"]).default("asc") }))
      .min(1)
      .max(20),
  }),
  z.object({
    op: z.literal("aggregate"),
    groupBy: z.array(column).max(20).default([]),
    aggregates: z
      .array(
        z.object({
          fn: z.enum(AGGREGATES),
          column: column.optional().describe("The column to aggregate; omit for count(*)."),
          as: column.optional().describe("Output column name; '<fn>_<column>' when omitted."),
        }),
      )
      .min(1)
      .max(100),
  }),
  z.object({
    op: z.literal("pivot"),
    index: z.array(column).min(1).max(20).describe("Columns that identify a row of the result."),
    column: column.describe("The column whose values become new columns."),
    value: column.describe("The column aggregated into each new column."),
    fn: z.enum(AGGREGATES).default("sum"),
    values: z
      .array(scalar)
      .max(100)
      .optional()
      .describe("The pivot column values to turn into columns; the first 100 distinct ones when omitted."),
  }),
  z.object({
    op: z.literal("distinct"),
    columns: z
      .array(column)
      .max(500)
      .optional()
      .describe("Keep one row per value of these; all columns when omitted."),
  }),
  z.object({
    op: z.literal("drop_nulls"),
    columns: z
      .array(column)
      .max(500)
      .optional()
      .describe("Drop rows with a null in any of these; all columns when omitted."),
  }),
  z.object({ op: z.literal("limit"), rows: z.number().int().min(0).max(1_000_000_000) }),
]);
export type Step = z.output<typeof stepSchema>;

export const MAX_PIVOT_COLUMNS = 100;

export interface CompiledStep {
  sql: string;
  params: (string | number | boolean)[];
}

/** What a step needs to know: the columns of its input, and (for pivot) the values to spread. */
export function compileStep(
  step: Step,
  from: string,
  columns: string[],
  pivotValues: (string | number | boolean)[] = [],
): CompiledStep {
  const has = new Set(columns);
  const col = (name: string) => {
    if (!has.has(name)) {
      throw new ToolshedError(
        "invalid_input",
        `column '${name}' does not exist at the ${step.op} step; columns there: ${columns.join(", ")}`,
      );
    }
    return quoteIdent(name);
  };
  const params: (string | number | boolean)[] = [];
  switch (step.op) {
    case "filter": {
      const parts = step.where.map((c) => {
        const ref = col(c.column);
        const values = c.value === undefined ? [] : Array.isArray(c.value) ? c.value : [c.value];
        const one = () => {
          if (values.length !== 1) {
            throw new ToolshedError("invalid_input", `filter '${c.op}' on '${c.column}' needs one value`);
          }
          params.push(values[0]!);
          return "?";
        };
        switch (c.op) {
          case "is_null":
            return `${ref} IS NULL`;
          case "not_null":
            return `${ref} IS NOT NULL`;
          case "in":
          case "not_in": {
            if (!values.length) {
              throw new ToolshedError("invalid_input", `filter '${c.op}' on '${c.column}' needs a list`);
            }
            params.push(...values);
            return `${ref} ${c.op === "in" ? "IN" : "NOT IN"} (${values.map(() => "?").join(", ")})`;
          }
          case "contains":
            return `contains(${ref}::VARCHAR, ${one()}::VARCHAR)`;
          case "starts_with":
            return `starts_with(${ref}::VARCHAR, ${one()}::VARCHAR)`;
          default:
            return `${ref} ${c.op} ${one()}`;
        }
      });
      return {
        sql: `SELECT * FROM ${from} WHERE ${parts.join(step.combine === "or" ? " OR " : " AND ")}`,
        params,
      };
    }
    case "select":
      return { sql: `SELECT ${step.columns.map(col).join(", ")} FROM ${from}`, params };
    case "rename": {
      for (const old of Object.keys(step.columns)) col(old);
      const list = columns.map((c) => {
        const to = step.columns[c];
        return to === undefined ? quoteIdent(c) : `${quoteIdent(c)} AS ${quoteIdent(to)}`;
      });
      return { sql: `SELECT ${list.join(", ")} FROM ${from}`, params };
    }
    case "sort":
      return {
        sql: `SELECT * FROM ${from} ORDER BY ${step.by.map((b) => `${col(b.column)} ${b.direction.toUpperCase()}`).join(", ")}`,
        params,
      };
    case "aggregate": {
      const keys = step.groupBy.map(col);
      const aggs = step.aggregates.map((a) => {
        if (a.fn !== "count" && !a.column) {
          throw new ToolshedError("invalid_input", `aggregate '${a.fn}' needs a column`);
        }
        const expr = aggregateSql(a.fn, a.column === undefined ? undefined : col(a.column));
        return `${expr} AS ${quoteIdent(a.as ?? (a.column ? `${a.fn}_${a.column}` : a.fn))}`;
      });
      const group = keys.length ? ` GROUP BY ${keys.join(", ")}` : "";
      return { sql: `SELECT ${[...keys, ...aggs].join(", ")} FROM ${from}${group}`, params };
    }
    case "pivot": {
      const keys = step.index.map(col);
      const on = col(step.column);
      const value = col(step.value);
      const spread = pivotValues.slice(0, MAX_PIVOT_COLUMNS).map((v) => {
        params.push(v);
        return `${aggregateSql(step.fn, `CASE WHEN ${on} = ? THEN ${value} END`)} AS ${quoteIdent(String(v))}`;
      });
      if (!spread.length)
        throw new ToolshedError("invalid_input", `pivot column '${step.column}' has no values`);
      return {
        sql: `SELECT ${[...keys, ...spread].join(", ")} FROM ${from} GROUP BY ${keys.join(", ")}`,
        params,
      };
    }
    case "distinct": {
      if (!step.columns) return { sql: `SELECT DISTINCT * FROM ${from}`, params };
      const on = step.columns.map(col);
      return { sql: `SELECT DISTINCT ON (${on.join(", ")}) * FROM ${from}`, params };
    }
    case "drop_nulls": {
      const targets = (step.columns ?? columns).map(col);
      return {
        sql: `SELECT * FROM ${from} WHERE ${targets.map((c) => `${c} IS NOT NULL`).join(" AND ")}`,
        params,
      };
    }
    case "limit":
      params.push(step.rows);
      return { sql: `SELECT * FROM ${from} LIMIT ?`, params };
  }
}

function aggregateSql(fn: Aggregate, ref: string | undefined): string {
  switch (fn) {
    case "count":
      return ref === undefined ? "count(*)" : `count(${ref})`;
    case "count_distinct":
      return `count(DISTINCT ${ref})`;
    case "stdev":
      return `stddev_samp(${ref})`;
    default:
      return `${fn}(${ref})`;
  }
}
