import { ToolshedError, z } from "@toolshed/server";
import { defineTool } from "../deps.js";
import { engineMessage, type Cell } from "../engine/engine.js";
import { capBytes, markdownTable } from "../render.js";

const cell: z.ZodType<Cell> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(cell), z.record(z.string(), cell)]),
);

/** Row data beyond this is left out of the text (it is in the structured result). */
export const TEXT_ROW_BYTES = 64 * 1024;

export const queryOutput = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(cell)),
  rowCount: z.number().describe("Rows returned here."),
  totalRows: z
    .number()
    .nullable()
    .describe("Rows the query produces in all, or null when too costly to count."),
  truncated: z.boolean(),
  hint: z.string().optional(),
});

const input = z.object({
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .describe(
      "One read-only statement over datasets by name, e.g. 'SELECT region, sum(amount) FROM sales GROUP BY 1'.",
    ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe(
      "Most rows to return; the server's max-rows setting (100 by default) when omitted, never more.",
    ),
});

export const queryTool = defineTool({
  name: "query",
  title: "Run a read-only SQL query",
  description:
    "Runs one read-only SQL statement (DuckDB: SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN; on PostgreSQL when the server is connected to one: one SELECT (WITH, VALUES, TABLE) calling built-in functions only, in a READ ONLY transaction) over registered datasets, which are tables named as in list_datasets. Returns the rows as a table with column types. Results are capped by rows (100 by default) and bytes (256 KiB); when truncated the answer says so with the total row count, so page with LIMIT/OFFSET or aggregate. Queries are stopped after the time limit (30 s by default). Writing, ATTACH, COPY, INSTALL/LOAD, SET/PRAGMA and file-reading functions (read_csv, read_parquet, glob, ...) are refused: register files with register_dataset instead.",
  input,
  output: queryOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  timeoutMs: 600_000,
  // A query of minutes on a big warehouse runs as a task for clients of the tasks extension: the
  // caller polls from any replica, a dropped connection loses nothing; quick ones answer directly.
  task: "optional",
  render: (r) => {
    // The rows travel once in full, in the structured result; the text shows them too while they
    // are small, and past TEXT_ROW_BYTES only the first ones, saying where the rest are.
    const text = capBytes(r.rows, TEXT_ROW_BYTES);
    const lines = [markdownTable(r.columns, text.rows)];
    if (text.cut) {
      lines.push(
        `The text shows ${text.rows.length < r.rows.length ? `the first ${text.rows.length} of the ${r.rowCount} rows returned` : "every row"}${text.rows.some((row, i) => row.some((v, j) => v !== r.rows[i]![j])) ? " with long cells shortened" : ""}; all of them, in full, are in the structured result (structuredContent.rows).`,
      );
    }
    const total = r.totalRows === null ? "more" : String(r.totalRows);
    lines.push(
      r.truncated
        ? `${r.rowCount} of ${total} rows (truncated). ${r.hint ?? ""}`.trim()
        : `${r.rowCount} rows`,
    );
    return lines.join("\n\n");
  },
  handler: async ({ sql, limit }, ctx) => {
    const { engine } = ctx.deps;
    const maxRows = Math.min(limit ?? ctx.config.maxRows, ctx.config.maxRows);
    const started = Date.now();
    let result;
    try {
      // The guard and the statement together: on DuckDB one round trip to the engine host.
      result = await engine.query(sql, { maxRows, signal: ctx.signal, timeoutMs: ctx.config.queryTimeoutMs });
    } catch (e) {
      if (e instanceof ToolshedError) throw e;
      const said = engineMessage(e);
      // A column DuckDB typed JSON compares as JSON, so `title = 'x'` fails on the literal.
      const json = /Malformed JSON/i.test(said)
        ? " (a column of type JSON compares as JSON: compare its text with col::VARCHAR = '…', or read a field with col->>'$.field')"
        : "";
      throw new ToolshedError("invalid_input", `query failed${json}: ${said}`);
    }
    const capped = capBytes(result.rows, ctx.config.maxBytes);
    const truncated = result.more || capped.cut;
    let totalRows: number | null = result.rows.length;
    if (result.more) totalRows = await countRows(sql, ctx.config.queryTimeoutMs - (Date.now() - started));
    async function countRows(text: string, budget: number): Promise<number | null> {
      if (budget < 50 || /^\s*(explain|describe|show|summarize)/i.test(text)) return null;
      try {
        const c = await engine.run(`SELECT count(*) FROM (${text.trim().replace(/;\s*$/, "")}) AS counted`, {
          signal: ctx.signal,
          timeoutMs: Math.min(2_000, budget),
        });
        return Number(c.rows[0]?.[0]);
      } catch {
        return null;
      }
    }
    const out = {
      columns: result.columns,
      rows: capped.rows,
      rowCount: capped.rows.length,
      totalRows,
      truncated,
    };
    if (!truncated) return out;
    const hint = capped.cut
      ? `Output was cut at ${ctx.config.maxBytes} bytes (long cells are shortened); select fewer or shorter columns, or page with LIMIT ${capped.rows.length} OFFSET ${capped.rows.length}.`
      : `Page with LIMIT ${maxRows} OFFSET ${maxRows} (add ORDER BY for a stable order), or aggregate.`;
    return { ...out, hint };
  },
});
