import { z } from "zod";

/**
 * Metadata filters. Compiled to SQL in which every key and value is a bound parameter: a JSON path
 * goes in as a text[] parameter of `#>`, a value as a jsonb parameter. No input text is ever
 * spliced into SQL.
 */
export const COMPARISONS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists"] as const;
export type Comparison = (typeof COMPARISONS)[number];

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export interface Condition {
  field: string | string[];
  op: Comparison;
  value?: unknown;
}
export type Filter = Condition | { and: Filter[] } | { or: Filter[] };

const conditionSchema = z
  .object({
    field: z
      .union([z.string().min(1).max(256), z.array(z.string().max(256)).min(1).max(16)])
      .describe(
        "Metadata key; a dotted path ('author.name') reaches into nested objects, or give the path as an array of keys (['a.b', 'c']) when a key itself has a dot.",
      ),
    op: z
      .enum(COMPARISONS)
      .describe(
        "eq/ne: equal or not (ne also matches documents without the key); gt/gte/lt/lte: numbers with numbers, strings with strings; in/nin: value is an array; exists: value true or false.",
      ),
    value: z
      .union([jsonScalar, z.array(jsonScalar).max(1000)])
      .optional()
      .describe("The value to compare with: a string, number, boolean or null; an array for in/nin."),
  })
  .strict();

export const filterSchema: z.ZodType<Filter> = z.lazy(() =>
  z.union([
    conditionSchema,
    z.object({ and: z.array(filterSchema).min(1).max(64) }).strict(),
    z.object({ or: z.array(filterSchema).min(1).max(64) }).strict(),
  ]),
);

/** Splits a dotted field into path keys; an array is taken as the path as-is. */
export function fieldPath(field: string | string[]): string[] {
  return Array.isArray(field) ? field : field.split(".");
}

export class FilterError extends Error {}

/**
 * Compiles a filter to a boolean SQL expression over `column` (a jsonb column), appending the bound
 * values to `params` and referring to them as `$n`.
 */
export function compileFilter(filter: Filter, params: unknown[], column = "metadata", depth = 0): string {
  if (depth > 8) throw new FilterError("filter nests deeper than 8 levels of and/or");
  const bind = (v: unknown, cast: string) => {
    params.push(v);
    return `$${params.length}::${cast}`;
  };
  if ("and" in filter || "or" in filter) {
    const parts = "and" in filter ? filter.and : filter.or;
    const joiner = "and" in filter ? " AND " : " OR ";
    return `(${parts.map((f) => compileFilter(f, params, column, depth + 1)).join(joiner)})`;
  }
  const { op, value } = filter;
  // PostgreSQL text and jsonb cannot hold NUL; refuse it here rather than fail in the database.
  const strings = [...fieldPath(filter.field), ...(Array.isArray(value) ? (value as unknown[]) : [value])];
  if (strings.some((s) => typeof s === "string" && s.includes("\u0000"))) {
    throw new FilterError(
      "a field or value contains a NUL character (\\u0000), which no metadata holds; remove it",
    );
  }
  const target = `(${column} #> ${bind(fieldPath(filter.field), "text[]")})`;
  const json = (v: unknown) => bind(JSON.stringify(v), "jsonb");
  switch (op) {
    case "eq":
      requireScalar(op, value);
      return `coalesce(${target} = ${json(value)}, false)`;
    case "ne":
      requireScalar(op, value);
      return `NOT coalesce(${target} = ${json(value)}, false)`;
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      if (typeof value !== "number" && typeof value !== "string") {
        throw new FilterError(`'${op}' compares with a number or a string; got ${describe(value)}`);
      }
      const sqlOp = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[op];
      // Same JSON type on both sides, so numbers order numerically and strings as text.
      const v = json(value);
      return `coalesce(jsonb_typeof(${target}) = jsonb_typeof(${v}) AND ${target} ${sqlOp} ${v}, false)`;
    }
    case "in":
    case "nin": {
      if (!Array.isArray(value))
        throw new FilterError(`'${op}' needs an array value; got ${describe(value)}`);
      const member = `coalesce(EXISTS (SELECT 1 FROM jsonb_array_elements(${json(value)}) AS e(v) WHERE e.v = ${target}), false)`;
      return op === "in" ? member : `NOT ${member}`;
    }
    case "exists": {
      if (value !== undefined && typeof value !== "boolean") {
        throw new FilterError(`'exists' takes true or false; got ${describe(value)}`);
      }
      return value === false ? `${target} IS NULL` : `${target} IS NOT NULL`;
    }
  }
}

function requireScalar(op: string, value: unknown): void {
  if (value === undefined) throw new FilterError(`'${op}' needs a value`);
  if (Array.isArray(value)) throw new FilterError(`'${op}' compares with one value; use 'in' for a list`);
}

function describe(v: unknown): string {
  return v === undefined ? "no value" : Array.isArray(v) ? "an array" : JSON.stringify(v);
}
