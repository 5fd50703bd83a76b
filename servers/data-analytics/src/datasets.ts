import { statSync } from "node:fs";
import { similarNames, ToolshedError, z, type Asking } from "@toolshed/server";
import type { DuckDBEngine } from "./engine/duckdb-engine.js";
import { asText, engineMessage, type Engine, type Param } from "./engine/engine.js";
import { MAX_JSON_DEPTH } from "./json-depth.js";
import type { Phase } from "./progress.js";
import { TaskThread } from "./task-thread.js";
import { CATALOG_TABLE, DATASET_NAME, DATASET_REF, quoteIdent } from "./engine/sql.js";

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

export function formatFromPath(file: string): Format | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".tsv") || lower.endsWith(".tab")) return "tsv";
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) return "ndjson";
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".parquet")) return "parquet";
  return undefined;
}

/** Column types a caller may force on a CSV column (DuckDB's names; DECIMAL with its width). */
const READER_TYPE =
  /^(VARCHAR|BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|FLOAT|DOUBLE|DATE|TIME|TIMESTAMP|TIMESTAMPTZ|UUID|DECIMAL\((?:[1-9]|[1-3]\d)(?:,\s*(?:\d|[1-3]\d))?\))$/i;

/** strftime-style formats as DuckDB's readers take them, e.g. '%d/%m/%Y'. */
const DATE_FORMAT = z
  .string()
  .min(2)
  .max(64)
  .regex(/%[a-zA-Z]/, "a strftime format such as '%d/%m/%Y'");

/**
 * How to read a file, for when DuckDB's detection guesses wrong. Each is validated here and passed
 * to DuckDB's reader as a bound value (types as escaped literals of validated names), never as SQL.
 */
export const readerOptionsSchema = z
  .object({
    delimiter: z
      .string()
      .min(1)
      .max(4)
      .optional()
      .describe("CSV/TSV: the field separator, e.g. ';' or '|' (detected when omitted)."),
    header: z.boolean().optional().describe("CSV/TSV: whether the first line holds column names."),
    quote: z.string().max(1).optional().describe("CSV/TSV: the quote character ('' for none)."),
    escape: z.string().max(1).optional().describe("CSV/TSV: the escape character inside quotes."),
    encoding: z
      .enum(["utf-8", "utf-16", "latin-1"])
      .optional()
      .describe("CSV/TSV: the file's text encoding (utf-8 by default)."),
    skipRows: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .optional()
      .describe("CSV/TSV: lines to skip at the top (titles, notes) before the header."),
    nullStrings: z
      .array(z.string().max(64))
      .max(32)
      .optional()
      .describe("CSV/TSV: cell texts that mean NULL, e.g. ['NA', 'N/A', '-'] (the empty cell by default)."),
    nullPadding: z
      .boolean()
      .optional()
      .describe("CSV/TSV: pad rows with too few fields with NULLs instead of failing."),
    ignoreErrors: z
      .boolean()
      .optional()
      .describe(
        "Skip rows that cannot be read (wrong field count, unconvertible values) instead of failing.",
      ),
    decimalSeparator: z
      .enum([".", ","])
      .optional()
      .describe("CSV/TSV: the decimal mark of numbers, ',' for files like '1,5'."),
    dateFormat: DATE_FORMAT.optional().describe(
      "How dates are written, e.g. '%d/%m/%Y' (detected when omitted).",
    ),
    timestampFormat: DATE_FORMAT.optional().describe(
      "How timestamps are written, e.g. '%d/%m/%Y %H:%M' (detected when omitted).",
    ),
    types: z
      .record(
        z.string().min(1).max(128),
        z.string().regex(READER_TYPE, "a DuckDB type such as VARCHAR, BIGINT, DOUBLE, DATE or DECIMAL(18,2)"),
      )
      .optional()
      .describe("CSV/TSV: force column types by name, e.g. { zip: 'VARCHAR', amount: 'DECIMAL(18,2)' }."),
    allVarchar: z.boolean().optional().describe("CSV/TSV: read every column as text (no type detection)."),
  })
  .strict();
export type ReaderOptions = z.output<typeof readerOptionsSchema>;

/** What the load assumed about the file (detected or given), for the caller to check. */
export const assumedSchema = z.object({
  delimiter: z.string().optional(),
  quote: z.string().optional(),
  escape: z.string().optional(),
  header: z.boolean().optional(),
  skipRows: z.number().optional(),
  encoding: z.string().optional(),
  dateFormat: z.string().nullable().optional(),
  timestampFormat: z.string().nullable().optional(),
  nullStrings: z.array(z.string()).optional(),
  decimalSeparator: z.string().optional(),
});
export type Assumed = z.output<typeof assumedSchema>;

const CSV_ONLY: (keyof ReaderOptions)[] = [
  "delimiter",
  "header",
  "quote",
  "escape",
  "encoding",
  "skipRows",
  "nullStrings",
  "nullPadding",
  "decimalSeparator",
  "types",
  "allVarchar",
];

const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * The server's own file read with the caller's reader options: the path and every option are
 * bound values (`?`), except forced types, written as literals of validated names.
 */
export function readerSql(
  format: Format,
  options: ReaderOptions = {},
  fn?: "sniff_csv",
): { sql: string; params: Param[] } {
  const args: string[] = ["?"];
  const params: Param[] = [];
  const bind = (name: string, value: Param, cast = "") => {
    args.push(`${name} = ?${cast}`);
    params.push(value);
  };
  const csv = format === "csv" || format === "tsv";
  if (!csv) {
    const wrong = CSV_ONLY.filter((k) => options[k] !== undefined);
    if (wrong.length) {
      throw new ToolshedError(
        "invalid_input",
        `reader option${wrong.length > 1 ? "s" : ""} ${wrong.join(", ")} apply to CSV and TSV files only, not ${format}; remove ${wrong.length > 1 ? "them" : "it"}`,
      );
    }
  }
  if (format === "parquet") {
    const wrong = (["ignoreErrors", "dateFormat", "timestampFormat"] as const).filter(
      (k) => options[k] !== undefined,
    );
    if (wrong.length) {
      throw new ToolshedError(
        "invalid_input",
        `Parquet files carry their own types; reader options ${wrong.join(", ")} do not apply, remove them`,
      );
    }
    return { sql: "read_parquet(?)", params };
  }
  if (csv) {
    const delimiter = options.delimiter ?? (format === "tsv" ? "\t" : undefined);
    if (delimiter !== undefined) bind("delim", delimiter);
    if (options.header !== undefined) bind("header", options.header);
    if (options.quote !== undefined) bind("quote", options.quote);
    if (options.escape !== undefined) bind("escape", options.escape);
    if (options.encoding !== undefined) bind("encoding", options.encoding);
    if (options.skipRows !== undefined) bind("skip", options.skipRows);
    if (options.nullStrings !== undefined)
      bind("nullstr", JSON.stringify(options.nullStrings), "::JSON::VARCHAR[]");
    if (options.nullPadding !== undefined) bind("null_padding", options.nullPadding);
    if (options.decimalSeparator !== undefined) bind("decimal_separator", options.decimalSeparator);
    if (options.allVarchar !== undefined) bind("all_varchar", options.allVarchar);
    if (options.types !== undefined && Object.keys(options.types).length) {
      const fields = Object.entries(options.types).map(
        ([column, type]) => `${quoteLiteral(column)}: ${quoteLiteral(type.toUpperCase())}`,
      );
      args.push(`types = {${fields.join(", ")}}`);
    }
  } else {
    args.push(format === "json" ? "format = 'auto'" : "format = 'newline_delimited'");
  }
  if (options.ignoreErrors !== undefined) bind("ignore_errors", options.ignoreErrors);
  if (options.dateFormat !== undefined) bind("dateformat", options.dateFormat);
  if (options.timestampFormat !== undefined) bind("timestampformat", options.timestampFormat);
  return { sql: `${fn ?? (csv ? "read_csv" : "read_json")}(${args.join(", ")})`, params };
}

export const columnSchema = z.object({ name: z.string(), type: z.string() });

export const datasetInfoSchema = z.object({
  name: z.string(),
  source: z.string(),
  format: z.string(),
  rowCount: z.number(),
  rowCountEstimated: z
    .boolean()
    .optional()
    .describe(
      "rowCount is PostgreSQL's planner estimate (large tables are not counted on every listing); describe_dataset counts exactly.",
    ),
  columns: z.array(columnSchema),
  assumed: assumedSchema
    .optional()
    .describe("How the file was read (detected or given): check these, and pass options to change them."),
  notes: z
    .array(z.string())
    .optional()
    .describe("What the load noticed: NULLs per column, numbers kept as text, assumed date order."),
  declined: z
    .string()
    .optional()
    .describe("Set when the user did not confirm replacing: nothing changed, this is the dataset kept."),
});
export type DatasetInfo = z.output<typeof datasetInfoSchema>;

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
    /** How to read the file where DuckDB's detection is not wanted. */
    options?: ReaderOptions | undefined;
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
  const reader = readerSql(args.format, args.options);
  await checkShape(args, engine.loadTimeoutMs);
  const csv = args.format === "csv" || args.format === "tsv";
  const sniffed = csv ? await sniff(engine, args) : undefined;
  if (csv && !args.options?.allVarchar && sniffed) refuseOneColumnGuess(args, sniffed);
  try {
    await engine.runWithProgress(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${reader.sql}`, {
      params: [args.file, ...reader.params],
      onProgress,
      timeoutMs: engine.loadTimeoutMs,
      ...(args.signal ? { signal: args.signal } : {}),
    });
  } catch (e) {
    throw loadError(e, args, engine.loadTimeoutMs);
  }
  const info = await recordDataset(engine, { name: args.name, source: args.source, format: args.format });
  const notes = await loadNotes(engine, info, sniffed);
  if (sniffed) info.assumed = assumedFrom(sniffed, args.options ?? {}, args.format);
  if (notes.length) info.notes = notes;
  progress?.report(100, `loaded ${info.rowCount} rows in ${seconds()} s`);
  return info;
}

/** The longest line a text file may have: longer ones are a missing newline or an unclosed quote. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const shapeThread = new TaskThread("file check");

/**
 * The input-shape guard, before DuckDB sees a text file: JSON nested past MAX_JSON_DEPTH (which
 * wedges DuckDB's reader beyond its interrupts) and lines past MAX_LINE_BYTES are refused with what
 * to do. The scan runs on a worker thread.
 */
async function checkShape(
  args: LoadArgs & { signal?: AbortSignal | undefined },
  timeoutMs: number,
): Promise<void> {
  if (args.format === "parquet") return;
  const shape = await shapeThread.run(
    {
      op: "shape",
      file: args.file,
      format: args.format,
      maxDepth: MAX_JSON_DEPTH,
      maxLineBytes: args.format === "json" ? Number.MAX_SAFE_INTEGER : MAX_LINE_BYTES,
    },
    { timeoutMs, signal: args.signal },
  );
  if (shape.exceeded === "depth") {
    throw new ToolshedError(
      "invalid_input",
      `'${args.source}' nests JSON arrays or objects more than ${MAX_JSON_DEPTH} deep (line ${shape.line}), past what the reader loads safely; flatten the file, or store the deep parts as JSON strings`,
    );
  }
  if (shape.exceeded === "line") {
    throw new ToolshedError(
      "invalid_input",
      `'${args.source}' has a line longer than ${MAX_LINE_BYTES / 1048576} MiB (line ${shape.line}): ${
        args.format === "ndjson"
          ? "NDJSON holds one record per line; is it a JSON array (format: 'json')?"
          : "a missing line break or an unclosed quote; check the file, or pass options.quote"
      }`,
    );
  }
}

interface Sniffed {
  delimiter: string;
  quote: string;
  escape: string;
  header: boolean;
  skipRows: number;
  dateFormat: string | null;
  timestampFormat: string | null;
  columns: { name: string; type: string }[];
}

type LoadArgs = {
  file: string;
  format: Format;
  source: string;
  options?: ReaderOptions | undefined;
  signal?: AbortSignal | undefined;
};

/** DuckDB's own CSV detection (its sniffer) under the caller's options: what the load will assume. */
async function sniff(engine: DuckDBEngine, args: LoadArgs): Promise<Sniffed> {
  const { sql, params } = readerSql(args.format, args.options, "sniff_csv");
  let rows;
  try {
    ({ rows } = await engine.run(
      `SELECT Delimiter, Quote, Escape, HasHeader, SkipRows, DateFormat, TimestampFormat, to_json(Columns)::VARCHAR FROM ${sql}`,
      { params: [args.file, ...params], timeoutMs: engine.loadTimeoutMs },
    ));
  } catch (e) {
    throw loadError(e, args, engine.loadTimeoutMs);
  }
  const r = rows[0] ?? [];
  const shown = (v: unknown) => (v === "(empty)" ? "" : asText(v));
  return {
    delimiter: shown(r[0]),
    quote: shown(r[1]),
    escape: shown(r[2]),
    header: r[3] === true,
    skipRows: Number(r[4] ?? 0),
    dateFormat: r[5] === null || r[5] === undefined ? null : asText(r[5]),
    timestampFormat: r[6] === null || r[6] === undefined ? null : asText(r[6]),
    columns: JSON.parse(asText(r[7]) || "[]") as { name: string; type: string }[],
  };
}

const LIKELY_DELIMITERS = [",", ";", "\t", "|"];

/**
 * A CSV whose rows DuckDB could not split alike comes out as one text column named after the whole
 * header line ('id,name,amount'): loaded, but wrong. Refused, with the options that read it.
 */
function refuseOneColumnGuess(args: LoadArgs, sniffed: Sniffed): void {
  if (sniffed.columns.length !== 1 || args.options?.delimiter !== undefined) return;
  const name = sniffed.columns[0]!.name;
  const found = LIKELY_DELIMITERS.filter((d) => d !== sniffed.delimiter && name.includes(d));
  if (!found.length) return;
  const d = found[0]!;
  const shown = d === "\t" ? "\\t" : d;
  throw new ToolshedError(
    "invalid_input",
    `'${args.source}' did not split into columns: its header '${name.slice(0, 120)}' looks ${JSON.stringify(shown)}-separated, but DuckDB found no delimiter that splits every row alike (rows with too many or too few fields, or stray quotes), so it would read each line as one text column. Pass options { delimiter: ${JSON.stringify(d)}, nullPadding: true } to pad short rows with NULL, or { delimiter: ${JSON.stringify(d)}, ignoreErrors: true } to skip the rows that do not fit.`,
  );
}

/** What the load assumed: the caller's options where given, DuckDB's detection elsewhere. */
function assumedFrom(s: Sniffed, options: ReaderOptions, format: Format): Assumed {
  return {
    delimiter: s.delimiter || (format === "tsv" ? "\t" : ","),
    quote: s.quote,
    escape: s.escape,
    header: s.header,
    skipRows: s.skipRows,
    encoding: options.encoding ?? "utf-8",
    dateFormat: options.dateFormat ?? s.dateFormat,
    timestampFormat: options.timestampFormat ?? s.timestampFormat,
    nullStrings: options.nullStrings ?? [""],
    decimalSeparator: options.decimalSeparator ?? ".",
  };
}

/** Texts that often stand for a missing value in files written by people and spreadsheets. */
const NULL_LIKE = /^(NA|N\/A|n\/a|na|NaN|nan|null|NULL|None|none|-|--|\?|\.|#N\/A|missing|\s+)$/;

/**
 * Notes for the caller: NULLs per column, numbers kept as text (a decimal comma, or placeholders
 * like 'NA' among numbers) with the option that fixes each, and the date order DuckDB assumed.
 */
async function loadNotes(
  engine: DuckDBEngine,
  info: DatasetInfo,
  sniffed: Sniffed | undefined,
): Promise<string[]> {
  const notes: string[] = [];
  if (sniffed && !sniffed.header) {
    notes.push(
      "no header line detected: columns are named column0, column1, …; pass options { header: true } if the first line holds names",
    );
  }
  for (const [what, format] of [
    ["dates", sniffed?.dateFormat],
    ["timestamps", sniffed?.timestampFormat],
  ] as const) {
    if (format)
      notes.push(
        `${what} read with format '${format}'; pass options.${what === "dates" ? "dateFormat" : "timestampFormat"} if the file means another order`,
      );
  }
  const json = info.columns.filter((c) => c.type === "JSON").map((c) => `'${c.name}'`);
  if (json.length) {
    notes.push(
      `column${json.length > 1 ? "s" : ""} ${json.join(", ")} read as JSON: compare the text with col::VARCHAR = '…', or read fields with col->>'$.field'`,
    );
  }
  const columns = info.columns.slice(0, 200);
  if (!columns.length || info.rowCount === 0) return notes;
  const table = quoteIdent(info.name);
  const text = columns.filter((c) => c.type === "VARCHAR").slice(0, 50);
  const selects = [
    ...columns.map((c) => `count(*) - count(${quoteIdent(c.name)})`),
    ...text.flatMap((c) => {
      const col = quoteIdent(c.name);
      return [
        `count(${col})`,
        `count(TRY_CAST(${col} AS DOUBLE))`,
        `count(TRY_CAST(replace(${col}, ',', '.') AS DOUBLE)) FILTER (WHERE ${col} SIMILAR TO '-?[0-9]+,[0-9]+')`,
        `count(*) FILTER (WHERE TRY_CAST(${col} AS DOUBLE) IS NULL AND ${col} IS NOT NULL AND regexp_full_match(${col}, ?))`,
      ];
    }),
  ];
  const { rows } = await engine.run(`SELECT ${selects.join(", ")} FROM ${table}`, {
    params: text.map(() => NULL_LIKE.source),
    timeoutMs: engine.loadTimeoutMs,
  });
  const r = rows[0] ?? [];
  const nulls = columns
    .map((c, i) => [c.name, Number(r[i] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`);
  if (nulls.length) notes.push(`NULLs of ${info.rowCount} rows: ${nulls.join(", ")}`);
  text.forEach((c, j) => {
    const at = (k: number) => Number(r[columns.length + 4 * j + k] ?? 0);
    const [present, numeric, comma, nullLike] = [at(0), at(1), at(2), at(3)];
    if (!present) return;
    if (comma > 0 && numeric + comma + nullLike >= present * 0.9) {
      notes.push(
        `column '${c.name}' kept as text: it holds numbers with a decimal comma (e.g. '1,5'); pass options { decimalSeparator: ',' } to read them as numbers`,
      );
    } else if (nullLike > 0 && numeric > 0 && numeric + nullLike === present) {
      notes.push(
        `column '${c.name}' kept as text: its numbers sit among placeholders like 'NA' or '-' (${nullLike} cells); pass options { nullStrings: [...] } with them to read the column as numbers`,
      );
    }
  });
  return notes;
}

/** A load's failure as advice that fits loads: its own time limit, and the reader options that help. */
function loadError(e: unknown, args: LoadArgs, timeoutMs: number): ToolshedError {
  if (e instanceof ToolshedError) {
    if (e.code === "timeout" && /time limit/.test(e.message)) {
      return new ToolshedError(
        "timeout",
        `loading '${args.source}' stopped after ${timeoutMs} ms (the load time limit, --load-timeout-ms, separate from the query limit); have the operator raise --load-timeout-ms, or load a smaller file or a Parquet copy of it`,
      );
    }
    return e;
  }
  // The local path (a temp download, the data dir) means nothing to the caller; the source does.
  const said = engineMessage(e).replaceAll(args.file, args.source);
  const advice = /unicode|not utf-8|encoding/i.test(said)
    ? "; the file is not UTF-8: pass options { encoding: 'latin-1' } (or 'utf-16')"
    : /Expected Number of Columns|null_padding|sniffing file/i.test(said)
      ? "; pass options (delimiter, nullPadding: true, ignoreErrors: true) to read it"
      : "";
  return new ToolshedError(
    "invalid_input",
    `could not read '${args.source}' as ${args.format}${advice}. DuckDB said: ${said}`,
  );
}

/** Records a table (already created) in the catalog with its columns and row count. */
export async function recordDataset(
  engine: DuckDBEngine,
  args: { name: string; source: string; format: string },
): Promise<DatasetInfo> {
  const columns = await tableColumns(engine, args.name);
  // Part of a load (or a transform's write): under the load time limit, not the query limit.
  const count = await engine.run(`SELECT count(*) FROM ${quoteIdent(args.name)}`, {
    timeoutMs: engine.loadTimeoutMs,
  });
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
/**
 * The dataset named `name`. Given a handler's context, a name that matches none but resembles some
 * (another case, a prefix, a part) asks the person which one they meant, and the answer's dataset is
 * returned (callers use `info.name` from then on); without an answer, the error names the candidates.
 */
export async function getDataset(
  engine: Engine,
  name: string,
  ctx?: Pick<Asking, "choose">,
): Promise<DatasetInfo> {
  const found = await engine.findDataset(name);
  if (found) return found;
  const candidates = ctx
    ? similarNames(
        name,
        (await engine.listDatasets()).map((d) => d.name),
      )
    : [];
  if (candidates.length === 0) {
    throw new ToolshedError("not_found", `dataset '${name}' not found; call list_datasets`);
  }
  const pick = await ctx!.choose(`There is no dataset '${name}'. Which one did you mean?`, candidates);
  if (pick.action === "accept") return getDataset(engine, pick.value);
  throw new ToolshedError(
    "not_found",
    `dataset '${name}' not found; did you mean ${candidates.map((c) => `'${c}'`).join(", ")}?`,
  );
}

/**
 * Before `replace` overwrites an existing dataset, asks a person to confirm (`ctx.confirm`, honouring
 * --confirm). Returns the dataset kept, marked declined, when they did not; undefined to go ahead.
 */
export async function confirmReplace(
  engine: Engine,
  ctx: Pick<Asking, "confirm">,
  args: { name: string; replace: boolean; by: string },
): Promise<DatasetInfo | undefined> {
  if (!args.replace) return undefined;
  const existing = await engine.findDataset(args.name);
  if (!existing) return undefined;
  const rows = `${existing.rowCount} rows, ${existing.columns.length} columns, from ${existing.source}`;
  const confirmed = await ctx.confirm(
    `Replace dataset '${args.name}' (${rows}) with ${args.by}? Its current rows are dropped.`,
  );
  if (confirmed) return undefined;
  return {
    ...existing,
    declined: `Nothing was done: the user did not confirm replacing dataset '${args.name}' (${rows}); it is unchanged. Do not retry unless the user asks again.`,
  };
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
