import { randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { ToolshedError, z } from "@toolshed/server";
import { confirmReplace, datasetInfoSchema, newDatasetNameSchema, loadDataset } from "../datasets.js";
import { defineTool } from "../deps.js";
import type { DuckDBEngine } from "../engine/duckdb-engine.js";
import { requireKind } from "../engine/engine.js";
import { jsonDepthExceeds, MAX_JSON_DEPTH } from "../json-depth.js";
import { renderInfo } from "./register-dataset.js";
import { announcesDatasetWrite } from "../dataset-changes.js";

export const INLINE_MAX_BYTES = 1024 * 1024;

const input = z.object({
  name: newDatasetNameSchema,
  data: z
    .string()
    .min(1)
    .max(INLINE_MAX_BYTES)
    .describe("The rows: a JSON array of objects, or CSV text with a header line. At most 1 MiB."),
  format: z
    .enum(["json", "csv"])
    .optional()
    .describe("'json' or 'csv'; guessed from the first character when omitted."),
  replace: z.boolean().default(false).describe("Overwrite a dataset of the same name."),
});

const loadInlineDataset = defineTool({
  name: "load_inline_dataset",
  title: "Create a dataset from inline data",
  description:
    'Creates a small dataset from data in the call: a JSON array of objects or CSV text with a header (at most 1 MiB). Column types are inferred and returned. replace over an existing dataset asks the user to confirm first. Example: { name: \'pets\', data: \'[{"name":"Rex","age":3}]\' }.',
  input,
  output: datasetInfoSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: renderInfo,
  handler: async ({ name, data, format, replace }, ctx) => {
    const engine = requireKind<DuckDBEngine>(ctx.deps.engine, "duckdb", "load_inline_dataset");
    const fmt = format ?? (/^\s*[[{]/.test(data) ? "json" : "csv");
    if (fmt === "json") {
      // Deeply nested JSON crashes DuckDB's reader (and a recursive parser); refuse it up front.
      if (jsonDepthExceeds(data, MAX_JSON_DEPTH)) {
        throw new ToolshedError(
          "invalid_input",
          `JSON data nests arrays or objects more than ${MAX_JSON_DEPTH} deep (the limit); flatten it, or pass nested values as JSON strings`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        throw new ToolshedError("invalid_input", "data is not valid JSON; check it with validate_json");
      }
      if (
        !Array.isArray(parsed) ||
        parsed.some((r) => typeof r !== "object" || r === null || Array.isArray(r))
      ) {
        throw new ToolshedError("invalid_input", "JSON data must be an array of objects, one per row");
      }
      if (parsed.length === 0) throw new ToolshedError("invalid_input", "JSON data has no rows");
    }
    const kept = await confirmReplace(engine, ctx, { name, replace, by: "the inline data" });
    if (kept) return kept;
    // The server writes the rows to a scratch file in the data dir and loads it like any file.
    const dir = path.join(engine.dataDir, ".inline");
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${randomUUID()}.${fmt}`);
    await writeFile(file, data);
    try {
      return await loadDataset(engine, {
        name,
        file,
        format: fmt,
        source: "inline",
        replace,
        signal: ctx.signal,
        // The tool asks for a header line; DuckDB's detection would take an all-text header for data.
        options: fmt === "csv" ? { header: true } : undefined,
      });
    } finally {
      await rm(file, { force: true });
    }
  },
});

/** Tells subscribed clients once the dataset is written (dataset-changes.ts). */
export const loadInlineDatasetTool = announcesDatasetWrite(loadInlineDataset, (input) => input.name);
