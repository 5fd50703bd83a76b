/** The tasks the analytics worker thread runs (analytics-worker.ts), and what each answers. */
export type TaskRequest =
  | {
      op: "shape";
      file: string;
      format: "json" | "ndjson" | "csv" | "tsv";
      maxDepth: number;
      maxLineBytes: number;
    }
  | { op: "chart"; spec: unknown };

export interface ShapeReport {
  /** Deepest nesting of JSON arrays and objects (0 for CSV/TSV). */
  depth: number;
  /** Longest line in bytes. */
  longestLine: number;
  /** 1-based line where a limit was first passed, when one was. */
  line?: number;
  exceeded?: "depth" | "line";
}

export interface TaskResult {
  shape: ShapeReport;
  chart: { svg: string; png: Uint8Array };
}
