import { ToolshedError } from "@toolshed/server";
import { parse, type ParseResult } from "libpg-query";
import { ALLOWED_FUNCTIONS } from "./pg-functions.js";

/**
 * Node types a read-only SELECT may contain, as PostgreSQL's raw parse tree names them. Any other
 * (a data-modifying statement in a WITH, a parameter, MERGE's helpers, ...) is refused.
 */
// prettier-ignore
const NODE_TYPES = new Set([
  "A_ArrayExpr", "A_Const", "A_Expr", "A_Indices", "A_Indirection", "A_Star", "Alias", "BitString",
  "Boolean", "BooleanTest", "BoolExpr", "CaseExpr", "CaseWhen", "CoalesceExpr", "CollateClause",
  "ColumnDef", "ColumnRef", "CommonTableExpr", "CTECycleClause", "CTESearchClause", "Float", "FuncCall",
  "GroupingFunc", "GroupingSet", "Integer", "JoinExpr", "JsonAggConstructor", "JsonArgument",
  "JsonArrayAgg", "JsonArrayConstructor", "JsonArrayQueryConstructor", "JsonBehavior", "JsonFormat",
  "JsonFuncExpr", "JsonIsPredicate", "JsonKeyValue", "JsonObjectAgg", "JsonObjectConstructor",
  "JsonOutput", "JsonParseExpr", "JsonReturning", "JsonScalarExpr", "JsonSerializeExpr", "JsonTable",
  "JsonTableColumn", "JsonTablePathSpec", "JsonValueExpr", "List", "MinMaxExpr", "NamedArgExpr",
  "NullTest", "RangeFunction", "RangeSubselect", "RangeTableFunc", "RangeTableFuncCol",
  "RangeTableSample", "RangeVar", "ResTarget", "RowExpr", "SelectStmt", "SortBy", "SQLValueFunction",
  "String", "SubLink", "TypeCast", "TypeName", "WindowDef", "WithClause", "XmlExpr", "XmlSerialize",
]);

/** Built-in sampling methods (an extension's method is a function like any other). */
const SAMPLE_METHODS = new Set(["bernoulli", "system"]);
const WRITES: Record<string, string> = {
  InsertStmt: "INSERT",
  UpdateStmt: "UPDATE",
  DeleteStmt: "DELETE",
  MergeStmt: "MERGE",
};

const WHAT_RUNS =
  "Only one SELECT (WITH, VALUES and TABLE included) runs here, calling built-in functions only; no EXPLAIN, SHOW, SET or writes.";

function refuse(why: string): ToolshedError {
  return new ToolshedError("invalid_input", `${why}. ${WHAT_RUNS}`);
}

/** `InsertStmt` → `INSERT`, `CreateTableAsStmt` → `CREATE TABLE AS`, for the refusal message. */
function statementName(kind: string): string {
  if (WRITES[kind]) return WRITES[kind];
  const named: Record<string, string> = {
    TransactionStmt: "BEGIN/COMMIT/ROLLBACK",
    CreateStmt: "CREATE TABLE",
    ViewStmt: "CREATE VIEW",
    VariableSetStmt: "SET/RESET",
    VariableShowStmt: "SHOW",
    DoStmt: "DO",
    ExecuteStmt: "EXECUTE",
    NotifyStmt: "NOTIFY",
  };
  return (
    named[kind] ??
    kind
      .replace(/Stmt$/, "")
      .replace(/([a-z])([A-Z])/g, "$1 $2")
      .toUpperCase()
  );
}

/** The dotted name of a function or operator, from the parser's list of String nodes. */
function dotted(names: unknown): string[] {
  return (names as { String?: { sval?: string } }[]).map((n) => n.String?.sval ?? "?");
}

function checkFunction(names: string[]): void {
  const name = names.at(-1)!;
  const schema = names.length > 1 ? names.slice(0, -1).join(".") : undefined;
  const shown = names.join(".");
  if (schema !== undefined && schema !== "pg_catalog") {
    throw refuse(
      `function ${shown}() is not allowed: only built-in functions may be called, unqualified or as pg_catalog.<name>`,
    );
  }
  if (!ALLOWED_FUNCTIONS.has(name)) {
    throw refuse(
      `function ${shown}() is not allowed: queries may call built-in aggregate, window, math, string, date/time, JSON, array, range and text-search functions (the list is in the server's README); compute the value another way`,
    );
  }
}

/** Checks one node whose type is `kind` (its fields are walked by the caller). */
function checkNode(kind: string, node: Record<string, unknown>): void {
  if (WRITES[kind]) throw refuse(`a data-modifying WITH (${WRITES[kind]} … RETURNING) is not allowed`);
  if (kind === "ParamRef") throw refuse("parameters ($1) are not supported; write the value into the SQL");
  if (!NODE_TYPES.has(kind)) {
    throw refuse(
      kind.endsWith("Stmt")
        ? `${statementName(kind)} is not allowed in a query`
        : `the SQL construct ${kind} is not allowed in a query`,
    );
  }
  switch (kind) {
    case "SelectStmt":
      if (node.intoClause) throw refuse("SELECT … INTO creates a table and is not allowed; drop the INTO");
      if (Array.isArray(node.lockingClause) && node.lockingClause.length) {
        throw refuse("SELECT … FOR UPDATE/SHARE locks rows and is not allowed; drop the FOR clause");
      }
      break;
    case "FuncCall":
      checkFunction(dotted(node.funcname));
      break;
    case "A_Expr": {
      const op = dotted(node.name ?? []);
      if (op.length > 1 && op[0] !== "pg_catalog") {
        throw refuse(`operator ${op.join(".")} is not allowed: only built-in operators may be used`);
      }
      break;
    }
    case "RangeTableSample": {
      const method = dotted(node.method).join(".");
      if (!SAMPLE_METHODS.has(method)) {
        throw refuse(`TABLESAMPLE ${method} is not allowed; use BERNOULLI or SYSTEM`);
      }
      break;
    }
  }
}

/** PostgreSQL's own parser (libpg_query), as the server parses it; its errors become invalid_input. */
async function parseSql(sql: string): Promise<ParseResult> {
  try {
    return await parse(sql);
  } catch (e) {
    if (e instanceof RangeError) throw refuse("the SQL is nested too deeply to check; simplify it");
    const details = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const at = details?.cursorPosition ? ` (at character ${details.cursorPosition})` : "";
    throw new ToolshedError("invalid_input", `SQL does not parse: ${(e as Error).message}${at}`);
  }
}

/**
 * The PostgreSQL guard, on PostgreSQL's own grammar: exactly one SELECT, no INTO, no row locks, no
 * data-modifying WITH, and every function, operator and sampling method a built-in on the allow-list.
 * The parser folds unquoted names and unquotes quoted ones, so `"pg_sleep"(1)` is `pg_sleep`; a
 * schema other than pg_catalog is refused. The engine then sends the statement alone over the
 * extended query protocol, in a READ ONLY transaction with timeouts, as a role checked at start-up.
 * Returns the statement's parse tree (`{ SelectStmt: … }`), for what else reads it (index advice).
 */
export async function checkPostgresSelect(sql: string): Promise<Record<string, unknown>> {
  const stmts = (await parseSql(sql)).stmts ?? [];
  if (stmts.length === 0) throw refuse("empty SQL (nothing but comments or semicolons)");
  if (stmts.length > 1) throw refuse(`send one statement at a time: this SQL holds ${stmts.length}`);
  const root = stmts[0]!.stmt as unknown as Record<string, unknown>;
  const kind = Object.keys(root)[0]!;
  if (kind !== "SelectStmt") throw refuse(`${statementName(kind)} statements are not allowed`);
  // Iterative, so a deep tree cannot overflow the stack. Keys starting upper-case are node types;
  // the rest are fields of the node above (structs of a fixed type are not wrapped in a type name).
  const stack: unknown[] = [root];
  while (stack.length) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        if (/^[A-Z]/.test(key)) checkNode(key, child as Record<string, unknown>);
        stack.push(child);
      }
    }
  }
  return root;
}
