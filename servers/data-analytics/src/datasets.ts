import { statSync } from "node:fs";
import { ToolshedError, z } from "@toolshed/server";
import type { DuckDBEngine } from "./duckdb-engine.js";
import { asText, engineMessage, type Engine } from "./engine.js";
import type { Phase } from "./progress.js";
import { CATALOG_TABLE, DATASET_NAME, DATASET_REF, quoteIdent } from "./sql.js";

/** Files at least this big get progress notifications while they load. */
export const LARGE_FILE_BYTES = 8 * 1024 * 1024;

export const FORMATS = ["csv", "tsv", "json", "ndjson", "parquet"] as const;
export type Format = (typeof FORMATS)[number];

export const datasetNameSchema = z
  .string()
  .regex(DATASET_REF)
  .describe(
    "Dataset name: letters, digits and underscores, starting with a letter or underscore, e.g. 'sales' (on PostgreSQL 'schema.table' for a table outside the first schema).",
  );

/** The name of a dataset to create: a plain identifier. */
export const newDatasetNameSchema = z
  .string()
  .regex(DATASET_NAME)
  .describe(
    "Name for the new dataset: letters, digits and underscores, starting with a letter or underscore.",
  );

export const columnSchema = z.object({ name: z.string(), type: z.string() });

export const datasetInfoSchema = z.object({
  name: z.string(),
  source: z.string(),
  format: z.string(),
  rowCount: z.number(),
  columns: z.array(columnSchema),
});
export type DatasetInfo = z.output<typeof datasetInfoSchema>;

export function formatFromPath(file: string): Format | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".tsv") || lower.endsWith(".tab")) return "tsv";
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) return "ndjson";
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".parquet")) return "parquet";
  return undefined;
}

/** The server's own file read; the path is a bound parameter, never SQL text. */
function readerSql(format: Format): string {
  switch (format) {
    case "csv":
      return "read_csv(?)";
    case "tsv":
      return "read_csv(?, delim = '\t')";
    case "json":
      return "read_json(?, format = 'auto')";
    case "ndjson":
      return "read_json(?, format = 'newline_delimited')";
    case "parquet":
      return "read_parquet(?)";
  }
}

export function checkName(name: string): void {
  if (!DATASET_NAME.test(name) || name.toLowerCase().startsWith("_toolshed")) {
    throw new ToolshedError(
      "invalid_input",
      `'${name}' is not a valid dataset name; use letters, digits and _`,
    );
  }
}

/** Loads a file (already resolved inside the allowed roots) into a table and records it in the catalog. */
export async function loadDataset(
  engine: DuckDBEngine,
  args: {
    name: string;
    file: string;
    format: Format;
    source: string;
    replace: boolean;
    signal?: AbortSignal;
    /**
     * Reports DuckDB's own percentage of the load, for files of at least LARGE_FILE_BYTES (or
     * always, for a phase of a longer call that already reports).
     */
    progress?: Phase;
    /** Files at least this big report progress (default LARGE_FILE_BYTES). */
    progressFromBytes?: number;
  },
): Promise<DatasetInfo> {
  await checkTarget(engine, args.name, args.replace);
  const table = quoteIdent(args.name);
  const bytes = statSync(args.file).size;
  const progress =
    args.progress && bytes >= (args.progressFromBytes ?? LARGE_FILE_BYTES) ? args.progress : undefined;
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  progress?.report(0, `loading ${args.source} (${(bytes / 1048576).toFixed(1)} MiB)`);
  let lastSent = Date.now();
  const onProgress = (percent: number) => {
    if (!progress) return;
    if (percent >= 0) {
      // 100 is kept for "loaded": the catalog entry is still to be written.
      progress.report(Math.min(percent, 99), `loading ${args.source}: ${Math.floor(percent)}%`);
      lastSent = Date.now();
    } else if (Date.now() - lastSent >= 1000) {
      progress.heartbeat(`still loading ${args.source}: ${Math.round((Date.now() - started) / 1000)} s`);
      lastSent = Date.now();
    }
  };
  try {
    await engine.runWithProgress(
      `CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${readerSql(args.format)}`,
      {
        params: [args.file],
        onProgress,
        ...(args.signal ? { signal: args.signal } : {}),
      },
    );
  } catch (e) {
    if (e instanceof ToolshedError) throw e;
    throw new ToolshedError(
      "invalid_input",
      // The local path (a temp download, the data dir) means nothing to the caller; the source does.
      `could not read '${args.source}' as ${args.format}: ${engineMessage(e).replaceAll(args.file, args.source)}`,
    );
  }
  const info = await recordDataset(engine, { name: args.name, source: args.source, format: args.format });
  progress?.report(100, `loaded ${info.rowCount} rows in ${seconds()} s`);
  return info;
}

/** Records a table (already created) in the catalog with its columns and row count. */
export async function recordDataset(
  engine: DuckDBEngine,
  args: { name: string; source: string; format: string },
): Promise<DatasetInfo> {
  const columns = await tableColumns(engine, args.name);
  const count = await engine.run(`SELECT count(*) FROM ${quoteIdent(args.name)}`);
  const info: DatasetInfo = {
    name: args.name,
    source: args.source,
    format: args.format,
    rowCount: Number(count.rows[0]?.[0] ?? 0),
    columns,
  };
  await engine.run(
    `INSERT OR REPLACE INTO ${quoteIdent(CATALOG_TABLE)} (name, source, format, row_count, columns) VALUES (?, ?, ?, ?, ?)`,
    {
      params: [info.name, info.source, info.format, info.rowCount, JSON.stringify(info.columns)],
    },
  );
  return info;
}

/** Refuses a bad name, and an existing dataset unless replace is set. */
export async function checkTarget(engine: DuckDBEngine, name: string, replace: boolean): Promise<void> {
  checkName(name);
  if (!replace && (await engine.findDataset(name))) {
    throw new ToolshedError(
      "conflict",
      `dataset '${name}' already exists; pass replace: true to overwrite it`,
    );
  }
}

export async function tableColumns(
  engine: DuckDBEngine,
  name: string,
): Promise<{ name: string; type: string }[]> {
  const { rows } = await engine.run(`DESCRIBE ${quoteIdent(name)}`);
  return rows.map((r) => ({ name: asText(r[0]), type: asText(r[1]) }));
}

export function listDatasets(engine: Engine): Promise<DatasetInfo[]> {
  return engine.listDatasets();
}

export async function catalogList(engine: DuckDBEngine): Promise<DatasetInfo[]> {
  const { rows } = await engine.run(
    `SELECT name, source, format, row_count, columns FROM ${quoteIdent(CATALOG_TABLE)} ORDER BY name`,
  );
  return rows.map(toInfo);
}

export async function catalogFind(engine: DuckDBEngine, name: string): Promise<DatasetInfo | undefined> {
  const { rows } = await engine.run(
    `SELECT name, source, format, row_count, columns FROM ${quoteIdent(CATALOG_TABLE)} WHERE name = ?`,
    { params: [name] },
  );
  return rows[0] ? toInfo(rows[0]) : undefined;
}

/** The dataset, or a not_found error that says what to do. */
export async function getDataset(engine: Engine, name: string): Promise<DatasetInfo> {
  const found = await engine.findDataset(name);
  if (!found) throw new ToolshedError("not_found", `dataset '${name}' not found; call list_datasets`);
  return found;
}

function toInfo(r: unknown[]): DatasetInfo {
  return {
    name: asText(r[0]),
    source: asText(r[1]),
    format: asText(r[2]),
    rowCount: Number(r[3]),
    columns: JSON.parse(asText(r[4])) as { name: string; type: string }[],
  };
}
