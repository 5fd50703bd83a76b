import { median, round } from "../lib/stats.js";
import { CLIENTS, createClient, type BenchClient, type ClientName } from "./clients.js";
import { runLoad, type RoundSample } from "./load.js";
import { startUpstream } from "./upstream.js";

import type { Mode } from "../lib/cli.js";

export type { Mode };

export interface Plan {
  /** Measured rounds per client; the clients alternate round by round. */
  rounds: number;
  roundMs: number;
  /** Calls per round at most (bounds memory and the smoke run). */
  maxCallsPerRound: number;
  /** Once per client after start: JIT and connection pools. Not recorded. */
  warmupMs: number;
  /** Before every round, so a client idle during the others' rounds is warm again. Not recorded. */
  roundWarmupMs: number;
  /** GETs in flight, the same for every client. */
  concurrency: number;
  /** Wall-clock limit of the whole run; past it the run fails and the upstream is killed. */
  watchdogMs: number;
}

export const PLANS: Record<Mode, Plan> = {
  full: {
    rounds: 5,
    roundMs: 4_000,
    maxCallsPerRound: 1_000_000,
    warmupMs: 2_000,
    roundWarmupMs: 500,
    concurrency: 16,
    watchdogMs: 4 * 60_000,
  },
  quick: {
    rounds: 3,
    roundMs: 1_500,
    maxCallsPerRound: 500_000,
    warmupMs: 1_000,
    roundWarmupMs: 250,
    concurrency: 16,
    watchdogMs: 60_000,
  },
  // For the test that keeps this code from rotting: a few hundred calls, numbers meaningless.
  smoke: {
    rounds: 1,
    roundMs: 5_000,
    maxCallsPerRound: 300,
    warmupMs: 100,
    roundWarmupMs: 0,
    concurrency: 16,
    watchdogMs: 30_000,
  },
};

export interface Samples {
  rounds: Record<ClientName, RoundSample[]>;
  /** toolshed/undici and toolshed/fetch throughput of each round, for a look at the spread. */
  pair_throughput_ratios: { vs_undici: number[]; vs_fetch: number[] };
}

/** Starts the upstream, warms every client, then runs alternating measured rounds. */
export async function runHttp(plan: Plan, progress: (line: string) => void): Promise<Samples> {
  const upstream = await startUpstream();
  const clients: BenchClient[] = [];
  try {
    for (const name of CLIENTS) clients.push(createClient(name, upstream.url, plan.concurrency));
    const load = (client: BenchClient, ms: number) =>
      runLoad(client, upstream.pid, {
        concurrency: plan.concurrency,
        durationMs: ms,
        maxCalls: plan.maxCallsPerRound,
      });
    for (const client of clients) await load(client, plan.warmupMs);
    const samples: Samples = {
      rounds: { toolshed: [], undici: [], fetch: [] },
      pair_throughput_ratios: { vs_undici: [], vs_fetch: [] },
    };
    for (let r = 0; r < plan.rounds; r++) {
      // Rotate the order each round so no client always runs first after the others.
      const order = clients.map((_, i) => clients[(i + r) % clients.length]!);
      for (const client of order) {
        if (plan.roundWarmupMs > 0) await load(client, plan.roundWarmupMs);
        const sample = await load(client, plan.roundMs);
        samples.rounds[client.name].push(sample);
        progress(
          `round ${r + 1}/${plan.rounds} ${client.name.padEnd(8)}: ${sample.calls_per_s} calls/s, ` +
            `p50 ${sample.p50_ms} ms, p99 ${sample.p99_ms} ms, client CPU ${sample.client_cpu_us_per_call} us/call`,
        );
      }
      const ours = samples.rounds.toolshed[r]!.calls_per_s;
      samples.pair_throughput_ratios.vs_undici.push(round(ours / samples.rounds.undici[r]!.calls_per_s, 3));
      samples.pair_throughput_ratios.vs_fetch.push(round(ours / samples.rounds.fetch[r]!.calls_per_s, 3));
    }
    return samples;
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await upstream.close();
  }
}

/** The headline numbers: medians of rounds per client, and ours over each baseline's. */
export function figuresOf(samples: Samples): Record<string, number> {
  const med = (name: ClientName, key: keyof RoundSample) =>
    median(samples.rounds[name].map((s) => s[key]).filter((v): v is number => v !== undefined));
  const figures: Record<string, number> = {
    throughput_ratio_vs_undici: round(med("toolshed", "calls_per_s") / med("undici", "calls_per_s"), 3),
    throughput_ratio_vs_fetch: round(med("toolshed", "calls_per_s") / med("fetch", "calls_per_s"), 3),
  };
  for (const name of CLIENTS) {
    figures[`${name}_calls_per_s`] = round(med(name, "calls_per_s"), 1);
    figures[`${name}_p50_ms`] = round(med(name, "p50_ms"), 3);
    figures[`${name}_p99_ms`] = round(med(name, "p99_ms"), 3);
    figures[`${name}_client_cpu_us_per_call`] = round(med(name, "client_cpu_us_per_call"), 1);
  }
  figures.client_cpu_per_call_ratio_vs_undici = round(
    figures.toolshed_client_cpu_us_per_call! / figures.undici_client_cpu_us_per_call!,
    3,
  );
  figures.client_cpu_per_call_ratio_vs_fetch = round(
    figures.toolshed_client_cpu_us_per_call! / figures.fetch_client_cpu_us_per_call!,
    3,
  );
  return figures;
}
