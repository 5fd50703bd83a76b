import { ToolshedError, z } from "@toolshed/server";
import { defineTool } from "../deps.js";
import { asText, engineMessage } from "../engine/engine.js";

const input = z.object({
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .describe("The read-only statement to explain, as you would pass it to query (no EXPLAIN prefix)."),
  analyze: z
    .boolean()
    .default(false)
    .describe("Also run the statement and report actual times and row counts (EXPLAIN ANALYZE)."),
});

/** The statement without a trailing semicolon, so EXPLAIN can wrap it. */
const bare = (sql: string) => sql.trim().replace(/;\s*$/, "");

export const explainTool = defineTool({
  name: "explain",
  title: "Explain a query's plan",
  description:
    "Shows how the engine would run a read-only statement (its query plan: scans, joins, filters, estimated rows), checked by the same rules as query; with analyze: true it also runs it and reports actual times and rows. On DuckDB the plan is DuckDB's EXPLAIN; on PostgreSQL, EXPLAIN inside a READ ONLY transaction. Example: { sql: 'SELECT region, sum(amount) FROM sales GROUP BY 1' }.",
  input,
  output: z.object({
    engine: z.enum(["duckdb", "postgres"]),
    analyzed: z.boolean(),
    plan: z.string().describe("The plan as the engine prints it."),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) => `${r.analyzed ? "EXPLAIN ANALYZE" : "EXPLAIN"} on ${r.engine}:\n\n\`\`\`\n${r.plan}\n\`\`\``,
  handler: async ({ sql, analyze }, ctx) => {
    const { engine } = ctx.deps;
    const keyword = analyze ? "EXPLAIN ANALYZE" : "EXPLAIN";
    if (/^\s*explain\b/i.test(sql)) {
      throw new ToolshedError(
        "invalid_input",
        "pass the statement itself; explain adds EXPLAIN (and ANALYZE)",
      );
    }
    const options = { signal: ctx.signal, timeoutMs: ctx.config.queryTimeoutMs };
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
