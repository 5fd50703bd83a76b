/**
 * Where a statement could use an index, read off PostgreSQL's own parse tree (libpg-query): for
 * each SELECT (subqueries and CTEs included), the tables its FROM names and the columns its WHERE,
 * JOIN conditions, GROUP BY and ORDER BY use, by how they use them. Index advice (pg-hypothetical.ts)
 * turns these into hypothetical indexes and lets the planner say which would help.
 */

/** A table a FROM names, as written (the schema when qualified). */
export interface NamedTable {
  schema?: string;
  name: string;
}

/** How a column is used: compared for equality (or IN), in a range, as a join key, or to sort or group by. */
export type ColumnUse = "equality" | "range" | "join" | "order";

/**
 * A column the statement filters, joins, groups or sorts on. `tables` are indexes into the tables
 * list: one when the reference is qualified (`o.status`), else every table of its SELECT's FROM
 * (the catalog then says which has the column).
 */
export interface ColumnRef {
  tables: number[];
  column: string;
  use: ColumnUse;
}

export interface IndexColumns {
  tables: NamedTable[];
  columns: ColumnRef[];
}

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The names of a ColumnRef's fields (`*` left out). */
function fieldNames(ref: Node): string[] {
  return list(ref.fields)
    .map((f) => (isNode(f) && isNode(f.String) ? f.String.sval : undefined))
    .filter((s): s is string => typeof s === "string");
}

/** The operator name of an A_Expr (`=`, `<`, ...). */
function operatorOf(expr: Node): string | undefined {
  const first = list(expr.name)[0];
  return isNode(first) && isNode(first.String) ? (first.String.sval as string) : undefined;
}

const RANGE_OPS = new Set(["<", "<=", ">", ">="]);

/** The columns of a statement's parse tree (`stmts[0].stmt`) where an index could serve it. */
export function indexColumns(root: unknown): IndexColumns {
  const tables: NamedTable[] = [];
  const columns: ColumnRef[] = [];
  const seen = new Set<string>();
  const add = (ref: ColumnRef) => {
    const key = `${ref.tables.join(",")}|${ref.column}|${ref.use}`;
    if (seen.has(key)) return;
    seen.add(key);
    columns.push(ref);
  };
  // Iterative over SELECTs, so a deep tree cannot overflow the stack.
  const selects: Node[] = [];
  const collectSelects = (value: unknown) => {
    const stack = [value];
    while (stack.length) {
      const v = stack.pop();
      if (Array.isArray(v)) for (const item of v as unknown[]) stack.push(item);
      else if (isNode(v)) {
        if (isNode(v.SelectStmt)) selects.push(v.SelectStmt);
        for (const child of Object.values(v)) if (typeof child === "object") stack.push(child);
      }
    }
  };
  collectSelects(root);
  for (const select of selects) {
    /** This SELECT's tables by the name a column may be qualified with (alias, else table name). */
    const scope = new Map<string, number>();
    const own: number[] = [];
    const quals: Node[] = [];
    const fromStack = [...list(select.fromClause)];
    while (fromStack.length) {
      const item = fromStack.pop();
      if (!isNode(item)) continue;
      if (isNode(item.RangeVar)) {
        const rv = item.RangeVar;
        const name = String(rv.relname);
        const index =
          tables.push({ ...(typeof rv.schemaname === "string" ? { schema: rv.schemaname } : {}), name }) - 1;
        own.push(index);
        const alias = isNode(rv.alias) ? rv.alias.aliasname : undefined;
        scope.set(typeof alias === "string" ? alias : name, index);
      } else if (isNode(item.JoinExpr)) {
        fromStack.push(item.JoinExpr.larg, item.JoinExpr.rarg);
        if (isNode(item.JoinExpr.quals)) quals.push(item.JoinExpr.quals);
      }
    }
    if (own.length === 0) continue;
    const tablesOf = (ref: Node): { tables: number[]; column: string } | undefined => {
      const names = fieldNames(ref);
      if (names.length === 0 || names.length !== list(ref.fields).length) return undefined; // `t.*`
      const column = names[names.length - 1]!;
      if (names.length === 1) return { tables: own, column };
      const table = scope.get(names[names.length - 2]!);
      return table === undefined ? undefined : { tables: [table], column };
    };
    const column = (v: unknown) => (isNode(v) && isNode(v.ColumnRef) ? tablesOf(v.ColumnRef) : undefined);
    /** The column uses in one condition (ANDs walked, ORs and subqueries left alone). */
    const condition = (value: unknown, inJoin: boolean) => {
      const stack = [value];
      while (stack.length) {
        const v = stack.pop();
        if (!isNode(v)) continue;
        if (isNode(v.BoolExpr) && v.BoolExpr.boolop === "AND_EXPR") {
          for (const arg of list(v.BoolExpr.args)) stack.push(arg);
        } else if (isNode(v.A_Expr)) {
          const expr = v.A_Expr;
          const left = column(expr.lexpr);
          const right = column(expr.rexpr);
          const op = operatorOf(expr);
          if (expr.kind === "AEXPR_OP" && op === "=" && left && right) {
            add({ ...left, use: "join" });
            add({ ...right, use: "join" });
          } else if ((expr.kind === "AEXPR_OP" && op === "=") || expr.kind === "AEXPR_IN") {
            const one = left ?? right;
            if (one) add({ ...one, use: inJoin ? "join" : "equality" });
          } else if (
            (expr.kind === "AEXPR_OP" && op !== undefined && RANGE_OPS.has(op)) ||
            expr.kind === "AEXPR_BETWEEN"
          ) {
            const one = left ?? right;
            if (one) add({ ...one, use: "range" });
          }
        } else if (isNode(v.NullTest)) {
          const one = column(v.NullTest.arg);
          if (one) add({ ...one, use: "equality" });
        }
      }
    };
    condition(select.whereClause, false);
    for (const q of quals) condition(q, true);
    for (const item of [...list(select.groupClause), ...list(select.sortClause)]) {
      const target = isNode(item) && isNode(item.SortBy) ? item.SortBy.node : item;
      const one = column(target);
      if (one) add({ ...one, use: "order" });
    }
  }
  return { tables, columns };
}
