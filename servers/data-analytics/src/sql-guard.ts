import { ToolshedError } from "@toolshed/server";
import type { DuckDBEngine } from "./duckdb-engine.js";
import { asText, type SqlShape } from "./engine.js";

const ALLOWED_START = /^(select|with|values|from|describe|show|summarize|explain|table|\()/i;
/** Table and scalar functions that touch files, other databases, secrets or run SQL text. */
const FORBIDDEN_FUNCTION =
  /^(read_.*|.*_scan|glob|sniff_csv|parquet_.*|query|query_table|getenv|duckdb_secrets|which_secret|load_.*|install_.*|iceberg_.*|delta_.*|sqlite_.*|postgres_.*|mysql_.*|http_.*|from_csv.*|from_json.*|from_parquet|checkpoint|force_checkpoint)$/i;
const FILE_LIKE = /[/\\]|\.(csv|tsv|txt|json|ndjson|jsonl|parquet|gz|zst|db|duckdb|sqlite|xlsx)$/i;

/** Removes comments and string literals so the keyword checks see only SQL. */
export function stripSql(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""');
}

const refuse = (why: string) =>
  new ToolshedError(
    "invalid_input",
    `${why}. Only one read-only statement is allowed (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) over registered datasets; register files with register_dataset.`,
  );

/**
 * Checks that user SQL is one read-only statement over datasets, in two layers: a keyword filter on
 * the comment- and string-stripped text, then DuckDB's own parser (json_serialize_sql serializes
 * SELECT statements only) whose syntax tree is walked for file-reading functions and file paths.
 */
export async function checkReadOnly(engine: DuckDBEngine, sql: string): Promise<SqlShape> {
  const stripped = stripSql(sql).trim().replace(/;\s*$/, "");
  if (!stripped) throw refuse("empty SQL");
  if (stripped.includes(";")) throw refuse("multiple statements are not allowed");
  if (!ALLOWED_START.test(stripped)) {
    throw refuse(`'${stripped.split(/\s+/)[0]!.slice(0, 20).toUpperCase()}' statements are not allowed`);
  }
  // EXPLAIN is not serializable; check the statement it explains.
  const inner = sql
    .trim()
    .replace(/;\s*$/, "")
    .replace(/^explain(\s+analyze)?\s+/i, "");
  const { rows } = await engine.run("SELECT json_serialize_sql(?::VARCHAR)", { params: [inner] });
  const parsed = JSON.parse(asText(rows[0]?.[0] ?? "{}")) as {
    error?: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (parsed.error) {
    const message = parsed.error_message ?? "";
    if (/only select/i.test(message)) throw refuse("this statement is not read-only");
    throw new ToolshedError("invalid_input", `SQL does not parse: ${message.split("\n")[0]}`);
  }
  if ((parsed.statements?.length ?? 0) !== 1) throw refuse("multiple statements are not allowed");
  walkStatements(parsed.statements);
  // An EXPLAIN's rows are its plan, not the statement's result.
  const explained = inner !== sql.trim().replace(/;\s*$/, "");
  return explained ? {} : topLevelLimit(parsed.statements?.[0]);
}

/** The statement's own `LIMIT <integer constant>`, if any (not a percentage, not an expression). */
function topLevelLimit(statement: unknown): SqlShape {
  const node = (statement as { node?: { type?: string; modifiers?: unknown[] } } | undefined)?.node;
  if (node?.type !== "SELECT_NODE") return {};
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

function walkStatements(statements: unknown): void {
  walk(statements, (node) => {
    const fn = node.function_name;
    if (typeof fn === "string" && FORBIDDEN_FUNCTION.test(fn)) {
      throw refuse(
        `function ${fn}() is not allowed in queries (it reads files, secrets or SQL text); query registered datasets by name`,
      );
    }
    if (node.type === "BASE_TABLE") {
      const name = asText(node.table_name);
      if (FILE_LIKE.test(name)) throw refuse(`reading the file '${name}' directly is not allowed`);
      if (node.catalog_name && !/^(memory|analytics|system|temp)?$/i.test(asText(node.catalog_name))) {
        throw refuse(`catalog '${asText(node.catalog_name)}' is not available`);
      }
    }
  });
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit);
  } else if (typeof value === "object" && value !== null) {
    visit(value as Record<string, unknown>);
    for (const v of Object.values(value)) walk(v, visit);
  }
}
