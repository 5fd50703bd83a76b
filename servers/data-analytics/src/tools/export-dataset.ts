import { existsSync, mkdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { ToolshedError, z } from "@toolshed/server";
import { datasetNameSchema, getDataset } from "../datasets.js";
import { defineTool } from "../deps.js";
import type { DuckDBEngine } from "../engine/duckdb-engine.js";
import { engineMessage, requireKind } from "../engine/engine.js";
import { quoteIdent } from "../engine/sql.js";

export const EXPORT_DIR = "exports";
const EXPORT_FORMATS = ["csv", "parquet", "json"] as const;
/** A plain file name: no separators, no leading dot, no '..', one of the export extensions. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}\.(csv|parquet|json)$/;

const input = z.object({
  name: datasetNameSchema,
  file: z
    .string()
    .min(1)
    .max(200)
    .describe(
      "A plain file name ending in .csv, .parquet or .json, e.g. 'sales_2024.parquet'; written to the data dir's exports folder. No paths.",
    ),
  replace: z.boolean().default(false).describe("Overwrite an existing export of the same name."),
});

export const exportDatasetTool = defineTool({
  name: "export_dataset",
  title: "Export a dataset to a file",
  description:
    "Writes a dataset to a CSV (with header), Parquet or JSON (newline-delimited) file in the data dir's 'exports' folder, the format taken from the file name's extension. Only plain file names are accepted (no '/', '\\\\' or '..'); an existing file is kept unless replace: true, and then the user is asked to confirm first. Returns the file's path relative to the data dir, its size and row count; register_dataset can read it back. An unknown name resembling existing datasets: asks the user which one. Example: { name: 'north_totals', file: 'north_totals.csv' }.",
  input,
  output: z.object({
    name: z.string(),
    file: z.string().describe("Path relative to the data dir, e.g. 'exports/sales.csv'."),
    format: z.enum(EXPORT_FORMATS),
    rowCount: z.number(),
    bytes: z.number(),
    declined: z.string().optional().describe("Set when the user did not confirm: nothing was written."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  timeoutMs: 300_000,
  task: "optional", // a big table's export runs as a task for clients of the tasks extension
  render: (r) =>
    r.declined ?? `Exported ${r.rowCount} rows of ${r.name} to ${r.file} (${r.format}, ${r.bytes} bytes).`,
  handler: async ({ name: asked, file, replace }, ctx) => {
    await ctx.progress(0, 1, `exporting ${asked} to ${file}`);
    const engine = requireKind<DuckDBEngine>(ctx.deps.engine, "duckdb", "export_dataset");
    const match = FILE_NAME.exec(file);
    if (!match || file.includes("..")) {
      throw new ToolshedError(
        "forbidden",
        `'${file}' is not a plain file name; use letters, digits, '_', '-' and '.', no path separators or '..', ending in .csv, .parquet or .json`,
      );
    }
    const format = match[1] as (typeof EXPORT_FORMATS)[number];
    const info = await getDataset(engine, asked, ctx);
    const name = info.name;
    const dir = path.join(engine.dataDir, EXPORT_DIR);
    const target = path.join(dir, file);
    // Belt and braces: the joined path must still be a direct child of the exports folder.
    if (path.dirname(target) !== dir)
      throw new ToolshedError("forbidden", `'${file}' escapes the exports folder`);
    if (existsSync(target)) {
      if (!replace) {
        throw new ToolshedError(
          "conflict",
          `export '${file}' already exists; pass replace: true to overwrite it`,
        );
      }
      const old = statSync(target);
      const confirmed = await ctx.confirm(
        `Overwrite ${EXPORT_DIR}/${file} (${old.size} bytes, written ${old.mtime.toISOString()}) with the ${info.rowCount} rows of dataset '${name}'?`,
      );
      if (!confirmed) {
        return {
          name,
          file: `${EXPORT_DIR}/${file}`,
          format,
          rowCount: 0,
          bytes: old.size,
          declined: `Nothing was done: the user did not confirm overwriting ${EXPORT_DIR}/${file}; it is unchanged. Do not retry unless the user asks again.`,
        };
      }
    }
    mkdirSync(dir, { recursive: true });
    const options =
      format === "csv" ? "FORMAT csv, HEADER true" : format === "parquet" ? "FORMAT parquet" : "FORMAT json";
    // COPY takes no bound file name; the path is the server's data dir plus a name checked above
    // (no quotes possible), quoted as a string literal all the same.
    const literal = `'${target.replaceAll("'", "''")}'`;
    try {
      await engine.run(`COPY (SELECT * FROM ${quoteIdent(name)}) TO ${literal} (${options})`, {
        signal: ctx.signal,
      });
    } catch (e) {
      if (e instanceof ToolshedError) throw e;
      throw new ToolshedError("invalid_input", `export failed: ${engineMessage(e)}`);
    }
    return {
      name,
      file: `${EXPORT_DIR}/${file}`,
      format,
      rowCount: info.rowCount,
      bytes: statSync(target).size,
    };
  },
});
