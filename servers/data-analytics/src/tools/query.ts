import { reply, ToolshedError, z, type TransportInfo } from "@toolshed/server";
import { defineTool } from "../deps.js";
import { engineMessage, type Cell } from "../engine/engine.js";
import { capBytes, cellCapOf, markdownTable } from "../render.js";
import {
  cursorOf,
  describeMs,
  headOf,
  KEPT_RESULT_BYTES,
  type KeptHead,
  type KeptResult,
} from "../result-cursors.js";

const cell: z.ZodType<Cell> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(cell), z.record(z.string(), cell)]),
);

/** Row data beyond this is left out of the text (it is in the structured result). */
export const TEXT_ROW_BYTES = 64 * 1024;

/**
 * How much one answer carries: rows up to --max-bytes and at most half the transport's message
 * limit, the text's copy of them up to TEXT_ROW_BYTES and a sixteenth of it (JSON-escaped markdown
 * can take three times its size), which leaves room for the columns, the summary and the framing.
 */
export function answerBudget(
  maxBytes: number,
  transport: TransportInfo,
): { rowBytes: number; textBytes: number } {
  const limit = transport.maxMessageBytes;
  if (limit === undefined) return { rowBytes: maxBytes, textBytes: TEXT_ROW_BYTES };
  return {
    rowBytes: Math.max(1024, Math.min(maxBytes, Math.floor(limit / 2))),
    textBytes: Math.max(512, Math.min(TEXT_ROW_BYTES, Math.floor(limit / 16))),
  };
}

export const queryOutput = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(cell)),
  rowCount: z.number().describe("Rows on this page."),
  offset: z.number().describe("Where this page starts in the result: 0 on the first page."),
  totalRows: z
    .number()
    .nullable()
    .describe("Rows the query produces in all, or null when too costly to count."),
  truncated: z.boolean().describe("Rows follow this page, or long cells were shortened (see hint)."),
  cursor: z
    .string()
    .optional()
    .describe("Pass as query's `cursor` for the next page of this result; absent on the last page."),
  remainingRows: z.number().optional().describe("Rows the cursor's pages still hold."),
  hint: z.string().optional(),
});
type QueryOutput = z.output<typeof queryOutput>;

const input = z.object({
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .optional()
    .describe(
      "One read-only statement over datasets by name, e.g. 'SELECT region, sum(amount) FROM sales GROUP BY 1'. Leave out when passing cursor.",
    ),
  cursor: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(
      "The cursor of a truncated answer: returns the next page of that same result (the SQL is not run again). Pass it instead of sql.",
    ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe(
      "Most rows on this page (and on the next ones read with its cursor); the server's max-rows setting (100 by default) when omitted, never more.",
    ),
});

export const queryTool = defineTool({
  name: "query",
  title: "Run a read-only SQL query",
  description:
    "Runs one read-only SQL statement (DuckDB: SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN; on PostgreSQL when the server is connected to one: one SELECT (WITH, VALUES, TABLE) calling built-in functions only, in a READ ONLY transaction) over registered datasets, which are tables named as in list_datasets. Returns the rows as a table with column types. An answer holds one page: up to 100 rows by default, and a byte cap sized to the connection. When more rows follow, it gives the total and a `cursor`: call query with { cursor } alone for the next page of the same result (kept on the server for a few minutes, up to its paging cap; beyond that narrow or aggregate, or export the dataset with export_dataset). Queries are stopped after the time limit (30 s by default). Writing, ATTACH, COPY, INSTALL/LOAD, SET/PRAGMA and file-reading functions (read_csv, read_parquet, glob, ...) are refused: register files with register_dataset instead.",
  input,
  output: queryOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  timeoutMs: 600_000,
  // A query of minutes on a big warehouse runs as a task for clients of the tasks extension: the
  // caller polls from any replica, a dropped connection loses nothing; quick ones answer directly.
  task: "optional",
  handler: async ({ sql, cursor, limit }, ctx) => {
    const { engine, cursors } = ctx.deps;
    const budget = answerBudget(ctx.config.maxBytes, ctx.transport);
    const owner = ctx.principal?.id ?? "";
    const ttl = describeMs(cursors.ttlMs);
    if (cursor !== undefined) {
      if (sql !== undefined) {
        throw new ToolshedError(
          "invalid_input",
          "pass sql (a new query) or cursor (the next page of one), not both",
        );
      }
      const ask = limit === undefined ? undefined : Math.min(limit, ctx.config.maxRows);
      const { id, offset, head, rows } = await cursors.read(cursor, owner, ask);
      const pageRows = Math.min(ask ?? head.pageRows, ctx.config.maxRows);
      const page = capBytes(rows.slice(0, pageRows), budget.rowBytes);
      const out = answerOf(head, offset, page, true, budget.rowBytes, ctx.config.cursorMaxRows);
      if (out.remainingRows) out.cursor = cursorOf(id, offset + out.rowCount);
      return reply(out, [{ type: "text", text: summary(out, budget.textBytes, ttl) }]);
    }
    if (sql === undefined) {
      throw new ToolshedError(
        "invalid_input",
        "query needs sql (one read-only statement), or the cursor of a truncated answer for its next page",
      );
    }
    const pageRows = Math.min(limit ?? ctx.config.maxRows, ctx.config.maxRows);
    // One run reads the first page and the rows kept for the later ones, so pages never shift.
    const keepRows = Math.max(pageRows, ctx.config.cursorMaxRows);
    const started = Date.now();
    let result;
    try {
      // The guard and the statement together: on DuckDB one round trip to the engine host.
      result = await engine.query(sql, {
        maxRows: keepRows,
        signal: ctx.signal,
        timeoutMs: ctx.config.queryTimeoutMs,
      });
    } catch (e) {
      if (e instanceof ToolshedError) throw e;
      const said = engineMessage(e);
      // A column DuckDB typed JSON compares as JSON, so `title = 'x'` fails on the literal.
      const json = /Malformed JSON/i.test(said)
        ? " (a column of type JSON compares as JSON: compare its text with col::VARCHAR = '…', or read a field with col->>'$.field')"
        : "";
      throw new ToolshedError("invalid_input", `query failed${json}: ${said}`);
    }
    let totalRows: number | null = result.rows.length;
    if (result.more) totalRows = await countRows(sql, ctx.config.queryTimeoutMs - (Date.now() - started));
    async function countRows(text: string, budgetMs: number): Promise<number | null> {
      if (budgetMs < 50 || /^\s*(explain|describe|show|summarize)/i.test(text)) return null;
      try {
        const c = await engine.run(`SELECT count(*) FROM (${text.trim().replace(/;\s*$/, "")}) AS counted`, {
          signal: ctx.signal,
          timeoutMs: Math.min(2_000, budgetMs),
        });
        return Number(c.rows[0]?.[0]);
      } catch {
        return null;
      }
    }
    const first = capBytes(result.rows.slice(0, pageRows), budget.rowBytes);
    // Only the rows not sent yet are kept, within KEPT_RESULT_BYTES.
    const rest = result.rows.slice(first.rows.length);
    const kept = keptPrefix(first.rows.length ? rest : [], KEPT_RESULT_BYTES);
    const later: KeptResult = {
      columns: result.columns,
      base: first.rows.length,
      rows: kept.rows,
      totalRows,
      more: result.more || kept.rows.length < rest.length,
      pageRows,
    };
    const out = answerOf(
      headOf(later),
      0,
      first,
      result.rows.length > 0,
      budget.rowBytes,
      ctx.config.cursorMaxRows,
    );
    if (out.remainingRows) {
      try {
        out.cursor = await cursors.keep(owner, later, kept.bytes);
      } catch (e) {
        if (!(e instanceof ToolshedError && e.code === "upstream_unavailable")) throw e;
        // The shared store is down: the first page still answers, without a cursor, saying why.
        delete out.remainingRows;
        out.hint = [
          out.hint,
          "The rows after this page could not be kept for paging (the server's shared store, Redis, did not answer): run the query again in a few seconds for a cursor, or narrow it with WHERE or aggregate.",
        ]
          .filter(Boolean)
          .join(" ");
      }
    }
    return reply(out, [{ type: "text", text: summary(out, budget.textBytes, ttl) }]);
  },
});

/** The rows from the first while their JSON fits in `maxBytes` (cells whole), and their size. */
function keptPrefix(rows: Cell[][], maxBytes: number): { rows: Cell[][]; bytes: number } {
  let bytes = 0;
  let n = 0;
  for (const row of rows) {
    const size = Buffer.byteLength(JSON.stringify(row));
    if (bytes + size > maxBytes) break;
    bytes += size;
    n++;
  }
  return { rows: n === rows.length ? rows : rows.slice(0, n), bytes };
}

/**
 * The answer of one page, `page` (from capBytes), starting at `offset`: `remainingRows` counts the
 * kept rows after it (the caller adds their cursor), the hint says what else to do. `hadRows`: the
 * page had a row to show (so an empty one means a row too big for the answer).
 */
function answerOf(
  kept: KeptHead,
  offset: number,
  page: ReturnType<typeof capBytes>,
  hadRows: boolean,
  rowBytes: number,
  cursorMaxRows: number,
): QueryOutput {
  const end = offset + page.rows.length;
  const remaining = page.rows.length === 0 ? 0 : kept.end - end;
  const out: QueryOutput = {
    columns: kept.columns,
    rows: page.rows,
    rowCount: page.rows.length,
    offset,
    totalRows: kept.totalRows,
    truncated: remaining > 0 || kept.more || page.shortened,
  };
  if (remaining > 0) out.remainingRows = remaining;
  const hints: string[] = [];
  if (page.shortened) {
    hints.push(
      `Output was cut at ${rowBytes} bytes: cells over ${cellCapOf(rowBytes)} characters are shortened; read one in parts with substr(col, start, n).`,
    );
  }
  if (page.rows.length === 0 && hadRows) {
    hints.push(`One row is larger than the ${rowBytes} bytes an answer carries here; select fewer columns.`);
  } else if (remaining === 0 && kept.more) {
    hints.push(
      `Paging stops at row ${end}, the last the server keeps of a result (${cursorMaxRows} rows, ${KEPT_RESULT_BYTES / 1024 / 1024} MiB at most): for the rest narrow the query with WHERE or aggregate (export_dataset writes out a whole dataset).`,
    );
  }
  if (hints.length) out.hint = hints.join(" ");
  return out;
}

/**
 * The text: the page's rows as a table (all of them while small; past `textBytes` the first ones,
 * saying the structured result has them all, so big pages carry their rows once), then one line
 * of where the page stands and how to read the next.
 */
function summary(r: QueryOutput, textBytes: number, ttl: string): string {
  const text = capBytes(r.rows, textBytes);
  const lines = [markdownTable(r.columns, text.rows)];
  if (text.cut) {
    lines.push(
      `The text shows ${text.rows.length < r.rows.length ? `the first ${text.rows.length} of the ${r.rowCount} rows returned` : "every row"}${text.shortened ? " with long cells shortened" : ""}; all of them, in full, are in the structured result (structuredContent.rows).`,
    );
  }
  const total = r.totalRows === null ? "more" : String(r.totalRows);
  let where: string;
  if (r.offset === 0)
    where = r.truncated ? `${r.rowCount} of ${total} rows (truncated).` : `${r.rowCount} rows`;
  else
    where = `Rows ${r.offset + 1}-${r.offset + r.rowCount} of ${total}${r.truncated ? "." : " (the last page)."}`;
  const next = r.cursor
    ? ` Next page: query {"cursor":"${r.cursor}"} (${r.remainingRows} rows left, kept ${ttl}).`
    : "";
  lines.push(`${where}${next}${r.hint ? ` ${r.hint}` : ""}`);
  return lines.join("\n\n");
}
