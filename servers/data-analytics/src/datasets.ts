import { ToolshedError, z } from "@toolshed/server";
import { asText, engineMessage, type Engine } from "./engine.js";
import { CATALOG_TABLE, DATASET_NAME, quoteIdent } from "./sql.js";

export const FORMATS = ["csv", "tsv", "json", "ndjson", "parquet"] as const;
export type Format = (typeof FORMATS)[number];

export const datasetNameSchema = z
  .string()
  .regex(DATASET_NAME)
  .describe(
    "Dataset name: letters, digits and underscores, starting with a letter or underscore, e.g. 'sales'.",
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
  engine: Engine,
  args: {
    name: string;
    file: string;
    format: Format;
    source: string;
    replace: boolean;
    signal?: AbortSignal;
  },
): Promise<DatasetInfo> {
  checkName(args.name);
  const existing = await findDataset(engine, args.name);
  if (existing && !args.replace) {
    throw new ToolshedError(
      "conflict",
      `dataset '${args.name}' already exists; pass replace: true to overwrite it`,
    );
  }
  const table = quoteIdent(args.name);
  try {
    await engine.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${readerSql(args.format)}`, {
      params: [args.file],
      ...(args.signal ? { signal: args.signal } : {}),
    });
  } catch (e) {
    if (e instanceof ToolshedError) throw e;
    throw new ToolshedError(
      "invalid_input",
      `could not read '${args.source}' as ${args.format}: ${engineMessage(e)}`,
    );
  }
  const columns = await tableColumns(engine, args.name);
  const count = await engine.run(`SELECT count(*) FROM ${table}`);
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

export async function tableColumns(engine: Engine, name: string): Promise<{ name: string; type: string }[]> {
  const { rows } = await engine.run(`DESCRIBE ${quoteIdent(name)}`);
  return rows.map((r) => ({ name: asText(r[0]), type: asText(r[1]) }));
}

export async function listDatasets(engine: Engine): Promise<DatasetInfo[]> {
  const { rows } = await engine.run(
    `SELECT name, source, format, row_count, columns FROM ${quoteIdent(CATALOG_TABLE)} ORDER BY name`,
  );
  return rows.map(toInfo);
}

export async function findDataset(engine: Engine, name: string): Promise<DatasetInfo | undefined> {
  const { rows } = await engine.run(
    `SELECT name, source, format, row_count, columns FROM ${quoteIdent(CATALOG_TABLE)} WHERE name = ?`,
    { params: [name] },
  );
  return rows[0] ? toInfo(rows[0]) : undefined;
}

/** The dataset, or a not_found error that says what to do. */
export async function getDataset(engine: Engine, name: string): Promise<DatasetInfo> {
  const found = await findDataset(engine, name);
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
