#!/usr/bin/env node
/**
 * pnpm bench:analytics [--quick | --smoke] [--out <dir>]
 *
 * The data-analytics server against DuckDB itself: a generated events table (10M rows; quick 1M)
 * written as Parquet and CSV, loaded through register_dataset, then a group-by aggregate and a
 * filtered top-k through tools/call on the server (a child over stdio) versus the same SQL on
 * @duckdb/node-api in this process, alternating, in one run. Writes <out>/results/analytics.json
 * and the analytics section of <out>/RESULTS.md.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import {
  figuresOf,
  PLANS,
  QUERIES,
  runAnalytics,
  type Mode,
  type Plan,
  type Samples,
} from "./analytics/run.js";

const TARGET_RATIO = 0.95;
/** The most the server may cost over a bare SDK server (call floor, cold start). */
const TARGET_OVERHEAD = 1.5;

const verdict = (value: number) => (value >= TARGET_RATIO ? "met" : "missed");
const overheadVerdict = (value: number) => (value <= TARGET_OVERHEAD ? "met" : "missed");

function section({ figures, samples, plan, mode, date, machine }: Report<Plan, Samples>): string {
  const ratios = ["groupby_ratio_vs_duckdb", "topk_ratio_vs_duckdb"].map((name) => [
    `\`${name}\``,
    String(figures[name]),
    `>= ${TARGET_RATIO}: ${verdict(figures[name]!)}`,
  ]);
  const overheads = [
    ["call_floor_ratio_vs_sdk", `${figures.call_floor_kit_ms} ms vs ${figures.call_floor_sdk_ms} ms`],
    [
      "call_floor_fresh_ratio_vs_sdk",
      `${figures.call_floor_fresh_kit_ms} ms vs ${figures.call_floor_sdk_ms} ms`,
    ],
    ["coldstart_ratio_vs_sdk", `${figures.coldstart_kit_ms} ms vs ${figures.coldstart_sdk_ms} ms`],
  ].map(([name, detail]) => [
    `\`${name}\``,
    String(figures[name!]),
    `<= ${TARGET_OVERHEAD}: ${overheadVerdict(figures[name!]!)} (${detail})`,
  ]);
  return [
    "## analytics: data-analytics server vs DuckDB directly",
    "",
    `\`pnpm bench:analytics\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
      `and ${machine.loadavg_1m_end} at end.`,
    "",
    `A generated table of ${plan.rows.toLocaleString("en")} rows (id, category of 100, store of 1000, day, ` +
      `amount) as Parquet (${mib(samples.parquet_bytes)}) and CSV (${mib(samples.csv_bytes)}). The server ` +
      "(the built bin, a child over stdio, SDK client) loads both with `register_dataset`; the benchmark " +
      "process loads the same Parquet into its own DuckDB file with `@duckdb/node-api`. Then each query " +
      `runs through \`tools/call\` \`query\` and directly, alternating which side goes first, ${plan.rounds} ` +
      "rounds after a warm-up; figures are medians. The ratio is direct time over server time (the " +
      "server's throughput as a fraction of DuckDB's). The overhead ratios set the server against the " +
      "bare SDK server (`src/baseline/sdk-server.ts`) over the same stdio transport: " +
      "`call_floor_ratio_vs_sdk` is a `query` of `SELECT 1` over an `echo` call, and " +
      "`call_floor_fresh_ratio_vs_sdk` a `query` of `SELECT <n>` with a new n each call (a statement " +
      "the engine host's parse cache has not seen) over the same `echo` calls, alternating, " +
      `${plan.floorCalls} calls each; \`coldstart_ratio_vs_sdk\` is spawn to initialize result (the ` +
      `server on a fresh data dir), ${plan.coldStarts} spawns each. Both are server time over SDK time.`,
    "",
    markdownTable(
      ["query", "server ms", "DuckDB direct ms", "SQL"],
      (Object.keys(QUERIES) as (keyof typeof QUERIES)[]).map((q) => [
        q,
        String(figures[`${q}_kit_ms`]),
        String(figures[`${q}_direct_ms`]),
        `\`${QUERIES[q]}\``,
      ]),
    ),
    "",
    markdownTable(
      ["figure", "value", "target"],
      [
        ...ratios,
        ...overheads,
        ["`load_rows_per_s`", String(figures.load_rows_per_s), "register_dataset of the CSV"],
        [
          "`load_parquet_rows_per_s`",
          String(figures.load_parquet_rows_per_s),
          "register_dataset of the Parquet",
        ],
        ["`peak_rss_mb`", String(figures.peak_rss_mb), "server peak RSS (VmHWM), MiB"],
      ],
    ),
    "",
    `Per-round times: server groupby ${samples.kit_ms.groupby.join(", ")}; direct groupby ` +
      `${samples.direct_ms.groupby.join(", ")}; server topk ${samples.kit_ms.topk.join(", ")}; direct topk ` +
      `${samples.direct_ms.topk.join(", ")} (ms). Raw numbers: \`results/analytics.json\`.`,
  ].join("\n");
}

function summary(figures: Record<string, number>, mode: Mode): string {
  return (
    [
      `analytics benchmark (${mode}; ${figures.rows} rows; medians of rounds)`,
      `  groupby server ${figures.groupby_kit_ms} ms vs DuckDB ${figures.groupby_direct_ms} ms: groupby_ratio_vs_duckdb ${figures.groupby_ratio_vs_duckdb} (${verdict(figures.groupby_ratio_vs_duckdb!)})`,
      `  topk    server ${figures.topk_kit_ms} ms vs DuckDB ${figures.topk_direct_ms} ms: topk_ratio_vs_duckdb ${figures.topk_ratio_vs_duckdb} (${verdict(figures.topk_ratio_vs_duckdb!)})`,
      `  call floor server ${figures.call_floor_kit_ms} ms vs bare SDK ${figures.call_floor_sdk_ms} ms: call_floor_ratio_vs_sdk ${figures.call_floor_ratio_vs_sdk} (${overheadVerdict(figures.call_floor_ratio_vs_sdk!)})`,
      `  call floor, a new statement each call, server ${figures.call_floor_fresh_kit_ms} ms: call_floor_fresh_ratio_vs_sdk ${figures.call_floor_fresh_ratio_vs_sdk} (${overheadVerdict(figures.call_floor_fresh_ratio_vs_sdk!)})`,
      `  cold start server ${figures.coldstart_kit_ms} ms vs bare SDK ${figures.coldstart_sdk_ms} ms: coldstart_ratio_vs_sdk ${figures.coldstart_ratio_vs_sdk} (${overheadVerdict(figures.coldstart_ratio_vs_sdk!)})`,
      `  load_rows_per_s ${figures.load_rows_per_s} (CSV), peak_rss_mb ${figures.peak_rss_mb}`,
    ].join("\n") + "\n"
  );
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

runBenchmark({
  name: "analytics",
  plans: PLANS,
  run: runAnalytics,
  figures: figuresOf,
  section,
  summary,
});
