import { ToolshedError } from "@toolshed/server";
import type { DatasetInfo } from "../datasets.js";

export type Cell = string | number | boolean | null | Cell[] | { [key: string]: Cell };
export type Param = string | number | boolean | null;

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Cell[][];
  /** True when reading stopped at the row limit before the result ended. */
  more: boolean;
}

export interface RunOptions {
  /** Values for the `?` placeholders, in order. */
  params?: Param[];
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Stop reading after this many rows (the result may hold more). */
  maxRows?: number;
}

/** What the guard's parse of user SQL tells about its result. */
export interface SqlShape {
  /**
   * The most rows the statement yields, when its parse says: its own top-level `LIMIT n` (a
   * constant), or 1 for a SELECT without FROM that calls no set-returning function.
   */
  rowLimit?: number;
}

/** The few SQL spellings that differ between engines. */
export interface Dialect {
  double(expr: string): string;
  median(expr: string): string;
  quantile(expr: string, q: number): string;
  /** An expression usable in min/max/count(DISTINCT) for a column of this type. */
  comparable(expr: string, type: string): string;
}

/**
 * What the tools run on: embedded DuckDB (datasets are tables it owns) or an existing PostgreSQL
 * database (datasets are its tables and views, read-only). SQL from the tools uses `?` placeholders.
 */
export interface Engine {
  readonly kind: "duckdb" | "postgres";
  readonly dialect: Dialect;
  /** Runs one statement; on PostgreSQL always inside a READ ONLY transaction. */
  run(sql: string, options?: RunOptions): Promise<QueryResult>;
  /** Refuses user SQL that is not one read-only statement over datasets; tells what it learned. */
  checkReadOnly(sql: string): Promise<SqlShape>;
  /**
   * Checks user SQL (as checkReadOnly) and runs it, reading at most `maxRows` rows (a statement
   * whose own LIMIT fits runs materialized).
   */
  query(sql: string, options: RunOptions & { maxRows: number }): Promise<QueryResult>;
  /** The SQL reference to a dataset's table. */
  tableRef(name: string): string;
  listDatasets(): Promise<DatasetInfo[]>;
  findDataset(name: string): Promise<DatasetInfo | undefined>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Narrows to the DuckDB engine for tools that create or write datasets. */
export function requireKind<E extends Engine>(engine: Engine, kind: E["kind"], tool: string): E {
  if (engine.kind !== kind) {
    throw new ToolshedError(
      "invalid_input",
      `${tool} is not available on the ${engine.kind} engine (it is read-only here); use query, describe_dataset, analyze, correlate or chart`,
    );
  }
  return engine as E;
}

export { toNumber } from "../cells.js";

/**
 * DuckDB's lines that tell the caller what to do next: its suggestions for a misspelt name, the
 * columns in scope, the CSV reader's possible solutions and fixes, and the line of a CSV error.
 */
const GUIDANCE =
  /^(Did you mean|Candidate bindings|Possible Solution|Possible fixes|\* |HINT|Original Line|Invalid unicode|Expected Number of Columns|Could not convert|Error when converting|Column .* is being converted|This file is not)/;

/**
 * The engine's error text for a model to read: the first line, then the engine's own guidance
 * (DuckDB's "Did you mean", "Candidate bindings", "Possible Solution" lines; PostgreSQL's HINT and
 * DETAIL), without the echoed statement, caret or reader settings dump.
 */
export function engineMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const [first = "", ...rest] = text.split("\n");
  const lines = [first.slice(0, 500)];
  for (const line of rest) {
    const trimmed = line.trim();
    if (GUIDANCE.test(trimmed) && !lines.includes(trimmed)) lines.push(trimmed.slice(0, 300));
  }
  if (e && typeof e === "object") {
    const { detail, hint } = e as { detail?: unknown; hint?: unknown };
    if (typeof detail === "string" && detail) lines.push(`DETAIL: ${detail.slice(0, 300)}`);
    if (typeof hint === "string" && hint) lines.push(`HINT: ${hint.slice(0, 300)}`);
  }
  return lines.join("\n").slice(0, 2000);
}

/** A cell or syntax-tree value as text: strings as they are, anything else as JSON. */
export function asText(v: unknown): string {
  return typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v);
}
