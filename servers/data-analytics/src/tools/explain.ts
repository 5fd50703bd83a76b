import { ToolshedError, z } from "@toolshed/server";
import { defineTool } from "../deps.js";
import { asText, engineMessage } from "../engine/engine.js";
import {
  adviseIndexes,
  explainHypothetical,
  HYPOTHETICAL_METHODS,
  MAX_ADVISED,
  PREDICATE_OPS,
  type HypotheticalExplain,
} from "../engine/pg-hypothetical.js";
import type { PostgresEngine } from "../engine/postgres-engine.js";

/** Names, not SQL: PostgreSQL's format('%I') quotes each one (pg-hypothetical.ts). */
const name = z.string().min(1).max(63);

const hypotheticalIndex = z.object({
  table: name.describe("Table (or schema.table), exactly as named."),
  columns: z.array(name).min(1).max(32).describe("Key columns, in order, exactly as named."),
  method: z.enum(HYPOTHETICAL_METHODS).default("btree").describe("HypoPG 1.3 refuses gist and gin."),
  include: z.array(name).max(32).optional().describe("Non-key columns (btree INCLUDE)."),
  where: z
    .array(
      z.object({
        column: name,
        op: z.enum(PREDICATE_OPS),
        value: z.union([z.string().max(1000), z.number(), z.boolean()]).optional(),
      }),
    )
    .max(8)
    .optional()
    .describe(
      "A partial index: only rows meeting all of these (e.g. { column: 'status', op: '=', value: 'open' }).",
    ),
});

const input = z.object({
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .describe("The read-only statement to explain, as you would pass it to query (no EXPLAIN prefix)."),
  analyze: z
    .boolean()
    .default(false)
    .describe(
      "Also run the statement and report actual times and row counts (EXPLAIN ANALYZE). Not with hypotheticalIndexes.",
    ),
  hypotheticalIndexes: z
    .array(hypotheticalIndex)
    .min(1)
    .max(10)
    .optional()
    .describe(
      "PostgreSQL with HypoPG only: indexes that do not exist, which the planner considers as if they did (nothing is built).",
    ),
  adviseIndexes: z
    .boolean()
    .default(false)
    .describe(
      "PostgreSQL with HypoPG only: find indexes that would speed this statement up. The server tries btree indexes on the columns it filters, joins, groups and sorts on, as hypothetical indexes, and returns the ones the planner would use and that lower its estimate. Nothing is built. Not with analyze or hypotheticalIndexes.",
    ),
});

const output = z.object({
  engine: z.enum(["duckdb", "postgres"]),
  analyzed: z.boolean(),
  plan: z.string().describe("The plan as the engine prints it (with the hypothetical indexes, if given)."),
  hypothetical: z
    .object({
      planWithout: z.string(),
      totalCostWithout: z.number().describe("The planner's estimate, without the hypothetical indexes."),
      totalCostWith: z.number(),
      indexes: z.array(
        z.object({
          definition: z.string().describe("The CREATE INDEX that would build it."),
          name: z.string().describe("Its name in the plan."),
          estimatedBytes: z.number(),
          used: z.boolean().describe("The plan with them scans it."),
        }),
      ),
      advice: z.string(),
      candidatesTried: z
        .number()
        .optional()
        .describe("With adviseIndexes: how many candidate indexes were tried; `indexes` are those advised."),
    })
    .optional()
    .describe("When hypotheticalIndexes were given, or adviseIndexes asked."),
});
type ExplainOutput = z.output<typeof output>;

/** The statement without a trailing semicolon, so EXPLAIN can wrap it. */
const bare = (sql: string) => sql.trim().replace(/;\s*$/, "");

export const explainTool = defineTool({
  name: "explain",
  title: "Explain a query's plan",
  description:
    "Shows how the engine would run a read-only statement (its query plan: scans, joins, filters, estimated rows), checked by the same rules as query; with analyze: true it also runs it and reports actual times and rows. On DuckDB the plan is DuckDB's EXPLAIN; on PostgreSQL, EXPLAIN inside a READ ONLY transaction. On PostgreSQL with HypoPG, hypotheticalIndexes tells whether indexes would help before anyone builds them: plan and estimated cost without and with them, and which the planner used; adviseIndexes: true finds such indexes itself. Example: { sql: 'SELECT * FROM orders WHERE customer_id = 42', hypotheticalIndexes: [{ table: 'orders', columns: ['customer_id'] }] }.",
  input,
  output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    r.hypothetical
      ? renderHypothetical(r.plan, r.hypothetical)
      : `${r.analyzed ? "EXPLAIN ANALYZE" : "EXPLAIN"} on ${r.engine}:\n\n\`\`\`\n${r.plan}\n\`\`\``,
  handler: async ({ sql, analyze, hypotheticalIndexes, adviseIndexes: advice }, ctx) => {
    const { engine } = ctx.deps;
    const keyword = analyze ? "EXPLAIN ANALYZE" : "EXPLAIN";
    if (/^\s*explain\b/i.test(sql)) {
      throw new ToolshedError(
        "invalid_input",
        "pass the statement itself; explain adds EXPLAIN (and ANALYZE)",
      );
    }
    const options = { signal: ctx.signal, timeoutMs: ctx.config.queryTimeoutMs };
    if (advice) {
      if (engine.kind !== "postgres") {
        throw new ToolshedError(
          "invalid_input",
          "index advice is a PostgreSQL feature (hypothetical indexes, by the HypoPG extension); on DuckDB, call explain without adviseIndexes and read the plan.",
        );
      }
      if (analyze || hypotheticalIndexes) {
        throw new ToolshedError(
          "invalid_input",
          "adviseIndexes finds the indexes itself: pass it alone (without analyze or hypotheticalIndexes).",
        );
      }
      const pg = engine as PostgresEngine;
      const found = await pg.indexColumns(sql);
      const result = await planned(() => adviseIndexes(pg, bare(sql), found, options));
      return compared(result, adviceOf(result), result.tried);
    }
    if (hypotheticalIndexes) {
      if (engine.kind !== "postgres") {
        throw new ToolshedError(
          "invalid_input",
          "hypothetical indexes are a PostgreSQL feature (the HypoPG extension); DuckDB's planner has none to try. Call explain without hypotheticalIndexes.",
        );
      }
      if (analyze) {
        throw new ToolshedError(
          "invalid_input",
          "analyze cannot be combined with hypotheticalIndexes: a hypothetical index exists only for the planner, so EXPLAIN ANALYZE would run the statement without it. Drop analyze (or hypotheticalIndexes).",
        );
      }
      await engine.checkReadOnly(sql);
      const result = await planned(() =>
        explainHypothetical(engine as PostgresEngine, bare(sql), hypotheticalIndexes, options),
      );
      return compared(result, advise(result));
    }
    let plan: string;
    try {
      if (engine.kind === "duckdb") {
        // The guard checks the statement an EXPLAIN wraps (sql-guard.ts).
        const r = await engine.query(`${keyword} ${bare(sql)}`, { ...options, maxRows: 10_000 });
        plan = r.rows.map((row) => asText(row[row.length - 1])).join("\n");
      } else {
        await engine.checkReadOnly(sql);
        const r = await engine.run(
          `EXPLAIN (FORMAT TEXT${analyze ? ", ANALYZE" : ""}) ${bare(sql)}`,
          options,
        );
        plan = r.rows.map((row) => asText(row[0])).join("\n");
      }
    } catch (e) {
      if (e instanceof ToolshedError) throw e;
      throw new ToolshedError("invalid_input", `explain failed: ${engineMessage(e)}`);
    }
    return { engine: engine.kind, analyzed: analyze, plan };
  },
});

/** A plan comparison run on the engine; an engine error becomes invalid_input in its own words. */
async function planned<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ToolshedError) throw e;
    throw new ToolshedError("invalid_input", `explain failed: ${engineMessage(e)}`);
  }
}

/** The answer of a comparison without and with hypothetical indexes (PostgreSQL's). */
function compared(r: HypotheticalExplain, advice: string, tried?: number): ExplainOutput {
  return {
    engine: "postgres",
    analyzed: false,
    plan: r.with.plan,
    hypothetical: {
      planWithout: r.without.plan,
      totalCostWithout: r.without.totalCost,
      totalCostWith: r.with.totalCost,
      indexes: r.indexes,
      advice,
      ...(tried === undefined ? {} : { candidatesTried: tried }),
    },
  };
}

/** What index advice found: the indexes worth building, or why there are none. */
function adviceOf(r: HypotheticalExplain & { tried: number }): string {
  if (r.tried === 0) {
    return "This statement filters, joins, groups or sorts on no column of a table here (or only on expressions), so there is no index to try. Indexes help WHERE, JOIN and ORDER BY on plain columns.";
  }
  if (r.indexes.length === 0) {
    return `None of the ${r.tried} candidate indexes tried (btree, on the columns it filters, joins, groups and sorts on) lowers the planner's estimate by 10% or more: the statement is served as well as indexes can serve it, or it reads most of its tables anyway. Existing indexes already count.`;
  }
  const before = r.without.totalCost;
  const after = r.with.totalCost;
  const lower = before > 0 ? Math.round((100 * (before - after)) / before) : 0;
  return (
    `Build ${r.indexes.length === 1 ? "this index" : `these ${r.indexes.length} indexes`} (the best of ${r.tried} tried, at most ${MAX_ADVISED}): ${r.indexes.map((i) => `${i.definition} (about ${megabytes(i.estimatedBytes)})`).join("; ")}. ` +
    `The planner's estimated cost falls from ${before} to ${after} (${lower}% lower). These are estimates: after building, check with explain analyze: true, and weigh each index's cost on writes.`
  );
}

/** What the comparison suggests: the used indexes worth building, or that none would help. */
function advise(r: HypotheticalExplain): string {
  const used = r.indexes.filter((i) => i.used);
  const before = r.without.totalCost;
  const after = r.with.totalCost;
  if (!used.length || after >= before) {
    return "The planner used none of these indexes for this statement (or its estimate did not fall): building them would not speed it up as written. Try other columns (those in WHERE, JOIN and ORDER BY), or leave it.";
  }
  const lower = before > 0 ? Math.round((100 * (before - after)) / before) : 0;
  const unused = r.indexes.length - used.length;
  return (
    `The planner's estimated cost falls from ${before} to ${after} (${lower}% lower) using ${used.map((i) => `${i.definition} (about ${megabytes(i.estimatedBytes)})`).join(" and ")}. ` +
    (unused ? `It did not use the other ${unused}. ` : "") +
    "These are estimates: after building an index for real, check with explain analyze: true."
  );
}

function megabytes(bytes: number): string {
  return bytes < 1024 * 1024
    ? `${Math.max(1, Math.round(bytes / 1024))} KB`
    : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function renderHypothetical(plan: string, h: NonNullable<ExplainOutput["hypothetical"]>): string {
  const lines = h.indexes.map(
    (i) =>
      `- ${i.used ? "used" : "not used"}: ${i.definition} (${i.name}, about ${megabytes(i.estimatedBytes)})`,
  );
  return [
    `EXPLAIN on postgres with ${h.indexes.length} hypothetical ${h.indexes.length === 1 ? "index" : "indexes"} (HypoPG): estimated total cost ${h.totalCostWithout} without, ${h.totalCostWith} with.`,
    ...lines,
    "",
    h.advice,
    "",
    "Plan with the hypothetical indexes:",
    "```",
    plan,
    "```",
    "",
    "Plan without them:",
    "```",
    h.planWithout,
    "```",
  ].join("\n");
}
