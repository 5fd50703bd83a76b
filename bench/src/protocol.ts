#!/usr/bin/env node
/**
 * pnpm bench:protocol [--quick | --smoke] [--out <dir>]
 *
 * tools/call throughput and latency, the kit (fixture server, logging and metrics on) against a
 * bare SDK McpServer, over Streamable HTTP and stdio, in one run. Writes <out>/results/protocol.json
 * and the protocol section of <out>/RESULTS.md; <out> is this package's folder by default.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import {
  figuresOf,
  PLANS,
  runProtocol,
  TRANSPORTS,
  type Mode,
  type Plan,
  type Samples,
} from "./protocol/run.js";

const TARGET_RATIO = 0.9;

function section({ figures, samples, plan, mode, date, machine }: Report<Plan, Samples>): string {
  const rows: string[][] = [];
  for (const transport of TRANSPORTS) {
    for (const side of ["kit", "sdk"] as const) {
      const p = `${transport}_${side}`;
      const cpu = figures[`${p}_server_cpu_us_per_call`];
      rows.push([
        transport === "http" ? "HTTP" : "stdio",
        side === "kit" ? "kit (logging + metrics)" : "bare SDK McpServer",
        String(figures[`${p}_calls_per_s`]),
        String(figures[`${p}_p50_ms`]),
        String(figures[`${p}_p99_ms`]),
        cpu === undefined ? "n/a" : String(cpu),
      ]);
    }
  }
  const ratios = TRANSPORTS.map((t) => {
    const name = `${t}_throughput_ratio_vs_sdk`;
    const value = figures[name]!;
    const verdict = value >= TARGET_RATIO ? "met" : "missed";
    return [`\`${name}\``, String(value), `>= ${TARGET_RATIO}: ${verdict}`];
  });
  const spread = TRANSPORTS.map((t) => `${t} ${samples[t].pair_throughput_ratios.join(", ")}`).join("; ");
  return [
    "## protocol: tools/call throughput and latency, kit vs bare SDK",
    "",
    `\`pnpm bench:protocol\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
      `and ${machine.loadavg_1m_end} at end.`,
    "",
    `The \`echo\` tool called through the SDK client, ${plan.concurrency} calls in flight (HTTP: over ` +
      `${plan.httpSessions} sessions; stdio: pipelined on one pipe), ${plan.rounds} rounds of ` +
      `${plan.roundMs / 1000} s per server after warm-up, kit and SDK alternating. Both servers are child ` +
      "processes: the kit's fixture server with its default logging (info) and metrics, and a bare " +
      "`McpServer` (`src/baseline/sdk-server.ts`). Every figure is the median of the rounds.",
    "",
    markdownTable(["transport", "server", "calls/s", "p50 ms", "p99 ms", "server CPU us/call"], rows),
    "",
    markdownTable(["figure", "value", "target"], ratios),
    "",
    `Kit/SDK throughput ratio of each round pair: ${spread}. Raw per-round numbers: \`results/protocol.json\`.`,
  ].join("\n");
}

function summary(figures: Record<string, number>, mode: Mode): string {
  const lines = [`protocol benchmark (${mode}; medians of rounds)`];
  for (const t of TRANSPORTS) {
    const ratio = figures[`${t}_throughput_ratio_vs_sdk`]!;
    lines.push(
      `  ${t.padEnd(5)} kit ${figures[`${t}_kit_calls_per_s`]} calls/s (p50 ${figures[`${t}_kit_p50_ms`]} ms, ` +
        `p99 ${figures[`${t}_kit_p99_ms`]} ms) vs SDK ${figures[`${t}_sdk_calls_per_s`]} calls/s ` +
        `(p50 ${figures[`${t}_sdk_p50_ms`]} ms, p99 ${figures[`${t}_sdk_p99_ms`]} ms): ` +
        `${t}_throughput_ratio_vs_sdk ${ratio} ${ratio >= TARGET_RATIO ? "(>= 0.9, met)" : "(< 0.9, missed)"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

runBenchmark({ name: "protocol", plans: PLANS, run: runProtocol, figures: figuresOf, section, summary });
