import { ToolshedError, z } from "@toolshed/server";
import {
  FORMATS,
  datasetInfoSchema,
  newDatasetNameSchema,
  formatFromPath,
  loadDataset,
  type DatasetInfo,
} from "../datasets.js";
import { defineAnalyticsTool } from "../deps.js";
import type { DuckDBEngine } from "../duckdb-engine.js";
import { requireKind } from "../engine.js";
import { resolveInsideRoots } from "../paths.js";
import { Progress } from "../progress.js";

export function renderInfo(d: DatasetInfo): string {
  return `Dataset ${d.name}: ${d.rowCount} rows from ${d.source} (${d.format}). Inferred columns:\n${d.columns.map((c) => `- ${c.name}: ${c.type}`).join("\n")}`;
}

const input = z.object({
  name: newDatasetNameSchema,
  path: z
    .string()
    .min(1)
    .describe("The file, relative to the data dir or absolute inside an allowed root, e.g. 'sales.csv'."),
  format: z.enum(FORMATS).optional().describe("File format; inferred from the extension when omitted."),
  replace: z.boolean().default(false).describe("Overwrite a dataset of the same name."),
});

export const registerDatasetTool = defineAnalyticsTool({
  name: "register_dataset",
  title: "Register a file as a dataset",
  description:
    "Loads a CSV, TSV, JSON, NDJSON or Parquet file from under an allowed root (the data dir by default) into a named dataset and returns the inferred column types and row count. Paths outside the roots, including through '../' or symlinks, are refused. Files of 8 MiB or more send progress notifications (start, a heartbeat each second, rows loaded) when the call carries a progressToken. Example: { name: 'sales', path: 'sales.csv' }.",
  input,
  output: datasetInfoSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  timeoutMs: 300_000,
  render: renderInfo,
  handler: async ({ name, path, format, replace }, ctx) => {
    const engine = requireKind<DuckDBEngine>(ctx.deps.engine, "duckdb", "register_dataset");
    const file = resolveInsideRoots(path, engine.roots);
    const fmt = format ?? formatFromPath(file);
    if (!fmt) {
      throw new ToolshedError(
        "invalid_input",
        `cannot tell the format of '${path}'; pass format (${FORMATS.join(", ")})`,
      );
    }
    return loadDataset(engine, {
      name,
      file,
      format: fmt,
      source: path,
      replace,
      signal: ctx.signal,
      progress: new Progress((p, total, message) => ctx.progress(p, total, message)).phase(0, 100),
    });
  },
});
