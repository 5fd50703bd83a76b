import { ToolshedError } from "@toolshed/server";
import type { DuckDBEngine } from "./duckdb-engine.js";
import { checkParsed, GuardRefusal, PARSE_SQL, prefilter } from "./duckdb-tree-check.js";
import { asText, type SqlShape } from "./engine.js";

export { stripSql } from "./duckdb-tree-check.js";

/** A guard refusal as the error the caller sees. */
export function asToolshedError(e: unknown): unknown {
  return e instanceof GuardRefusal ? new ToolshedError("invalid_input", e.message) : e;
}

/**
 * Checks that user SQL is one read-only statement over datasets, in two layers: a keyword filter on
 * the comment- and string-stripped text, then DuckDB's own parser (json_serialize_sql serializes
 * SELECT statements only) whose syntax tree is checked against allow-lists of functions and tables
 * (duckdb-tree-check.ts). The query tool does the same in one round trip (DuckDBEngine.query).
 */
export async function checkReadOnly(engine: DuckDBEngine, sql: string): Promise<SqlShape> {
  try {
    const { inner, explained } = prefilter(sql);
    const { rows } = await engine.run(PARSE_SQL, { params: [inner] });
    return checkParsed(asText(rows[0]?.[0] ?? "{}"), engine.internalViewNames, explained, inner);
  } catch (e) {
    throw asToolshedError(e);
  }
}
