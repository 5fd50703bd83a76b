import { ToolshedError, z } from "@toolshed/server";
import { defineTool } from "../deps.js";
import { asText, engineMessage } from "../engine/engine.js";
import {
  explainHypothetical,
  HYPOTHETICAL_METHODS,
  type HypotheticalExplain,
} from "../engine/pg-hypothetical.js";
import type { PostgresEngine } from "../engine/postgres-engine.js";

/** A PostgreSQL identifier as the caller names it; quoted by PostgreSQL's format('%I'), never pasted. */
const identifier = (what: string) =>
  z.string().min(1).max(63).describe(`${what}, exactly as named (case and all; no quoting, no SQL).`);

const hypotheticalIndex = z.object({
  table: identifier("The table: a dataset name, or schema.table in an allowed schema"),
  columns: z.array(identifier("A column")).min(1).max(32).describe("The indexed columns, in order."),
  method: z
    .enum(HYPOTHETICAL_METHODS)
    .default("btree")
    .describe("Access method: btree (default), hash or brin. HypoPG 1.3 refuses gist and gin."),
  include: z
    .array(identifier("A column"))
    .max(32)
    .optional()
    .describe("Columns stored in the index without being keys (btree INCLUDE), for index-only scans."),
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
      "PostgreSQL with the HypoPG extension only: indexes that do not exist, described by table and columns, which the planner considers as if they did (nothing is built or written). The answer gives the plan and estimated total cost without and with them, and which ones the planner used.",
    ),
});

const output = z.object({
  engine: z.enum(["duckdb", "postgres"]),
  analyzed: z.boolean(),
  plan: z
    .string()
    .describe("The plan as the engine prints it (with the hypothetical indexes, when some were given)."),
  hypothetical: z
    .object({
      planWithout: z.string().describe("The plan without the hypothetical indexes."),
      totalCostWithout: z.number().describe("The planner's estimated total cost without them."),
      totalCostWith: z.number().describe("The planner's estimated total cost with them."),
      indexes: z.array(
        z.object({
          definition: z.string().describe("The CREATE INDEX that would build it for real."),
          name: z.string().describe("Its name in the plan (HypoPG's)."),
          estimatedBytes: z.number().describe("HypoPG's estimate of its size on disk."),
          used: z.boolean().describe("Whether the plan with them scans it."),
        }),
      ),
      advice: z.string().describe("What the comparison suggests, in a sentence or two."),
    })
    .optional()
    .describe("Present when hypotheticalIndexes were given."),
});
type ExplainOutput = z.output<typeof output>;

/** The statement without a trailing semicolon, so EXPLAIN can wrap it. */
const bare = (sql: string) => sql.trim().replace(/;\s*$/, "");

export const explainTool = defineTool({
  name: "explain",
  title: "Explain a query's plan",
  description:
    "Shows how the engine would run a read-only statement (its query plan: scans, joins, filters, estimated rows), checked by the same rules as query; with analyze: true it also runs it and reports actual times and rows. On DuckDB the plan is DuckDB's EXPLAIN; on PostgreSQL, EXPLAIN inside a READ ONLY transaction. On PostgreSQL with the HypoPG extension, hypotheticalIndexes asks whether indexes that do not exist would help: the answer compares the plan and estimated cost without and with them and says which the planner used (nothing is built). Example: { sql: 'SELECT region, sum(amount) FROM sales GROUP BY 1' }; { sql: 'SELECT * FROM orders WHERE customer_id = 42', hypotheticalIndexes: [{ table: 'orders', columns: ['customer_id'] }] }.",
  input,
  output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    r.hypothetical
      ? renderHypothetical(r.plan, r.hypothetical)
      : `${r.analyzed ? "EXPLAIN ANALYZE" : "EXPLAIN"} on ${r.engine}:\n\n\`\`\`\n${r.plan}\n\`\`\``,
  handler: async ({ sql, analyze, hypotheticalIndexes }, ctx) => {
    const { engine } = ctx.deps;
    const keyword = analyze ? "EXPLAIN ANALYZE" : "EXPLAIN";
    if (/^\s*explain\b/i.test(sql)) {
      throw new ToolshedError(
        "invalid_input",
        "pass the statement itself; explain adds EXPLAIN (and ANALYZE)",
      );
    }
    const options = { signal: ctx.signal, timeoutMs: ctx.config.queryTimeoutMs };
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
      let result: HypotheticalExplain;
      try {
        result = await explainHypothetical(engine as PostgresEngine, bare(sql), hypotheticalIndexes, options);
      } catch (e) {
        if (e instanceof ToolshedError) throw e;
        throw new ToolshedError("invalid_input", `explain failed: ${engineMessage(e)}`);
      }
      return {
        engine: engine.kind,
        analyzed: false,
        plan: result.with.plan,
        hypothetical: {
          planWithout: result.without.plan,
          totalCostWithout: result.without.totalCost,
          totalCostWith: result.with.totalCost,
          indexes: result.indexes,
          advice: advise(result),
        },
      };
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
