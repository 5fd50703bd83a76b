import { ToolshedError, z } from "@toolshed/server";
import { existsSync, realpathSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Downloader } from "../downloads.js";
import {
  FORMATS,
  checkTarget,
  confirmReplace,
  datasetInfoSchema,
  newDatasetNameSchema,
  readerOptionsSchema,
  formatFromPath,
  loadDataset,
  type DatasetInfo,
  type Format,
} from "../datasets.js";
import { defineTool } from "../deps.js";
import type { DuckDBEngine } from "../engine/duckdb-engine.js";
import { requireKind } from "../engine/engine.js";
import { resolveInsideRoots } from "../paths.js";
import { Progress } from "../progress.js";
import { EXPORT_DIR } from "./export-dataset.js";
import { announcesDatasetWrite } from "../dataset-changes.js";

/**
 * A path under the allowed roots, or a file export_dataset wrote ('exports/<file>', as it answers),
 * which is the server's own output in the data dir and readable back even when --allow-dir names
 * other roots.
 */
function resolveDatasetFile(userPath: string, engine: DuckDBEngine): string {
  const exported = /^exports[/\\]([^/\\]+)$/.exec(userPath)?.[1];
  const exportsDir = join(engine.dataDir, EXPORT_DIR);
  if (exported !== undefined && exported !== ".." && existsSync(join(exportsDir, exported))) {
    return resolveInsideRoots(exported, [realpathSync(exportsDir)]);
  }
  return resolveInsideRoots(userPath, engine.roots);
}

export function renderInfo(d: DatasetInfo): string {
  if (d.declined) return d.declined;
  const lines = [
    `Dataset ${d.name}: ${d.rowCount} rows from ${d.source} (${d.format}). Inferred columns:`,
    ...d.columns.map((c) => `- ${c.name}: ${c.type}`),
  ];
  if (d.assumed) {
    const a = d.assumed;
    lines.push(
      `Read as: delimiter ${JSON.stringify(a.delimiter)}, header ${a.header ? "yes" : "no"}, quote ${JSON.stringify(a.quote)}, encoding ${a.encoding}, ${a.skipRows ? `${a.skipRows} lines skipped, ` : ""}NULL cells ${JSON.stringify(a.nullStrings)}, decimal mark ${JSON.stringify(a.decimalSeparator)}${a.dateFormat ? `, dates ${a.dateFormat}` : ""}${a.timestampFormat ? `, timestamps ${a.timestampFormat}` : ""} (change any with options).`,
    );
  }
  for (const note of d.notes ?? []) lines.push(`Note: ${note}`);
  return lines.join("\n");
}

const input = z
  .object({
    name: newDatasetNameSchema,
    path: z
      .string()
      .min(1)
      .optional()
      .describe("A file, relative to the data dir or absolute inside an allowed root, e.g. 'sales.csv'."),
    url: z
      .string()
      .min(1)
      .optional()
      .describe("Or a file to download, under one of the server's --allow-url base URLs."),
    format: z
      .enum(FORMATS)
      .optional()
      .describe("File format; inferred from the extension (or a download's content-type) when omitted."),
    replace: z.boolean().default(false).describe("Overwrite a dataset of the same name."),
    options: readerOptionsSchema
      .optional()
      .describe(
        "How to read the file when detection guesses wrong (the answer's 'assumed' says what was detected): delimiter, header, quote, escape, encoding, skipRows, nullStrings, nullPadding, ignoreErrors, decimalSeparator, dateFormat, timestampFormat, types, allVarchar.",
      ),
  })
  .refine((a) => (a.path === undefined) !== (a.url === undefined), {
    message: "give exactly one of path or url",
    path: ["path"],
  });

const CONTENT_TYPES: [RegExp, Format][] = [
  [/^text\/csv\b/, "csv"],
  [/^text\/tab-separated-values\b/, "tsv"],
  [/^application\/(x-)?ndjson\b|^application\/jsonl\b|^application\/x-jsonlines\b/, "ndjson"],
  [/^application\/json\b/, "json"],
  [/^application\/(vnd\.apache\.)?parquet\b|^application\/x-parquet\b/, "parquet"],
];

function formatFromContentType(type: string | undefined): Format | undefined {
  const t = (type ?? "").toLowerCase();
  return CONTENT_TYPES.find(([re]) => re.test(t))?.[1];
}

const registerDataset = defineTool({
  name: "register_dataset",
  title: "Register a file as a dataset",
  description:
    "Loads a CSV, TSV, JSON, NDJSON or Parquet file into a named dataset and returns the inferred column types and row count. The file is a path under an allowed root (the data dir by default; '../' or symlinks out are refused) or a url under one of the server's allowed base URLs (downloaded into the data dir). Downloads and files of 8 MiB or more send progress notifications in percent when the call carries a progressToken. replace over an existing dataset asks the user to confirm first. Example: { name: 'sales', path: 'sales.csv' }.",
  input,
  output: datasetInfoSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  timeoutMs: 900_000, // a download (--download-timeout-ms, 5 minutes by default) and then the load
  task: "optional", // a long load runs as a task for clients of the tasks extension; progress is its status
  render: renderInfo,
  handler: async ({ name, path, url, format, replace, options }, ctx) => {
    const engine = requireKind<DuckDBEngine>(ctx.deps.engine, "duckdb", "register_dataset");
    const progress = new Progress((p, total, message) => ctx.progress(p, total, message));
    if (url !== undefined) {
      const { downloads } = ctx.deps;
      const target = downloads.check(url);
      const kept = await confirmReplace(engine, ctx, { name, replace, by: Downloader.shown(target) });
      if (kept) return kept;
      await checkTarget(engine, name, replace); // refuse before spending the download
      const fetched = await downloads.download(url, `${name}.download`, {
        signal: ctx.signal,
        progress: progress.phase(0, 50),
      });
      if (/^\s*(text\/html|application\/xhtml)/i.test(fetched.contentType ?? "")) {
        // A data URL that answers with a web page is a login, error or landing page, not data.
        rmSync(fetched.file, { force: true });
        throw new ToolshedError(
          "invalid_input",
          `'${Downloader.shown(target)}' answered with a web page (${fetched.contentType}), not a data file; check the URL (a login or error page?)`,
        );
      }
      const fmt = format ?? formatFromPath(target.pathname) ?? formatFromContentType(fetched.contentType);
      if (!fmt) {
        rmSync(fetched.file, { force: true });
        throw new ToolshedError(
          "invalid_input",
          `cannot tell the format of '${Downloader.shown(target)}' (content-type ${fetched.contentType ?? "none"}); pass format (${FORMATS.join(", ")})`,
        );
      }
      const file = fetched.file.replace(/\.download$/, `.${fmt}`);
      renameSync(fetched.file, file);
      return loadDataset(engine, {
        name,
        file,
        format: fmt,
        source: Downloader.shown(target),
        replace,
        signal: ctx.signal,
        progress: progress.phase(50, 100),
        progressFromBytes: 0,
        options,
      });
    }
    const file = resolveDatasetFile(path!, engine);
    const fmt = format ?? formatFromPath(file);
    if (!fmt) {
      throw new ToolshedError(
        "invalid_input",
        `cannot tell the format of '${path!}'; pass format (${FORMATS.join(", ")})`,
      );
    }
    const kept = await confirmReplace(engine, ctx, { name, replace, by: `'${path!}'` });
    if (kept) return kept;
    return loadDataset(engine, {
      name,
      file,
      format: fmt,
      source: path!,
      replace,
      signal: ctx.signal,
      progress: progress.phase(0, 100),
      options,
    });
  },
});

/** Tells subscribed clients once the dataset is written (dataset-changes.ts). */
export const registerDatasetTool = announcesDatasetWrite(registerDataset, (input) => input.name);
