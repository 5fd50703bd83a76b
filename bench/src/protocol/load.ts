import { processCpuSeconds, processRssMiB } from "../lib/children.js";
import { closedLoop, forMs, summarize, type LatencySummary } from "../lib/closed-loop.js";
import { round } from "../lib/stats.js";
import type { Target } from "./targets.js";

export interface LoadOptions {
  /** Calls in flight at any time, spread over the target's clients (closed loop). */
  concurrency: number;
  /** The round stops issuing calls after this long... */
  durationMs: number;
  /** ...or after this many calls, whichever comes first. */
  maxCalls: number;
  /** Another tool than `echo` (its answer must not be an error); `echo` with a fixed message unless set. */
  call?: { name: string; arguments: Record<string, unknown> };
}

/** One measured round against one server. */
export interface RoundSample extends LatencySummary {
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
 * Drives `tools/call echo` (or `options.call`) through the real SDK clients with a fixed number of calls in flight and
 * times each call from just before `callTool` to its resolved result.
 */
export async function runLoad(target: Target, options: LoadOptions): Promise<RoundSample> {
  const logBefore = target.stderrBytes();
  const serverCpuBefore = processCpuSeconds(target.pid);
  const clientCpuBefore = process.cpuUsage();
  const run = await closedLoop(
    { workers: options.concurrency, until: forMs(options.durationMs), maxCalls: options.maxCalls },
    async (worker) => {
      const client = target.clients[worker % target.clients.length]!;
      const call = options.call ?? { name: "echo", arguments: { message: MESSAGE } };
      const result = await client.callTool(call);
      if (
        result.isError ||
        (!options.call &&
          (result.structuredContent as { message?: unknown } | undefined)?.message !== MESSAGE)
      ) {
        throw new Error(
          `${target.side} ${target.transport} ${target.era}: ${call.name} answered ${JSON.stringify(result).slice(0, 300)}`,
        );
      }
    },
  );
  const done = run.latencies.length;
  if (done === 0)
    throw new Error(`${target.side} ${target.transport} ${target.era}: no call finished in the round`);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverCpuAfter = processCpuSeconds(target.pid);
  const sample: RoundSample = {
    ...summarize(run),
    client_cpu_util: round((clientCpu.user + clientCpu.system) / 1e6 / run.seconds, 3),
    server_log_bytes_per_call: round((target.stderrBytes() - logBefore) / done, 1),
  };
  if (serverCpuBefore !== undefined && serverCpuAfter !== undefined) {
    const cpu = serverCpuAfter - serverCpuBefore;
    sample.server_cpu_us_per_call = round((cpu / done) * 1e6, 1);
    sample.server_cpu_util = round(cpu / run.seconds, 3);
  }
  const rss = processRssMiB(target.pid);
  if (rss !== undefined) sample.server_rss_mib = round(rss, 1);
  return sample;
}
