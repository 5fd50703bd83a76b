import { processCpuSeconds } from "../lib/children.js";
import { closedLoop, forMs, summarize, type LatencySummary } from "../lib/closed-loop.js";
import { round } from "../lib/stats.js";
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
export interface RoundSample extends LatencySummary {
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
  const upstreamBefore = processCpuSeconds(upstreamPid);
  const cpuBefore = process.cpuUsage();
  const run = await closedLoop(
    { workers: options.concurrency, until: forMs(options.durationMs), maxCalls: options.maxCalls },
    () => client.call(),
  );
  const done = run.latencies.length;
  if (done === 0) throw new Error(`${client.name}: no call finished in the round`);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const upstreamAfter = processCpuSeconds(upstreamPid);
  const sample: RoundSample = {
    ...summarize(run),
    client_cpu_us_per_call: round((cpuSeconds / done) * 1e6, 1),
    client_cpu_util: round(cpuSeconds / run.seconds, 3),
  };
  if (upstreamBefore !== undefined && upstreamAfter !== undefined) {
    const upstreamCpu = upstreamAfter - upstreamBefore;
    sample.upstream_cpu_us_per_call = round((upstreamCpu / done) * 1e6, 1);
    sample.upstream_cpu_util = round(upstreamCpu / run.seconds, 3);
  }
  return sample;
}
