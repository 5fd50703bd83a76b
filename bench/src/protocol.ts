#!/usr/bin/env node
/**
 * pnpm bench:protocol [--quick | --smoke] [--out <dir>]
 *
 * tools/call throughput and latency, the kit (fixture server, logging and metrics on) against a
 * bare SDK v2 server, over Streamable HTTP and stdio, in both protocol eras (2026-07-28 stateless,
 * 2025-11-25 sessionful), in one run. Writes <out>/results/protocol.json and the protocol section of
 * <out>/RESULTS.md; <out> is this package's folder by default.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import {
  figuresOf,
  LANES,
  PLANS,
  runProtocol,
  SIDES,
  TRANSPORTS,
  type Lane,
  type Mode,
  type Plan,
  type Samples,
} from "./protocol/run.js";

const TARGET_RATIO = 0.9;

const LANE_NAMES: Record<Lane, [string, string]> = {
  http_2026: ["HTTP", "2026-07-28 (stateless)"],
  http_2025: ["HTTP", "2025-11-25 (sessions)"],
  stdio_2026: ["stdio", "2026-07-28"],
  stdio_2025: ["stdio", "2025-11-25"],
};

function section({ figures, samples, plan, mode, date, machine }: Report<Plan, Samples>): string {
  const rows: string[][] = [];
  for (const lane of LANES) {
    for (const side of SIDES) {
      const p = `${lane}_${side}`;
      const cpu = figures[`${p}_server_cpu_us_per_call`];
      rows.push([
        ...LANE_NAMES[lane],
        side === "kit" ? "kit (logging + metrics)" : "bare SDK v2",
        String(figures[`${p}_calls_per_s`]),
        String(figures[`${p}_p50_ms`]),
        String(figures[`${p}_p99_ms`]),
        cpu === undefined ? "n/a" : String(cpu),
      ]);
    }
  }
  const ratios = LANES.map((lane) => {
    const name = `${lane}_ratio_vs_bare`;
    const value = figures[name]!;
    return [`\`${name}\``, String(value), `>= ${TARGET_RATIO}: ${value >= TARGET_RATIO ? "met" : "missed"}`];
  });
  for (const t of TRANSPORTS) {
    for (const suffix of ["", "_bare"]) {
      const name = `${t}_2026_vs_2025_throughput${suffix}`;
      ratios.push([`\`${name}\``, String(figures[name]), "reported"]);
    }
  }
  const spread = LANES.map((lane) => `${lane} ${samples[lane].pair_throughput_ratios.join(", ")}`).join("; ");
  return [
    "## protocol: tools/call throughput and latency, kit vs bare SDK, both protocol eras",
    "",
    `\`pnpm bench:protocol\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
      `and ${machine.loadavg_1m_end} at end.`,
    "",
    `The \`echo\` tool called through the SDK v2 client, ${plan.concurrency} calls in flight (HTTP: over ` +
      `${plan.httpSessions} clients, on 2025 one session each; stdio: pipelined on one pipe), ` +
      `${plan.rounds} rounds of ${plan.roundMs / 1000} s per server and era after warm-up, the targets ` +
      "taking turns. 2026-07-28 clients are pinned to that revision (`versionNegotiation`), no session; " +
      "2025-11-25 clients open with `initialize`. Both servers are child processes serving both eras: the " +
      "kit's fixture server with its default logging (info) and metrics, and a bare SDK v2 `McpServer` " +
      "(`src/baseline/sdk-server.ts`: `createMcpHandler` for 2026 beside sessionful " +
      "`NodeStreamableHTTPServerTransport`s for 2025 on node:http, `serveStdio` on stdio). Every figure " +
      "is the median of the rounds.",
    "",
    markdownTable(["transport", "era", "server", "calls/s", "p50 ms", "p99 ms", "server CPU us/call"], rows),
    "",
    markdownTable(["figure", "value", "target"], ratios),
    "",
    `Kit/bare throughput ratio of each round pair: ${spread}. Raw per-round numbers: \`results/protocol.json\`.`,
  ].join("\n");
}

function summary(figures: Record<string, number>, mode: Mode): string {
  const lines = [`protocol benchmark (${mode}; medians of rounds)`];
  for (const lane of LANES) {
    const ratio = figures[`${lane}_ratio_vs_bare`]!;
    lines.push(
      `  ${lane.padEnd(10)} kit ${figures[`${lane}_kit_calls_per_s`]} calls/s (p50 ${figures[`${lane}_kit_p50_ms`]} ms, ` +
        `p99 ${figures[`${lane}_kit_p99_ms`]} ms) vs bare ${figures[`${lane}_bare_calls_per_s`]} calls/s ` +
        `(p50 ${figures[`${lane}_bare_p50_ms`]} ms, p99 ${figures[`${lane}_bare_p99_ms`]} ms): ` +
        `${lane}_ratio_vs_bare ${ratio} ${ratio >= TARGET_RATIO ? "(>= 0.9, met)" : "(< 0.9, missed)"}`,
    );
  }
  for (const t of TRANSPORTS) {
    lines.push(
      `  ${t}_2026_vs_2025_throughput ${figures[`${t}_2026_vs_2025_throughput`]} ` +
        `(bare: ${figures[`${t}_2026_vs_2025_throughput_bare`]})`,
    );
  }
  return `${lines.join("\n")}\n`;
}

runBenchmark({ name: "protocol", plans: PLANS, run: runProtocol, figures: figuresOf, section, summary });
