import { processCpuSeconds } from "../lib/children.js";
import { quantile, round } from "../lib/stats.js";
import type { BenchClient } from "./clients.js";

export interface LoadOptions {
  /** Calls in flight at any time (closed loop). */
  concurrency: number;
  /** The round stops issuing calls after this long... */
  durationMs: number;
  /** ...or after this many calls, whichever comes first. */
  maxCalls: number;
}

/** One measured round of one client. */
export interface RoundSample {
  calls: number;
  seconds: number;
  calls_per_s: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
  /** This process's CPU (user + system) per call: the client's own cost. */
  client_cpu_us_per_call: number;
  /** This process's CPU seconds per wall second (1 = one core busy). */
  client_cpu_util: number;
  /** The upstream's CPU per call, from /proc; absent off Linux. */
  upstream_cpu_us_per_call?: number;
  upstream_cpu_util?: number;
}

/** Keeps `concurrency` GETs in flight and times each from just before the call to its checked data. */
export async function runLoad(
  client: BenchClient,
  upstreamPid: number,
  options: LoadOptions,
): Promise<RoundSample> {
  const latencies = new Float64Array(options.maxCalls);
  let issued = 0;
  let done = 0;
  const upstreamBefore = processCpuSeconds(upstreamPid);
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(options.durationMs) * 1_000_000n;

  const loop = async (): Promise<void> => {
    while (issued < options.maxCalls && process.hrtime.bigint() < deadline) {
      issued++;
      const t0 = process.hrtime.bigint();
      await client.call();
      latencies[done++] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));

  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (done === 0) throw new Error(`${client.name}: no call finished in the round`);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const upstreamAfter = processCpuSeconds(upstreamPid);
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
    client_cpu_us_per_call: round((cpuSeconds / done) * 1e6, 1),
    client_cpu_util: round(cpuSeconds / seconds, 3),
  };
  if (upstreamBefore !== undefined && upstreamAfter !== undefined) {
    const upstreamCpu = upstreamAfter - upstreamBefore;
    sample.upstream_cpu_us_per_call = round((upstreamCpu / done) * 1e6, 1);
    sample.upstream_cpu_util = round(upstreamCpu / seconds, 3);
  }
  return sample;
}
