#!/usr/bin/env node
/**
 * pnpm reliability [--quick | --smoke] [--soak | --fuzz] [--servers a,b] [--out <dir>]
 *
 * Protocol fuzzing over stdio and HTTP, load, faults and the attack suite against every server in
 * reliability/targets.ts (or only those `--servers` names). Writes <out>/results/reliability.json and the reliability section of
 * <out>/RESULTS.md (with --soak: the ten-minute soak instead, as reliability-soak; with --fuzz: only
 * the fuzzing, as reliability-fuzz, which `pnpm test` runs at the full count). Exits 1 when a figure
 * that must be zero is not.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import { SOAK_FD_TOLERANCE, SOAK_RSS_TOLERANCE_MIB } from "./reliability/soak.js";
import {
  figuresOf,
  FUZZ_PLANS,
  HTTP_BODY_CAP_BYTES,
  PLANS,
  runReliability,
  selectServers,
  SOAK_PLANS,
  STDIO_BIG_LINE_BYTES,
  type Mode,
  type Plan,
  type Samples,
} from "./reliability/run.js";

/** The figures the issue requires to be zero. */
const MUST_BE_ZERO = [
  "crashes",
  "unanswered_requests",
  "stdout_non_protocol_bytes",
  "load_errors",
  "attacks_not_refused",
];

function runLine({ mode, date, machine }: Report<Plan, Samples>, command: string): string {
  return (
    `\`${command}\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
    `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
    `and ${machine.loadavg_1m_end} at end.`
  );
}

function fuzzTables({ samples, plan }: Report<Plan, Samples>): string[] {
  const rows = samples.fuzz.map((f) => [
    f.target,
    f.transport,
    String(f.messages_sent),
    String(f.requests_expecting_answer),
    String(f.messages_per_s),
    String(f.unanswered_requests),
    String(f.crashes),
    String(f.stdout_non_protocol_bytes),
  ]);
  return [
    `### Protocol fuzzing (seed ${plan.fuzz.seed}, up to ${plan.fuzz.messages} messages or ${plan.fuzz.timeMs / 1000} s per transport)`,
    "",
    `Mutated and random JSON-RPC, one ${STDIO_BIG_LINE_BYTES / 1e6} MB line on stdio and one body of ` +
      `${HTTP_BODY_CAP_BYTES + 1} bytes (over the cap) on HTTP. "requests" are the messages that are valid ` +
      "JSON-RPC requests by the SDK's schema, each of which must be answered with its id (HTTP: or a JSON-RPC error).",
    "",
    markdownTable(
      [
        "server",
        "transport",
        "messages",
        "requests",
        "msg/s",
        "unanswered",
        "crashes",
        "non-protocol stdout bytes",
      ],
      rows,
    ),
  ];
}

function zeroTable(figures: Record<string, number>, names: readonly string[]): string {
  return markdownTable(
    ["figure", "value", "target"],
    names.map((name) => [`\`${name}\``, String(figures[name]), figures[name] === 0 ? "0: met" : "0: MISSED"]),
  );
}

function section(report: Report<Plan, Samples>): string {
  const { figures, samples, plan } = report;
  const loadRows = samples.load.map((l) => [
    l.target,
    String(l.sessions),
    String(l.seconds),
    String(l.calls_per_s),
    String(l.p50_ms),
    String(l.p99_ms),
    String(l.errors),
    `${l.rss_before_mib} -> ${l.rss_after_mib}`,
  ]);
  const faultRows = samples.faults.map((f) => [
    f.target,
    f.name,
    f.passed ? "passed" : "FAILED",
    Object.entries(f.details)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(", "),
  ]);
  const attackRows = samples.attacks.map((a) => [a.target, a.name, a.refused ? "refused" : "NOT REFUSED"]);
  return [
    "## reliability: fuzzing, load, faults and attacks",
    "",
    runLine(report, "pnpm reliability"),
    "",
    zeroTable(figures, MUST_BE_ZERO),
    "",
    ...fuzzTables(report),
    "",
    "### Load (SDK clients over Streamable HTTP, each server's first safe call in a closed loop)",
    ...(plan.concurrent
      ? [
          "",
          "This pass ran the servers side by side, so they shared the CPUs: read the rates as a smoke check.",
        ]
      : []),
    "",
    markdownTable(
      ["server", "sessions", "seconds", "calls/s", "p50 ms", "p99 ms", "errors", "server RSS MiB"],
      loadRows,
    ),
    "",
    "### Faults",
    "",
    markdownTable(["server", "fault", "result", "details"], faultRows),
    "",
    "### Attacks (the same checks as `bench/test/attacks.test.ts`)",
    "",
    markdownTable(["server", "attack", "result"], attackRows),
  ].join("\n");
}

/** The figures a fuzz-only run must hold at zero. */
const FUZZ_MUST_BE_ZERO = ["crashes", "unanswered_requests", "stdout_non_protocol_bytes", "fuzz_runs_short"];

function fuzzSection(report: Report<Plan, Samples>): string {
  return [
    "## reliability-fuzz: protocol fuzzing at the full count (the test line's run)",
    "",
    runLine(report, "pnpm reliability --fuzz"),
    "",
    zeroTable(report.figures, FUZZ_MUST_BE_ZERO),
    "",
    ...fuzzTables(report),
  ].join("\n");
}

function soakSection(report: Report<Plan, Samples>): string {
  const rows = report.samples.soak.map((s) => [
    s.target,
    String(s.seconds),
    String(s.calls),
    String(s.errors),
    String(s.rss_growth_mib),
    String(s.fd_growth),
    s.flat ? "flat" : "GROWING",
  ]);
  return [
    "## reliability-soak: RSS and open handles under steady load",
    "",
    runLine(report, "pnpm reliability --soak"),
    "",
    `Growth is the median of the last third of the samples minus the median of the middle third ` +
      `(the first third is warm-up); flat means <= ${SOAK_RSS_TOLERANCE_MIB} MiB and <= ${SOAK_FD_TOLERANCE} fds.`,
    "",
    markdownTable(["server", "seconds", "calls", "errors", "RSS growth MiB", "fd growth", "verdict"], rows),
  ].join("\n");
}

function summary(figures: Record<string, number>, mode: Mode): string {
  const lines = [`reliability (${mode})`];
  for (const [name, value] of Object.entries(figures)) lines.push(`  ${name.padEnd(36)} ${value}`);
  return `${lines.join("\n")}\n`;
}

/** A run fails when a figure that must be zero is not (soak: when a server crashed or grew). */
function verdict(names: readonly string[]) {
  return (figures: Record<string, number>): string | undefined => {
    const bad = names.filter((name) => figures[name] !== 0);
    return bad.length
      ? `${bad.map((name) => `${name} = ${figures[name]}`).join(", ")} (must be 0); see RESULTS.md`
      : undefined;
  };
}

let argv = process.argv.slice(2);
const serversAt = argv.indexOf("--servers");
if (serversAt >= 0) {
  const list = argv[serversAt + 1] ?? "";
  const problem = selectServers(
    list.startsWith("--")
      ? []
      : list
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
  );
  if (problem) {
    process.stderr.write(`reliability: ${problem}\n`);
    process.exit(2);
  }
  argv = argv.filter((_, i) => i !== serversAt && i !== serversAt + 1);
}
const soak = argv.includes("--soak");
const fuzz = argv.includes("--fuzz");
if (soak && fuzz) {
  process.stderr.write("reliability: --soak and --fuzz are separate runs; give one of them\n");
  process.exit(2);
}
runBenchmark(
  {
    name: soak ? "reliability-soak" : fuzz ? "reliability-fuzz" : "reliability",
    plans: soak ? SOAK_PLANS : fuzz ? FUZZ_PLANS : PLANS,
    run: runReliability,
    figures: figuresOf,
    section: soak ? soakSection : fuzz ? fuzzSection : section,
    summary,
    // A soak fails on a crash, and (not in the seconds-long smoke mode) on growth.
    verdict: soak
      ? (f, mode) =>
          f.crashes !== 0 || (mode !== "smoke" && f.soak_flat !== 1)
            ? `crashes = ${f.crashes}, soak_flat = ${f.soak_flat}; see RESULTS.md`
            : undefined
      : verdict(fuzz ? FUZZ_MUST_BE_ZERO : MUST_BE_ZERO),
  },
  argv.filter((a) => a !== "--soak" && a !== "--fuzz"),
);
