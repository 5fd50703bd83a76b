/**
 * The DuckDB SQL guard's checks, free of the server (no kit imports) so that the engine host can
 * run them on the same connection, just before the statement (one round trip: parse once, check,
 * run) while the server keeps its own copy for callers that check without running.
 */
import { EXPRESSION_FUNCTIONS, TABLE_FUNCTIONS } from "./allowed-functions.js";
import { jsonDepthExceeds } from "../json-depth.js";
import { DATASET_NAME } from "./sql.js";

/** A refusal of user SQL: its message says what is allowed. */
export class GuardRefusal extends Error {
  readonly code = "invalid_input";
}

/** What the guard's parse tells about a statement's result. */
export interface ParsedShape {
  /**
   * The most rows the statement yields, when its parse says: its own top-level `LIMIT n` (a
   * constant), or 1 for a SELECT without FROM that calls no set-returning function.
   */
  rowLimit?: number;
}

const asText = (v: unknown): string =>
  typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v);

const ALLOWED_START = /^(select|with|values|from|describe|show|summarize|explain|table|pivot|unpivot|\()/i;
/** Schemas a query may name: the datasets' own, and the standard catalog views (names, no paths). */
const ALLOWED_SCHEMA = /^(main|information_schema)?$/i;
/** The catalogs a query may name: the database file's ("analytics"), or none. */
const ALLOWED_CATALOG = /^(analytics)?$/i;
/** Deeper than this, DuckDB's syntax tree is refused rather than walked. */
const MAX_TREE_DEPTH = 4096;

/** Removes comments and string literals so the keyword checks see only SQL. */
export function stripSql(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""');
}

const refuse = (why: string) =>
  new GuardRefusal(
    `${why}. Only one read-only statement is allowed (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) over registered datasets; register files with register_dataset.`,
  );

/** What to parse for a statement that passed the keyword filter: itself, or the one it EXPLAINs. */
export interface Prefiltered {
  inner: string;
  /** An EXPLAIN: its rows are its plan, not the statement's result. */
  explained: boolean;
}

/**
 * The first layer: a keyword filter on the comment- and string-stripped text (one statement,
 * starting with a read-only keyword). Throws GuardRefusal.
 */
export function prefilter(sql: string): Prefiltered {
  const stripped = stripSql(sql).trim().replace(/;\s*$/, "");
  if (!stripped) throw refuse("empty SQL");
  if (stripped.includes(";")) throw refuse("multiple statements are not allowed");
  if (!ALLOWED_START.test(stripped)) {
    throw refuse(`'${stripped.split(/\s+/)[0]!.slice(0, 20).toUpperCase()}' statements are not allowed`);
  }
  // EXPLAIN is not serializable; check the statement it explains.
  const whole = sql.trim().replace(/;\s*$/, "");
  const inner = whole.replace(/^explain(\s+analyze)?\s+/i, "");
  return { inner, explained: inner !== whole };
}

/** The SQL that parses a prefiltered statement: DuckDB's parser, serializing SELECT statements only. */
export const PARSE_SQL = "SELECT json_serialize_sql(?::VARCHAR)";

/**
 * The second layer, on DuckDB's own parse (json_serialize_sql's JSON): one SELECT-like statement
 * whose syntax tree calls only allow-listed functions and names only datasets. Throws GuardRefusal.
 */
export function checkParsed(
  tree: string,
  internalViews: ReadonlySet<string>,
  explained: boolean,
  sql = "",
): ParsedShape {
  if (jsonDepthExceeds(tree, MAX_TREE_DEPTH)) throw refuse("the statement is nested too deeply");
  const parsed = JSON.parse(tree) as {
    error?: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (parsed.error) {
    const message = parsed.error_message ?? "";
    if (/only select/i.test(message) && /\bpivot\b/i.test(stripSql(sql))) {
      // Without its values listed, DuckDB runs a PIVOT as several statements (one finds the values).
      throw new GuardRefusal(
        "a PIVOT runs here with its values listed: PIVOT t ON col IN ('a', 'b') USING sum(x) GROUP BY y (or FROM t PIVOT (sum(x) FOR col IN ('a', 'b') GROUP BY y)); find the values with SELECT DISTINCT col FROM t",
      );
    }
    if (/only select/i.test(message)) throw refuse("this statement is not read-only");
    throw new GuardRefusal(`SQL does not parse: ${message.split("\n")[0]}`);
  }
  if ((parsed.statements?.length ?? 0) !== 1) throw refuse("multiple statements are not allowed");
  checkTree(parsed.statements, internalViews);
  return explained ? {} : topLevelLimit(parsed.statements?.[0]);
}

/**
 * Functions that make a SELECT without FROM yield more than one row: DuckDB's set-returning unnest
 * (and its alias) and the built-in macros that expand to it in the select list.
 */
export const SET_RETURNING = new Set(["unnest", "unlist", "generate_subscripts", "regexp_split_to_table"]);

/**
 * The statement's own `LIMIT <integer constant>`, if any (not a percentage, not an expression), or
 * 1 for a SELECT without FROM that calls no set-returning function (`SELECT 1`, `SELECT now()`):
 * it yields one row at most.
 */
function topLevelLimit(statement: unknown): ParsedShape {
  const node = (
    statement as
      { node?: { type?: string; modifiers?: unknown[]; from_table?: { type?: unknown } } } | undefined
  )?.node;
  if (node?.type !== "SELECT_NODE") return {};
  if (node.from_table?.type === "EMPTY" && !callsSetReturning(node)) return { rowLimit: 1 };
  for (const m of node.modifiers ?? []) {
    const mod = m as {
      type?: string;
      limit?: { class?: string; value?: { is_null?: boolean; value?: unknown } };
    };
    if (mod.type !== "LIMIT_MODIFIER" || mod.limit?.class !== "CONSTANT" || mod.limit.value?.is_null)
      continue;
    const n = Number(mod.limit.value?.value);
    if (Number.isSafeInteger(n) && n >= 0) return { rowLimit: n };
  }
  return {};
}

/** Whether any function in the tree is set-returning (its name, case aside, in SET_RETURNING). */
function callsSetReturning(tree: unknown): boolean {
  let found = false;
  walk(tree, (node) => {
    const fn =
      node.function_name ?? (node.function as { function_name?: unknown } | undefined)?.function_name;
    if (typeof fn === "string" && SET_RETURNING.has(fn.toLowerCase())) found = true;
    return !found;
  });
  return found;
}

/**
 * Walks DuckDB's syntax tree: every function called (in expressions, FROM, window clauses, macros)
 * must be on the allow-list, and every table named must be a dataset, a CTE of the statement or a
 * standard catalog view; never a file, another catalog, or DuckDB's internal views (settings, logs,
 * databases with their paths).
 */
function checkTree(statements: unknown, internalViews: ReadonlySet<string>): void {
  const ctes = new Set<string>();
  walk(statements, (node) => {
    const map = (node.cte_map as { map?: { key?: unknown }[] } | undefined)?.map;
    for (const entry of map ?? []) ctes.add(asText(entry.key).toLowerCase());
    return true;
  });
  const visit = (node: Record<string, unknown>): boolean => {
    if (node.type === "TABLE_FUNCTION") {
      const fn = node.function as { function_name?: unknown; children?: unknown } | undefined;
      const name = asText(fn?.function_name);
      if (!TABLE_FUNCTIONS.has(name.toLowerCase())) {
        throw refuse(
          `table function ${name}() is not allowed in queries (allowed: ${[...TABLE_FUNCTIONS].join(", ")}); query registered datasets by name`,
        );
      }
      // The arguments are expressions like any other; the call itself was checked here.
      walk(fn?.children, visit);
      for (const [key, value] of Object.entries(node)) if (key !== "function") walk(value, visit);
      return false;
    }
    if (node.type === "BASE_TABLE") checkTable(node, ctes, internalViews);
    if (node.type === "SHOW_REF" && node.show_type === "SHOW_UNQUALIFIED") {
      const name = asText(node.table_name).replace(/^"|"$/g, "");
      if (name.toLowerCase() !== "tables") checkTable({ table_name: name }, ctes, internalViews);
    }
    return visitExpression(node);
  };
  walk(statements, visit);
}

function visitExpression(node: Record<string, unknown>): boolean {
  const fn = node.function_name;
  if (typeof fn === "string" && !EXPRESSION_FUNCTIONS.has(fn.toLowerCase())) {
    throw refuse(
      `function ${fn}() is not allowed in queries (it reads files, settings, logs or SQL text, or is not on the list of analytics functions); query registered datasets by name`,
    );
  }
  return true;
}

function checkTable(node: Record<string, unknown>, ctes: ReadonlySet<string>, internal: ReadonlySet<string>) {
  const name = asText(node.table_name);
  const schema = asText(node.schema_name);
  const catalog = asText(node.catalog_name);
  if (!schema && !catalog && ctes.has(name.toLowerCase())) return;
  if (!ALLOWED_CATALOG.test(catalog)) throw refuse(`catalog '${catalog}' is not available`);
  if (!ALLOWED_SCHEMA.test(schema)) throw refuse(`schema '${schema}' is not available`);
  if (!DATASET_NAME.test(name))
    throw refuse(`reading '${name}' directly is not allowed (not a dataset name)`);
  if (/^information_schema$/i.test(schema)) return;
  // An unqualified name is looked up in main, then DuckDB's own schemas (pg_catalog's pg_settings
  // shows settings and paths), so the name of any internal view is refused.
  const isInternal = internal.has(name.toLowerCase());
  if (isInternal) throw refuse(`'${name}' is not a dataset (it is one of DuckDB's internal views)`);
}

/** Visits every object in the tree; `visit` returns false to skip a node's children. */
function walk(value: unknown, visit: (node: Record<string, unknown>) => boolean): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit);
  } else if (typeof value === "object" && value !== null) {
    if (!visit(value as Record<string, unknown>)) return;
    for (const v of Object.values(value)) walk(v, visit);
  }
}
