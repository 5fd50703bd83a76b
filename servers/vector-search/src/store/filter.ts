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
  z.union(
    [
      conditionSchema,
      z.object({ and: z.array(filterSchema).min(1).max(64) }).strict(),
      z.object({ or: z.array(filterSchema).min(1).max(64) }).strict(),
    ],
    // zod says only "Invalid input" when no branch of a union fits: say what is wrong, and where.
    { error: (issue) => filterShapeProblem(issue.input) ?? "not a filter; " + FILTER_SHAPES },
  ),
);

const FILTER_SHAPES =
  "a filter is { field, op, value }, { and: [filters] } or { or: [filters] }, e.g. { field: 'year', op: 'gte', value: 2020 }";
const MAX_LIST = 64;
const MAX_VALUES = 1000;

/**
 * The first thing wrong with a filter's shape, with where it is (`and[1].op`), or undefined. What
 * compileFilter checks (a value that suits its op, nesting depth) is left to it.
 */
export function filterShapeProblem(f: unknown, at = ""): string | undefined {
  const where = at ? `${at}: ` : "";
  if (typeof f !== "object" || f === null || Array.isArray(f)) {
    return `${where}got ${kindOf(f)}; ${FILTER_SHAPES}`;
  }
  const node = f as Record<string, unknown>;
  const keys = Object.keys(node);
  const list = "and" in node ? "and" : "or" in node ? "or" : undefined;
  if (list) {
    const others = keys.filter((k) => k !== list);
    if (others.length > 0) {
      return `${where}'${list}' cannot stand beside ${others.map((k) => `'${k}'`).join(", ")}; put every condition inside its list, e.g. { ${list}: [{ field: 'a', op: 'eq', value: 1 }, { field: 'b', op: 'exists', value: true }] }`;
    }
    const items = node[list];
    if (!Array.isArray(items) || items.length === 0) {
      return `${where}'${list}' takes a non-empty array of filters; got ${kindOf(items)}`;
    }
    if (items.length > MAX_LIST) {
      return `${where}'${list}' holds at most ${MAX_LIST} filters; got ${items.length} (for many values of one field use op 'in')`;
    }
    for (let i = 0; i < items.length; i++) {
      const problem = filterShapeProblem(items[i], `${at}${at ? "." : ""}${list}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  const unknown = keys.filter((k) => k !== "field" && k !== "op" && k !== "value");
  if (unknown.length > 0) {
    return `${where}unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")}; a condition has only field, op and value (combine conditions with and/or)`;
  }
  const { field, op, value } = node;
  if (field === undefined)
    return `${where}'field' is missing: the metadata key to test, e.g. 'year' or 'author.name'`;
  const fieldOk =
    (typeof field === "string" && field.length >= 1 && field.length <= 256) ||
    (Array.isArray(field) &&
      field.length >= 1 &&
      field.length <= 16 &&
      field.every((k) => typeof k === "string" && k.length <= 256));
  if (!fieldOk) {
    return `${where}'field' must be a metadata key (1-256 characters, dots reach into objects) or an array of 1-16 keys; got ${kindOf(field)}`;
  }
  if (op === undefined) return `${where}'op' is missing: one of ${COMPARISONS.join(", ")}`;
  if (typeof op !== "string" || !(COMPARISONS as readonly string[]).includes(op)) {
    return `${where}op ${JSON.stringify(op)} is not one of ${COMPARISONS.join(", ")}`;
  }
  const scalar = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);
  if (value !== undefined && !scalar(value)) {
    if (!Array.isArray(value)) {
      return `${where}'value' must be a string, number, boolean or null (an array of them for in/nin); got ${kindOf(value)}: metadata filters compare top-level values, reach nested ones with a dotted field`;
    }
    if (value.length > MAX_VALUES)
      return `${where}'value' lists at most ${MAX_VALUES} values; got ${value.length}`;
    if (!value.every(scalar)) {
      return `${where}'value' lists strings, numbers, booleans or null only; one is ${kindOf(value.find((v) => !scalar(v)))}`;
    }
  }
  return undefined;
}

function kindOf(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`.slice(0, 80);
}

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
