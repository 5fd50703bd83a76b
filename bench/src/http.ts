#!/usr/bin/env node
/**
 * pnpm bench:http [--quick | --smoke] [--out <dir>]
 *
 * GET throughput and latency of `@toolshed/http-client` against raw `undici.request` and Node's
 * global `fetch`, on a small JSON document from a loopback node:http upstream in a child process,
 * in one run. Writes <out>/results/http.json and the http section of <out>/RESULTS.md; <out> is
 * this package's folder by default.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import { CLIENTS } from "./http/clients.js";
import { figuresOf, PLANS, runHttp, type Mode, type Plan, type Samples } from "./http/run.js";

const TARGET_VS_UNDICI = 0.9;
const TARGET_VS_FETCH = 1;

const LABELS = {
  toolshed: "`@toolshed/http-client` (defaults)",
  undici: "raw `undici.request` + `body.json()`",
  fetch: "global `fetch` + `res.json()`",
} as const;

function verdict(value: number, target: number, strict: boolean): string {
  const met = strict ? value > target : value >= target;
  return `${strict ? ">" : ">="} ${target}: ${met ? "met" : "missed"}`;
}

function section({ figures, samples, plan, mode, date, machine }: Report<Plan, Samples>): string {
  const rows = CLIENTS.map((name) => [
    LABELS[name],
    String(figures[`${name}_calls_per_s`]),
    String(figures[`${name}_p50_ms`]),
    String(figures[`${name}_p99_ms`]),
    String(figures[`${name}_client_cpu_us_per_call`]),
  ]);
  const ratios = [
    [
      "`throughput_ratio_vs_undici`",
      String(figures.throughput_ratio_vs_undici),
      verdict(figures.throughput_ratio_vs_undici!, TARGET_VS_UNDICI, false),
    ],
    [
      "`throughput_ratio_vs_fetch`",
      String(figures.throughput_ratio_vs_fetch),
      verdict(figures.throughput_ratio_vs_fetch!, TARGET_VS_FETCH, true),
    ],
    [
      "`client_cpu_per_call_ratio_vs_undici`",
      String(figures.client_cpu_per_call_ratio_vs_undici),
      "lower is better",
    ],
  ];
  const spread =
    `vs undici ${samples.pair_throughput_ratios.vs_undici.join(", ")}; ` +
    `vs fetch ${samples.pair_throughput_ratios.vs_fetch.join(", ")}`;
  return [
    "## http: outbound GET throughput and latency, `@toolshed/http-client` vs undici and fetch",
    "",
    `\`pnpm bench:http\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
      `and ${machine.loadavg_1m_end} at end.`,
    "",
    `GET of a small JSON document (about 500 bytes) from a loopback \`node:http\` upstream in a child process, ` +
      `${plan.concurrency} requests in flight for every client, each client on its own keep-alive pool, ` +
      `${plan.rounds} rounds of ${plan.roundMs / 1000} s per client after warm-up, the clients alternating. ` +
      "Every call decodes the JSON and checks it. Every figure is the median of the rounds.",
    "",
    markdownTable(["client", "calls/s", "p50 ms", "p99 ms", "client CPU us/call"], rows),
    "",
    markdownTable(["figure", "value", "target"], ratios),
    "",
    `Throughput ratio of each round: ${spread}. Raw per-round numbers: \`results/http.json\`.`,
  ].join("\n");
}

function summary(figures: Record<string, number>, mode: Mode): string {
  const lines = [`http benchmark (${mode}; medians of rounds)`];
  for (const name of CLIENTS) {
    lines.push(
      `  ${name.padEnd(8)} ${figures[`${name}_calls_per_s`]} calls/s (p50 ${figures[`${name}_p50_ms`]} ms, ` +
        `p99 ${figures[`${name}_p99_ms`]} ms, client CPU ${figures[`${name}_client_cpu_us_per_call`]} us/call)`,
    );
  }
  const vsUndici = figures.throughput_ratio_vs_undici!;
  const vsFetch = figures.throughput_ratio_vs_fetch!;
  lines.push(
    `  throughput_ratio_vs_undici ${vsUndici} (${verdict(vsUndici, TARGET_VS_UNDICI, false)}), ` +
      `throughput_ratio_vs_fetch ${vsFetch} (${verdict(vsFetch, TARGET_VS_FETCH, true)})`,
  );
  return `${lines.join("\n")}\n`;
}

runBenchmark({ name: "http", plans: PLANS, run: runHttp, figures: figuresOf, section, summary });
