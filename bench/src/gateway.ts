#!/usr/bin/env node
/**
 * pnpm bench:gateway [--quick | --smoke] [--out <dir>]
 *
 * What the gateway costs and saves, in one run: the bytes of `tools/list` for the whole stack (the
 * four domain servers' lists added up) against the gateway's in `all` and `search` mode, and
 * `tools/call` throughput through the gateway against the same server called directly (the kit's
 * fixture, 2026-07-28 over Streamable HTTP), in alternating rounds, medians. Twice: `echo`, which
 * does nothing (the worst case for a proxy: three processes share the machine's cores and the
 * gateway's hop is most of the work), and `slow` waiting 20 ms (an upstream that calls an API).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { runBenchmark, type Report } from "./lib/cli.js";
import { serverEnv, trackChild, untrackChild } from "./lib/children.js";
import { markdownTable } from "./lib/results.js";
import { median, round } from "./lib/stats.js";
import { runLoad, type RoundSample } from "./protocol/load.js";
import type { Target } from "./protocol/targets.js";

const TARGET_RATIO = 0.8;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const bin = (dir: string) => join(ROOT, dir, "dist/bin.js");
const DOMAIN = ["data-analytics", "vector-search", "example-api", "github"] as const;

interface Plan {
  rounds: number;
  roundMs: number;
  maxCalls: number;
  concurrency: number;
  clients: number;
  watchdogMs: number;
}

interface Samples {
  bytes: Record<string, number>;
  tools: Record<string, number>;
  direct: RoundSample[];
  gateway: RoundSample[];
  pair_throughput_ratios: number[];
  /** The same with `slow { ms: 20 }`. */
  direct_20ms: RoundSample[];
  gateway_20ms: RoundSample[];
  pair_throughput_ratios_20ms: number[];
}

/** A tool call that waits like an upstream calling an API (the fixture's `slow`, no CPU). */
const WAIT_CALL = { name: "slow", arguments: { ms: 20 } };

interface Server {
  child: ChildProcess;
  url: string;
  stderrBytes(): number;
  close(): Promise<void>;
}

/** Starts a server bin on HTTP (port 0) and resolves once it says where it listens. */
async function startServer(script: string, args: string[], cwd: string): Promise<Server> {
  const child = spawn(process.execPath, [script, "--transport", "http", "--port", "0", ...args], {
    cwd,
    env: { ...serverEnv(), TOOLSHED_LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  trackChild(child.pid!);
  let stderr = "";
  let bytes = 0;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start in 60 s:\n${stderr.slice(-1000)}`)),
      60_000,
    );
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      bytes += Buffer.byteLength(chunk);
      if (stderr.length < 20_000) stderr += chunk;
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}):\n${stderr.slice(-1000)}`)));
  });
  // The kit logs its start at info; the level above keeps the hot path quiet.
  return {
    child,
    url,
    stderrBytes: () => bytes,
    async close() {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
      untrackChild(child.pid!);
    },
  };
}

async function connect(url: string): Promise<Client> {
  const client = new Client(
    { name: "toolshed-bench", version: "0.0.0" },
    { capabilities: {}, versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function listBytes(url: string): Promise<{ bytes: number; tools: number }> {
  const client = await connect(url);
  try {
    const { tools } = await client.listTools();
    return { bytes: Buffer.byteLength(JSON.stringify({ tools })), tools: tools.length };
  } finally {
    await client.close();
  }
}

async function gatewayReady(url: string): Promise<void> {
  const readyz = new URL("/readyz", url);
  for (let i = 0; i < 600; i++) {
    const res = await fetch(readyz).catch(() => undefined);
    if (res?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the gateway at ${url} did not become ready in 60 s`);
}

async function measureBytes(
  dir: string,
  log: (line: string) => void,
): Promise<Pick<Samples, "bytes" | "tools">> {
  const servers: Server[] = [];
  try {
    const urls: Record<string, string> = {};
    for (const name of DOMAIN) {
      const cwd = join(dir, name);
      mkdirSync(cwd, { recursive: true });
      const server = await startServer(bin(`servers/${name}`), [], cwd);
      servers.push(server);
      urls[name] = server.url;
    }
    const bytes: Record<string, number> = {};
    const tools: Record<string, number> = {};
    let direct = 0;
    let count = 0;
    for (const name of DOMAIN) {
      const r = await listBytes(urls[name]!);
      bytes[name] = r.bytes;
      tools[name] = r.tools;
      direct += r.bytes;
      count += r.tools;
    }
    bytes.direct = direct;
    tools.direct = count;
    const config = join(dir, "stack.yaml");
    writeFileSync(config, `upstreams:\n${DOMAIN.map((n) => `  ${n}:\n    url: ${urls[n]}\n`).join("")}`);
    for (const mode of ["all", "search"] as const) {
      const gw = await startServer(bin("servers/gateway"), ["--config", config, "--mode", mode], dir);
      servers.push(gw);
      await gatewayReady(gw.url);
      const r = await listBytes(gw.url);
      bytes[`gateway_${mode}`] = r.bytes;
      tools[`gateway_${mode}`] = r.tools;
    }
    log(`tools/list bytes: ${JSON.stringify(bytes)}`);
    return { bytes, tools };
  } finally {
    for (const s of servers.reverse()) await s.close();
  }
}

async function target(server: Server, side: string, clients: number): Promise<Target> {
  const list = await Promise.all(Array.from({ length: clients }, () => connect(server.url)));
  return {
    side: side as Target["side"],
    transport: "http",
    era: "modern" as Target["era"],
    pid: server.child.pid!,
    clients: list,
    stderrBytes: () => server.stderrBytes(),
    async close() {
      await Promise.all(list.map((c) => c.close()));
    },
  };
}

async function run(plan: Plan, log: (line: string) => void): Promise<Samples> {
  const dir = mkdtempSync(join(tmpdir(), "toolshed-bench-gateway-"));
  const servers: Server[] = [];
  try {
    const measured = await measureBytes(dir, log);
    const fixture = await startServer(bin("packages/testing/fixtures/everything"), [], dir);
    servers.push(fixture);
    const config = join(dir, "fixture.yaml");
    // Mounted at the root so the same `echo` call runs on both sides.
    writeFileSync(config, `upstreams:\n  fixture:\n    url: ${fixture.url}\n    namespace: false\n`);
    const gw = await startServer(bin("servers/gateway"), ["--config", config], dir);
    servers.push(gw);
    await gatewayReady(gw.url);
    const direct = await target(fixture, "bare", plan.clients);
    const through = await target(gw, "kit", plan.clients);
    const load = { concurrency: plan.concurrency, durationMs: plan.roundMs, maxCalls: plan.maxCalls };
    // Warm-up, then alternating rounds.
    await runLoad(direct, { ...load, durationMs: Math.min(500, plan.roundMs) });
    await runLoad(through, { ...load, durationMs: Math.min(500, plan.roundMs) });
    /** Alternating rounds of `options` on each side: the rounds and the pair ratios. */
    const alternate = async (options: typeof load & { call?: typeof WAIT_CALL }, label: string) => {
      const out = { direct: [] as RoundSample[], gateway: [] as RoundSample[], ratios: [] as number[] };
      for (let i = 0; i < plan.rounds; i++) {
        const d = await runLoad(direct, options);
        const g = await runLoad(through, options);
        out.direct.push(d);
        out.gateway.push(g);
        out.ratios.push(round(g.calls_per_s / d.calls_per_s, 3));
        log(`${label}round ${i + 1}/${plan.rounds}: direct ${d.calls_per_s}/s, gateway ${g.calls_per_s}/s`);
      }
      return out;
    };
    const echo = await alternate(load, "");
    const wait = await alternate({ ...load, call: WAIT_CALL }, "slow 20 ms ");
    const samples: Samples = {
      ...measured,
      direct: echo.direct,
      gateway: echo.gateway,
      pair_throughput_ratios: echo.ratios,
      direct_20ms: wait.direct,
      gateway_20ms: wait.gateway,
      pair_throughput_ratios_20ms: wait.ratios,
    };
    await direct.close();
    await through.close();
    return samples;
  } finally {
    for (const s of servers.reverse()) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(s: Samples): Record<string, number> {
  const med = (rounds: RoundSample[], key: "calls_per_s" | "p50_ms" | "p99_ms" | "server_cpu_us_per_call") =>
    round(median(rounds.map((r) => r[key] ?? Number.NaN)), 3);
  const directRate = med(s.direct, "calls_per_s");
  const gatewayRate = med(s.gateway, "calls_per_s");
  return {
    direct_tools_list_bytes: s.bytes.direct!,
    direct_tools: s.tools.direct!,
    gateway_all_tools_list_bytes: s.bytes.gateway_all!,
    gateway_search_tools_list_bytes: s.bytes.gateway_search!,
    search_bytes_ratio_vs_direct: round(s.bytes.gateway_search! / s.bytes.direct!, 4),
    direct_calls_per_s: directRate,
    gateway_calls_per_s: gatewayRate,
    direct_p50_ms: med(s.direct, "p50_ms"),
    gateway_p50_ms: med(s.gateway, "p50_ms"),
    direct_p99_ms: med(s.direct, "p99_ms"),
    gateway_p99_ms: med(s.gateway, "p99_ms"),
    gateway_ratio_vs_direct: round(gatewayRate / directRate, 3),
    // CPU per echo call of the fixture, and of the gateway process alone (the hop's cost).
    direct_server_cpu_us_per_call: med(s.direct, "server_cpu_us_per_call"),
    gateway_cpu_us_per_call: med(s.gateway, "server_cpu_us_per_call"),
    direct_20ms_calls_per_s: med(s.direct_20ms, "calls_per_s"),
    gateway_20ms_calls_per_s: med(s.gateway_20ms, "calls_per_s"),
    direct_20ms_p50_ms: med(s.direct_20ms, "p50_ms"),
    gateway_20ms_p50_ms: med(s.gateway_20ms, "p50_ms"),
    direct_20ms_p99_ms: med(s.direct_20ms, "p99_ms"),
    gateway_20ms_p99_ms: med(s.gateway_20ms, "p99_ms"),
    gateway_ratio_vs_direct_20ms: round(
      med(s.gateway_20ms, "calls_per_s") / med(s.direct_20ms, "calls_per_s"),
      3,
    ),
  };
}

function section({ figures: f, samples, plan, mode, date, machine }: Report<Plan, Samples>): string {
  const byteRows = [
    ...DOMAIN.map((n) => [`${n} (direct)`, String(samples.tools[n]), String(samples.bytes[n])]),
    ["whole stack, direct (sum)", String(f.direct_tools), String(f.direct_tools_list_bytes)],
    ["gateway, mode all", String(samples.tools.gateway_all), String(f.gateway_all_tools_list_bytes)],
    ["gateway, mode search", String(samples.tools.gateway_search), String(f.gateway_search_tools_list_bytes)],
  ];
  const callRows = [
    ["fixture, direct", String(f.direct_calls_per_s), String(f.direct_p50_ms), String(f.direct_p99_ms)],
    [
      "fixture through the gateway",
      String(f.gateway_calls_per_s),
      String(f.gateway_p50_ms),
      String(f.gateway_p99_ms),
    ],
    [
      "`slow` 20 ms, direct",
      String(f.direct_20ms_calls_per_s),
      String(f.direct_20ms_p50_ms),
      String(f.direct_20ms_p99_ms),
    ],
    [
      "`slow` 20 ms through the gateway",
      String(f.gateway_20ms_calls_per_s),
      String(f.gateway_20ms_p50_ms),
      String(f.gateway_20ms_p99_ms),
    ],
  ];
  const ratio = f.gateway_ratio_vs_direct!;
  const ratioWait = f.gateway_ratio_vs_direct_20ms!;
  return [
    "## gateway: context bytes and call throughput through toolshed-gateway",
    "",
    `\`pnpm bench:gateway\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
      `and ${machine.loadavg_1m_end} at end (the machine is shared: compare the ratios, not the rates).`,
    "",
    "`tools/list` as a 2026-07-28 client receives it (JSON bytes of the tool array), each domain server on " +
      "its embedded defaults, and the gateway in front of all four:",
    "",
    markdownTable(["tools/list of", "tools", "bytes"], byteRows),
    "",
    `Search mode shows ${f.search_bytes_ratio_vs_direct} of the direct bytes.`,
    "",
    `\`tools/call\` on the kit's fixture over Streamable HTTP, 2026-07-28, ${plan.concurrency} calls in ` +
      `flight over ${plan.clients} clients, ${plan.rounds} alternating rounds of ${plan.roundMs / 1000} s after ` +
      "warm-up, for each of two tools; the gateway (its default logging and metrics, the fixture mounted at " +
      "its root) forwards each call to the same fixture process. `echo` does no work, so the gateway's hop " +
      "(an HTTP server, the forwarding, an HTTP client) is most of what a call costs: the load client, the " +
      `gateway and the fixture share ${machine.cpus} cores, and the gateway process spends ` +
      `${f.gateway_cpu_us_per_call} µs of CPU per call against the fixture's ${f.direct_server_cpu_us_per_call} µs. ` +
      "`slow` waits 20 ms without CPU, as an upstream calling an API does. Medians of the rounds:",
    "",
    markdownTable(["path", "calls/s", "p50 ms", "p99 ms"], callRows),
    "",
    markdownTable(
      ["figure", "value", "target"],
      [
        [
          "`gateway_ratio_vs_direct` (`echo`)",
          String(ratio),
          `>= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? "met" : "missed"}`,
        ],
        [
          "`gateway_ratio_vs_direct_20ms` (`slow` 20 ms)",
          String(ratioWait),
          `>= ${TARGET_RATIO}: ${ratioWait >= TARGET_RATIO ? "met" : "missed"}`,
        ],
        [
          "CPU per `echo` call: the fixture (direct) / the gateway process",
          `${f.direct_server_cpu_us_per_call} / ${f.gateway_cpu_us_per_call} µs`,
          "",
        ],
      ],
    ),
    "",
    `Round pairs (gateway / direct): echo ${samples.pair_throughput_ratios.join(", ")}; ` +
      `slow 20 ms ${samples.pair_throughput_ratios_20ms.join(", ")}.`,
    "",
  ].join("\n");
}

runBenchmark<Plan, Samples>({
  name: "gateway",
  plans: {
    full: { rounds: 5, roundMs: 3_000, maxCalls: 200_000, concurrency: 16, clients: 4, watchdogMs: 300_000 },
    quick: { rounds: 3, roundMs: 1_000, maxCalls: 100_000, concurrency: 16, clients: 4, watchdogMs: 180_000 },
    smoke: { rounds: 1, roundMs: 300, maxCalls: 300, concurrency: 4, clients: 2, watchdogMs: 120_000 },
  },
  run,
  figures,
  section,
  summary: (f) =>
    `bench:gateway: tools/list ${f.direct_tools_list_bytes} B direct, ${f.gateway_search_tools_list_bytes} B in search mode; ` +
    `gateway_ratio_vs_direct ${f.gateway_ratio_vs_direct} (echo), ${f.gateway_ratio_vs_direct_20ms} (slow 20 ms)\n`,
});
