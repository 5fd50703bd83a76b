import { ToolshedError } from "@toolshed/server";
import type { RunOptions } from "./engine.js";
import type { IndexColumns } from "./pg-index-candidates.js";
import type { PostgresEngine, SessionStatement } from "./postgres-engine.js";

/** Access methods HypoPG can simulate (1.3 refuses gist and gin, saying so). */
export const HYPOTHETICAL_METHODS = ["btree", "hash", "brin", "gist", "gin"] as const;

/** Comparisons a partial index's predicate may make; the value is always a quoted literal (%L). */
export const PREDICATE_OPS = ["=", "<>", "<", "<=", ">", ">=", "IS NULL", "IS NOT NULL"] as const;
const OPS: ReadonlySet<string> = new Set(PREDICATE_OPS);

/** One `column op value` of a partial index's WHERE (the conditions are ANDed). */
export interface PredicateTerm {
  column: string;
  op: (typeof PREDICATE_OPS)[number];
  /** The literal to compare with; none for IS NULL / IS NOT NULL. */
  value?: string | number | boolean;
}

/** A hypothetical index, described by names only: the caller never writes SQL for it. */
export interface HypotheticalIndex {
  /** A table of the allowed schemas: `name` (found on the search path) or `schema.name`. */
  table: string;
  columns: string[];
  method?: (typeof HYPOTHETICAL_METHODS)[number];
  /** Extra columns stored in the index's leaf entries (btree INCLUDE), for index-only scans. */
  include?: string[];
  /** A partial index: only rows meeting every term. */
  where?: PredicateTerm[];
}

export interface PlanAndCost {
  plan: string;
  /** The planner's estimated total cost of the whole statement (the top node's). */
  totalCost: number;
}

export interface HypotheticalExplain {
  without: PlanAndCost;
  with: PlanAndCost;
  indexes: {
    /** HypoPG's own CREATE INDEX text for it: what an administrator would run to build it for real. */
    definition: string;
    /** Its name in the plan, e.g. `<13556>btree_sales_region`. */
    name: string;
    /** HypoPG's estimate of the index's size on disk. */
    estimatedBytes: number;
    /** Whether the plan with the hypothetical indexes scans this one. */
    used: boolean;
  }[];
}

/**
 * The CREATE INDEX text, built by PostgreSQL's own format('%I'): the table, columns and method arrive
 * as values, and each comes out as one quoted identifier whatever it holds. An unqualified table is
 * resolved on the session's search path (the allowed schemas), as the explained statement's names are.
 */
const CREATE_SQL = (hypopg: string) => `
WITH def AS (
  SELECT format('CREATE INDEX ON %s USING %I (%s)%s',
    CASE WHEN $1::text IS NULL THEN format('%I', $2::text) ELSE format('%I.%I', $1::text, $2::text) END,
    $3::text,
    (SELECT string_agg(format('%I', c), ', ' ORDER BY n) FROM unnest($4::text[]) WITH ORDINALITY AS u(c, n)),
    CASE WHEN cardinality($5::text[]) > 0 THEN format(' INCLUDE (%s)',
      (SELECT string_agg(format('%I', c), ', ' ORDER BY n) FROM unnest($5::text[]) WITH ORDINALITY AS u(c, n)))
    ELSE '' END)
  || CASE WHEN cardinality($6::text[]) > 0 THEN ' WHERE ' || (
      SELECT string_agg(CASE WHEN o LIKE 'IS %' THEN format('%I %s', c, o) ELSE format('%I %s %L', c, o, v) END, ' AND ' ORDER BY n)
      FROM unnest($6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS w(c, o, v, n))
    ELSE '' END AS sql
)
SELECT h.indexname, ${hypopg}.hypopg_get_indexdef(h.indexrelid), ${hypopg}.hypopg_relation_size(h.indexrelid)::float8
FROM def, ${hypopg}.hypopg_create_index(def.sql) AS h`;

/**
 * EXPLAIN of a checked read-only statement without and with hypothetical indexes, by HypoPG: all in
 * one READ ONLY transaction on one connection, since HypoPG keeps its indexes in the backend's memory
 * (they are not catalog rows, so the read-only transaction does not stop them, and neither does a
 * ROLLBACK undo them). hypopg_reset() clears them before the transaction ends; if anything failed,
 * the connection is closed instead of going back to the pool, so none can reach the next caller.
 * Never EXPLAIN ANALYZE: a hypothetical index exists for the planner only.
 */
export async function explainHypothetical(
  engine: PostgresEngine,
  sql: string,
  indexes: HypotheticalIndex[],
  options: Pick<RunOptions, "signal" | "timeoutMs">,
): Promise<HypotheticalExplain> {
  const tables = indexes.map((index) => splitTable(index.table, engine.schemas));
  return engine.session({ ...options, discardAfterError: true }, async (statement) => {
    const hypopg = await hypopgSchema(statement);
    await statement(`SELECT ${hypopg}.hypopg_reset()`);
    const without = await explain(statement, sql);
    const created = await createAll(statement, hypopg, indexes, tables);
    const withThem = await explain(statement, sql);
    await statement(`SELECT ${hypopg}.hypopg_reset()`);
    return {
      without: { plan: without.plan, totalCost: without.totalCost },
      with: { plan: withThem.plan, totalCost: withThem.totalCost },
      indexes: created.map((c) => ({ ...c, used: withThem.indexNames.has(c.name) })),
    };
  });
}

/** Creates the hypothetical indexes, in order, on tables already split (splitTable). */
async function createAll(
  statement: SessionStatement,
  hypopg: string,
  indexes: HypotheticalIndex[],
  tables: [string | null, string][],
): Promise<{ name: string; definition: string; estimatedBytes: number }[]> {
  const created: { name: string; definition: string; estimatedBytes: number }[] = [];
  for (const [i, index] of indexes.entries()) {
    const [schema, table] = tables[i]!;
    const { rows } = await statement(CREATE_SQL(hypopg), [
      schema,
      table,
      index.method ?? "btree",
      index.columns,
      index.include ?? [],
      ...predicate(index.where ?? [], i),
    ]);
    const [name, definition, bytes] = rows[0] ?? [];
    if (typeof name !== "string") throw new Error(`HypoPG did not create hypothetical index ${i + 1}`);
    created.push({ name, definition: String(definition), estimatedBytes: Number(bytes) });
  }
  return created;
}

/** The most candidate indexes advice tries one by one, and the most it recommends together. */
export const MAX_CANDIDATES = 16;
export const MAX_ADVISED = 3;
/** An index is advised only when it lowers the planner's estimated cost by at least this share. */
export const ADVICE_GAIN = 0.1;

/** Index advice: the explain comparison for the indexes chosen, and how many candidates were tried. */
export interface IndexAdvice extends HypotheticalExplain {
  tried: number;
}

/**
 * Index advice on HypoPG: candidate btree indexes from the columns the statement filters, joins,
 * groups and sorts on (read off PostgreSQL's parse tree, pg-index-candidates.ts; one per column,
 * and per table its equality columns followed by one range or sort column), each tried alone as a
 * hypothetical index; the one the planner likes best is kept, and others are added while each
 * lowers the estimate by ADVICE_GAIN more beside those kept, up to MAX_ADVISED. A candidate HypoPG
 * refuses (a column of a type btree cannot index, such as json) is skipped. Only tables (and materialized views)
 * of the allowed schemas are considered. Nothing is built: the plans are the planner's estimates.
 */
export async function adviseIndexes(
  engine: PostgresEngine,
  sql: string,
  found: IndexColumns,
  options: Pick<RunOptions, "signal" | "timeoutMs">,
): Promise<IndexAdvice> {
  return engine.session({ ...options, discardAfterError: true }, async (statement) => {
    const hypopg = await hypopgSchema(statement);
    await statement(`SELECT ${hypopg}.hypopg_reset()`);
    const candidates = await candidateIndexes(statement, engine.schemas, found);
    const without = await explain(statement, sql);
    /** The plan with `indexes`; undefined when HypoPG refuses one (a type without a btree operator class). */
    const costWith = async (indexes: Candidate[]) => {
      await statement("SAVEPOINT toolshed_candidate");
      let created: Awaited<ReturnType<typeof createAll>>;
      try {
        created = await createAll(
          statement,
          hypopg,
          indexes,
          indexes.map((i) => i.at),
        );
      } catch (e) {
        if ((e as { code?: string }).code === "57014") throw e; // the time limit, or a cancel
        await statement("ROLLBACK TO SAVEPOINT toolshed_candidate");
        await statement(`SELECT ${hypopg}.hypopg_reset()`);
        return undefined;
      }
      const plan = await explain(statement, sql);
      await statement(`SELECT ${hypopg}.hypopg_reset()`);
      return { plan, created, used: created.every((c) => plan.indexNames.has(c.name)) };
    };
    // Each alone first; the best one the planner uses and that lowers the estimate is kept. Then
    // the others, best first, each kept when it lowers the estimate again beside those kept (an
    // index may pay only beside another: a join's inner side once its outer side is cheap).
    const alone: { index: Candidate; cost: number; used: boolean }[] = [];
    for (const index of candidates) {
      const tried = await costWith([index]);
      if (tried) alone.push({ index, cost: tried.plan.totalCost, used: tried.used });
    }
    alone.sort((a, b) => a.cost - b.cost);
    const first = alone.find((a) => a.used);
    const chosen: Candidate[] = [];
    let cost = without.totalCost;
    if (first && first.cost <= cost * (1 - ADVICE_GAIN)) {
      chosen.push(first.index);
      cost = first.cost;
      for (const next of alone) {
        if (chosen.length >= MAX_ADVISED) break;
        if (next === first) continue;
        const tried = await costWith([...chosen, next.index]);
        if (tried?.used && tried.plan.totalCost <= cost * (1 - ADVICE_GAIN)) {
          chosen.push(next.index);
          cost = tried.plan.totalCost;
        }
      }
    }
    const final = (chosen.length ? await costWith(chosen) : undefined) ?? { plan: without, created: [] };
    return {
      without: { plan: without.plan, totalCost: without.totalCost },
      with: { plan: final.plan.plan, totalCost: final.plan.totalCost },
      indexes: final.created.map((c) => ({ ...c, used: final.plan.indexNames.has(c.name) })),
      tried: candidates.length,
    };
  });
}

/** A candidate index, with its table's schema and name as found in the catalog. */
type Candidate = HypotheticalIndex & { at: [string, string] };

/**
 * The candidate indexes of `found`, on the real tables it names: each table looked up on the
 * session's search path (or in its schema) with its columns, so an unqualified column goes to the
 * one table of its SELECT that has it, and CTE names, views and functions drop out.
 */
async function candidateIndexes(
  statement: SessionStatement,
  schemas: string[],
  found: IndexColumns,
): Promise<Candidate[]> {
  // One query for every table named: its schema, name and columns, when it is a table or a
  // materialized view (to_regclass finds an unqualified name on the session's search path).
  const { rows } = await statement(
    `SELECT w.i::int, n.nspname::text, c.relname::text,
            array(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(s, t, i)
     JOIN pg_class c ON c.oid = to_regclass(CASE WHEN w.s IS NULL THEN format('%I', w.t) ELSE format('%I.%I', w.s, w.t) END)
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'm')`,
    [found.tables.map((t) => t.schema ?? null), found.tables.map((t) => t.name)],
  );
  const real: ({ table: string; at: [string, string]; columns: Set<string> } | undefined)[] = [];
  for (const [i, schema, name, columns] of rows) {
    if (typeof schema !== "string" || !schemas.includes(schema)) continue;
    real[Number(i) - 1] = {
      table: `${schema}.${String(name)}`,
      at: [schema, String(name)],
      columns: new Set(columns as string[]),
    };
  }
  /** Per table, where it is and its columns by use, in the order the statement uses them. */
  const byTable = new Map<string, { at: [string, string]; uses: Map<string, Set<string>> }>();
  for (const ref of found.columns) {
    const owners = ref.tables.map((i) => real[i]).filter((t) => t?.columns.has(ref.column));
    if (owners.length !== 1) continue;
    const owner = owners[0]!;
    const entry = byTable.get(owner.table) ?? { at: owner.at, uses: new Map<string, Set<string>>() };
    byTable.set(owner.table, entry);
    const uses = entry.uses;
    const columns = uses.get(ref.use) ?? new Set<string>();
    uses.set(ref.use, columns);
    columns.add(ref.column);
  }
  const candidates: Candidate[] = [];
  const keys = new Set<string>();
  const add = (table: string, at: [string, string], columns: string[]) => {
    const key = `${table}(${columns.join(",")})`;
    if (keys.has(key) || candidates.length >= MAX_CANDIDATES) return;
    keys.add(key);
    candidates.push({ table, at, columns });
  };
  for (const [table, { at, uses }] of byTable) {
    const equality = [...(uses.get("equality") ?? [])];
    const then = [...(uses.get("range") ?? []), ...(uses.get("order") ?? [])].filter(
      (c) => !equality.includes(c),
    );
    if (equality.length && then.length) add(table, at, [...equality.slice(0, 2), then[0]!]);
    if (equality.length > 1) add(table, at, equality.slice(0, 3));
    for (const columns of uses.values()) for (const column of columns) add(table, at, [column]);
  }
  return candidates;
}

/** A partial index's terms as three parallel arrays (column, operator, literal) for CREATE_SQL. */
function predicate(terms: PredicateTerm[], i: number): [string[], string[], (string | null)[]] {
  for (const t of terms) {
    const unary = t.op === "IS NULL" || t.op === "IS NOT NULL";
    if (!OPS.has(t.op)) {
      throw new ToolshedError("invalid_input", `hypothetical index ${i + 1}: unknown operator ${t.op}`);
    }
    if (!unary && t.value === undefined) {
      throw new ToolshedError(
        "invalid_input",
        `hypothetical index ${i + 1}: where ${t.column} ${t.op} needs a value (or use IS NULL / IS NOT NULL)`,
      );
    }
  }
  return [
    terms.map((t) => t.column),
    terms.map((t) => t.op),
    terms.map((t) => (t.value === undefined ? null : String(t.value))),
  ];
}

/** `schema.table` or `table`; a schema outside the allowed ones is refused (null: the search path). */
function splitTable(name: string, schemas: string[]): [string | null, string] {
  const dot = name.indexOf(".");
  if (dot < 0) return [null, name];
  const schema = name.slice(0, dot);
  if (!schemas.includes(schema)) {
    throw new ToolshedError(
      "invalid_input",
      `hypothetical index on ${name}: schema "${schema}" is not one this server reads (${schemas.join(", ")}); call list_datasets`,
    );
  }
  return [schema, name.slice(dot + 1)];
}

/** The quoted schema HypoPG is installed in, or an error saying how to enable it. */
async function hypopgSchema(statement: SessionStatement): Promise<string> {
  const { rows } = await statement(
    `SELECT quote_ident(n.nspname), has_schema_privilege(n.oid, 'USAGE'),
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'),
            current_database(), current_setting('server_version_num')::int / 10000, quote_ident(current_user)
     FROM (SELECT 1) AS one
     LEFT JOIN pg_extension e ON e.extname = 'hypopg' LEFT JOIN pg_namespace n ON n.oid = e.extnamespace`,
  );
  const [schema, usable, available, db, major, role] = rows[0] ?? [];
  if (typeof schema === "string" && usable) return schema;
  if (typeof schema === "string") {
    throw new ToolshedError(
      "invalid_input",
      `hypothetical indexes need the HypoPG extension, which is in schema ${schema}, where role ${String(role)} may not look: an administrator runs GRANT USAGE ON SCHEMA ${schema} TO ${String(role)}; in database "${String(db)}". Until then, call explain without hypotheticalIndexes.`,
    );
  }
  const enable = `an administrator enables it with CREATE EXTENSION hypopg; in database "${String(db)}"`;
  throw new ToolshedError(
    "invalid_input",
    available
      ? `hypothetical indexes need the HypoPG extension, which is not enabled in this database: ${enable}. Until then, call explain without hypotheticalIndexes.`
      : `hypothetical indexes need the HypoPG extension, which is not installed on this PostgreSQL server: install its package on the database server (on Debian or Ubuntu: apt-get install postgresql-${String(major)}-hypopg; otherwise https://github.com/HypoPG/hypopg), then ${enable}. Until then, call explain without hypotheticalIndexes.`,
  );
}

/** The plan as text, and from the JSON form of the same plan its total cost and the indexes it scans. */
async function explain(
  statement: SessionStatement,
  sql: string,
): Promise<PlanAndCost & { indexNames: Set<string> }> {
  const text = await statement(`EXPLAIN (FORMAT TEXT) ${sql}`);
  const json = await statement(`EXPLAIN (FORMAT JSON) ${sql}`);
  const raw = json.rows[0]?.[0];
  const doc = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  const root = doc[0]!.Plan;
  const indexNames = new Set<string>();
  const stack: PlanNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node["Index Name"] === "string") indexNames.add(node["Index Name"]);
    stack.push(...(node.Plans ?? []));
  }
  return {
    plan: text.rows.map((row) => String(row[0])).join("\n"),
    totalCost: Number(root["Total Cost"]),
    indexNames,
  };
}

interface PlanNode {
  "Total Cost"?: number;
  "Index Name"?: string;
  Plans?: PlanNode[];
}
