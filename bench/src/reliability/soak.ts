import { processRssMiB } from "../lib/children.js";
import { median, round } from "../lib/stats.js";
import { callLoop, connectClients } from "./load.js";
import { openFds, sleep, startServer } from "./processes.js";
import type { ReliabilityTarget } from "./types.js";

export interface SoakPlan {
  sessions: number;
  durationMs: number;
  sampleMs: number;
}

export interface SoakResult {
  target: string;
  seconds: number;
  calls: number;
  errors: number;
  /** The first few errors' messages, to tell a timeout on a loaded machine from a fault. */
  error_examples: string[];
  crashes: number;
  /** [seconds since start, RSS MiB, open fds] per sample. */
  samples: [number, number, number][];
  /** Median of the last third minus median of the second third (the first third is warm-up). */
  rss_growth_mib: number;
  fd_growth: number;
  flat: boolean;
}

/** RSS may grow this much between the middle and the last third before the run counts as leaking. */
export const SOAK_RSS_TOLERANCE_MIB = 16;
export const SOAK_FD_TOLERANCE = 8;

/** A long, steady load; RSS and open file descriptors sampled throughout must stay flat. */
export async function runSoak(
  target: ReliabilityTarget,
  plan: SoakPlan,
  log: (line: string) => void,
): Promise<SoakResult> {
  const server = await startServer(target);
  try {
    const clients = await connectClients(`${server.base}/mcp`, plan.sessions);
    const end = Date.now() + plan.durationMs;
    const started = Date.now();
    const samples: [number, number, number][] = [];
    const loop = callLoop(
      clients,
      target,
      () => Date.now() >= end || server.exit() !== undefined,
      async () => (await connectClients(`${server.base}/mcp`, 1))[0]!,
    );
    while (Date.now() < end && !server.exit()) {
      await sleep(Math.min(plan.sampleMs, Math.max(0, end - Date.now())));
      const sample: [number, number, number] = [
        round((Date.now() - started) / 1000, 1),
        round(processRssMiB(server.pid) ?? 0, 1),
        openFds(server.pid) ?? 0,
      ];
      samples.push(sample);
      // Sampled often (V8's heap grows and shrinks in a sawtooth of minutes), logged every 30 s or so.
      if (samples.length % Math.max(1, Math.round(30_000 / plan.sampleMs)) === 0) {
        log(`soak ${target.name}: t=${sample[0]} s rss=${sample[1]} MiB fds=${sample[2]}`);
      }
    }
    const stats = await loop;
    await Promise.allSettled(clients.map((c) => c.close()));
    const third = Math.max(1, Math.floor(samples.length / 3));
    const middle = samples.slice(third, 2 * third);
    const last = samples.slice(-third);
    const growth = (i: 1 | 2) =>
      median(last.map((s) => s[i])) - median((middle.length ? middle : samples).map((s) => s[i]));
    const rssGrowth = round(growth(1), 1);
    const fdGrowth = growth(2);
    const crashed = server.exit() !== undefined;
    return {
      target: target.name,
      seconds: round((Date.now() - started) / 1000, 1),
      calls: stats.latencies.length,
      errors: stats.errors,
      error_examples: stats.examples,
      crashes: crashed ? 1 : 0,
      samples,
      rss_growth_mib: rssGrowth,
      fd_growth: fdGrowth,
      flat: !crashed && rssGrowth <= SOAK_RSS_TOLERANCE_MIB && fdGrowth <= SOAK_FD_TOLERANCE,
    };
  } finally {
    await server.stop("SIGTERM");
  }
}
