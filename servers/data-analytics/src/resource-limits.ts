import { availableParallelism, totalmem } from "node:os";

/** A size as DuckDB's settings take it: a number and a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB). */
export const DUCKDB_SIZE = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/** The default memory limit: half the machine's memory, at most 1 GB (DuckDB's own is 80%). */
const DEFAULT_MEMORY_CEILING_MB = 1024;

export interface ResourceLimits {
  memoryLimit: string;
  threads: number;
  maxTempDirectorySize: string;
}

/** DuckDB's memory, thread and spill limits: the configured ones, or bounded defaults. */
export function resolveResourceLimits(config: {
  memoryLimit?: string | undefined;
  threads?: number | undefined;
  maxTempDirectorySize: string;
}): ResourceLimits {
  const halfMb = Math.floor(totalmem() / 2 / 1024 / 1024);
  return {
    memoryLimit: config.memoryLimit ?? `${Math.min(DEFAULT_MEMORY_CEILING_MB, halfMb)}MB`,
    threads: config.threads ?? availableParallelism(),
    maxTempDirectorySize: config.maxTempDirectorySize,
  };
}
