import { processCpuSeconds, processRssMiB } from "../lib/children.js";
import { quantile, round } from "../lib/stats.js";
import type { Target } from "./targets.js";

export interface LoadOptions {
  /** Calls in flight at any time, spread over the target's clients (closed loop). */
  concurrency: number;
  /** The round stops issuing calls after this long... */
  durationMs: number;
  /** ...or after this many calls, whichever comes first. */
  maxCalls: number;
}

/** One measured round against one server. */
export interface RoundSample {
  calls: number;
  seconds: number;
  calls_per_s: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
  /** Server CPU (user + system) per call, from /proc; absent off Linux. */
  server_cpu_us_per_call?: number;
  /** Server CPU seconds per wall second (1 = one core busy). */
  server_cpu_util?: number;
  /** This process's CPU seconds per wall second: the load client's share of the machine. */
  client_cpu_util: number;
  server_rss_mib?: number;
  /** Bytes the server logged to stderr per call. */
  server_log_bytes_per_call: number;
}

const MESSAGE = "hello from the toolshed protocol benchmark";

/**
 * Drives `tools/call echo` through the real SDK clients with a fixed number of calls in flight and
 * times each call from just before `callTool` to its resolved result.
 */
export async function runLoad(target: Target, options: LoadOptions): Promise<RoundSample> {
  const latencies = new Float64Array(options.maxCalls);
  let issued = 0;
  let done = 0;
  const logBefore = target.stderrBytes();
  const serverCpuBefore = processCpuSeconds(target.pid);
  const clientCpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(options.durationMs) * 1_000_000n;

  const loop = async (index: number): Promise<void> => {
    const client = target.clients[index % target.clients.length]!;
    while (issued < options.maxCalls && process.hrtime.bigint() < deadline) {
      issued++;
      const t0 = process.hrtime.bigint();
      const result = await client.callTool({ name: "echo", arguments: { message: MESSAGE } });
      const t1 = process.hrtime.bigint();
      if (
        result.isError ||
        (result.structuredContent as { message?: unknown } | undefined)?.message !== MESSAGE
      ) {
        throw new Error(
          `${target.side} ${target.transport} ${target.era}: echo answered ${JSON.stringify(result).slice(0, 300)}`,
        );
      }
      latencies[done++] = Number(t1 - t0) / 1e6;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => loop(i)));

  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (done === 0)
    throw new Error(`${target.side} ${target.transport} ${target.era}: no call finished in the round`);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverCpuAfter = processCpuSeconds(target.pid);
  const sorted = latencies.subarray(0, done).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const sample: RoundSample = {
    calls: done,
    seconds: round(seconds, 3),
    calls_per_s: round(done / seconds, 1),
    p50_ms: round(quantile(sorted, 0.5), 3),
    p99_ms: round(quantile(sorted, 0.99), 3),
    mean_ms: round(sum / done, 3),
    max_ms: round(sorted[done - 1] ?? Number.NaN, 3),
    client_cpu_util: round((clientCpu.user + clientCpu.system) / 1e6 / seconds, 3),
    server_log_bytes_per_call: round((target.stderrBytes() - logBefore) / done, 1),
  };
  if (serverCpuBefore !== undefined && serverCpuAfter !== undefined) {
    const cpu = serverCpuAfter - serverCpuBefore;
    sample.server_cpu_us_per_call = round((cpu / done) * 1e6, 1);
    sample.server_cpu_util = round(cpu / seconds, 3);
  }
  const rss = processRssMiB(target.pid);
  if (rss !== undefined) sample.server_rss_mib = round(rss, 1);
  return sample;
}
