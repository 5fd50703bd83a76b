import { z } from "@toolshed/server";
import { parseAllowedBase } from "./downloads.js";
import { DUCKDB_SIZE } from "./resource-limits.js";

/**
 * The most row data one answer may carry: with the text summary and JSON framing an answer stays
 * well under the ~5 MiB that stdio clients take in one message.
 */
export const MAX_ROW_BYTES = 2 * 1024 * 1024;

export const configSchema = z.object({
  dataDir: z
    .string()
    .default("./data")
    .describe("Where DuckDB's database file and registered datasets live; created if missing."),
  allowDir: z
    .array(z.string())
    .default([])
    .describe("Roots that register_dataset may read files from (repeatable); the data dir when empty."),
  allowUrl: z
    .array(
      z.string().superRefine((value, ctx) => {
        try {
          parseAllowedBase(value);
        } catch (e) {
          ctx.addIssue({ code: "custom", message: (e as Error).message });
        }
      }),
    )
    .default([])
    .describe(
      "Base URLs register_dataset may download from (repeatable), e.g. https://data.example.org/public/; https only (plain http on loopback). None: downloads are off.",
    ),
  maxDownloadBytes: z
    .number()
    .int()
    .min(1024)
    .default(512 * 1024 * 1024)
    .describe("Largest file register_dataset downloads (default 512 MiB)."),
  downloadTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .default(300_000)
    .describe("Longest a download may take, retries included (default 5 minutes)."),
  maxRows: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe("Most rows one query answer (a page) carries (cap 10,000); the rest is paged with its cursor."),
  maxBytes: z
    .number()
    .int()
    .min(1024)
    .max(
      MAX_ROW_BYTES,
      `at most ${MAX_ROW_BYTES} (2 MiB): bigger answers break stdio clients; the rest of a result is paged with query's cursor, or written out with export_dataset`,
    )
    .default(256 * 1024)
    .describe(
      "Most bytes of row data one query answer carries (at most 2 MiB, and never more than half the transport's message limit); further rows go to the next page, longer cells are cut.",
    ),
  cursorMaxRows: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(2_000)
    .describe(
      "Most rows of one query result the server keeps for paging with `cursor` (default 2,000, at most 100,000); a longer result pages that far and says so.",
    ),
  cursorTtlMs: z
    .number()
    .int()
    .min(100)
    .default(600_000)
    .describe("How long a result kept for paging can be read after its query (default 10 minutes)."),
  queryTimeoutMs: z
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe("A query still running after this many milliseconds is interrupted."),
  loadTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .default(600_000)
    .describe(
      "A file load (register_dataset, load_inline_dataset) still running after this many milliseconds is interrupted; separate from the query limit (default 10 minutes).",
    ),
  // DuckDB resources (engine host); see resource-limits.ts for the defaults.
  memoryLimit: z
    .string()
    .regex(DUCKDB_SIZE, "a size such as 512MB, 2GB or 1.5GiB")
    .optional()
    .describe(
      "Most memory DuckDB may use (e.g. 2GB); beyond it, it spills to the temp directory or fails the statement. Default: half the machine's memory, at most 1GB.",
    ),
  threads: z
    .number()
    .int()
    .min(1)
    .max(256)
    .optional()
    .describe("Threads DuckDB runs a statement on. Default: the number of CPU cores."),
  maxTempDirectorySize: z
    .string()
    .regex(DUCKDB_SIZE, "a size such as 512MB, 2GB or 1.5GiB")
    .default("4GB")
    .describe("Most disk DuckDB may spill to in <data-dir>/.tmp when a statement outgrows memory."),
  // End of DuckDB resources.
  postgresUrl: z
    .string()
    .optional()
    .describe(
      "Connect to this PostgreSQL database (postgres://user@host/db) instead of embedded DuckDB; read-only.",
    ),
  postgresSchema: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/))
    .default(["public"])
    .describe("PostgreSQL schemas whose tables and views are datasets (repeatable); 'public' by default."),
  postgresPoolSize: z
    .number()
    .int()
    .min(1)
    .max(50)
    .default(4)
    .describe("Most PostgreSQL connections open at once."),
  postgresAllowPrivilegedRole: z
    .boolean()
    .default(false)
    .describe(
      "Query PostgreSQL even as a superuser or a role that can write (refused by default: a model's SQL runs as this role).",
    ),
});

export type Config = z.output<typeof configSchema>;
