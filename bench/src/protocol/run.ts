import { median, round } from "../lib/stats.js";
import { runLoad, type RoundSample } from "./load.js";
import { startHttp, startStdio, type Side, type Target, type TransportKind } from "./targets.js";

import type { Mode } from "../lib/cli.js";

export type { Mode };

export interface Plan {
  /** Measured rounds per server; kit and SDK alternate round by round. */
  rounds: number;
  roundMs: number;
  /** Calls per round at most (bounds memory and the smoke run). */
  maxCallsPerRound: number;
  /** Once per server after start: JIT, connection pools, caches. Not recorded. */
  warmupMs: number;
  /** Before every round, so a server idle during the other's round is warm again. Not recorded. */
  roundWarmupMs: number;
  /** Calls in flight, for both transports. */
  concurrency: number;
  /** HTTP sessions (SDK clients) the calls are spread over. */
  httpSessions: number;
  /** Wall-clock limit of the whole run; past it the run fails and its servers are killed. */
  watchdogMs: number;
}

export const PLANS: Record<Mode, Plan> = {
  full: {
    rounds: 5,
    roundMs: 5_000,
    maxCallsPerRound: 500_000,
    // HTTP keeps speeding up for a few seconds (JIT, undici pools, hono): warm past that.
    warmupMs: 3_000,
    roundWarmupMs: 500,
    concurrency: 16,
    httpSessions: 4,
    watchdogMs: 6 * 60_000,
  },
  quick: {
    rounds: 3,
    roundMs: 1_500,
    maxCallsPerRound: 200_000,
    warmupMs: 1_000,
    roundWarmupMs: 250,
    concurrency: 16,
    httpSessions: 4,
    watchdogMs: 2 * 60_000,
  },
  // For the test that keeps this code from rotting: a few hundred calls, numbers meaningless.
  smoke: {
    rounds: 1,
    roundMs: 5_000,
    maxCallsPerRound: 300,
    warmupMs: 200,
    roundWarmupMs: 0,
    concurrency: 16,
    httpSessions: 4,
    watchdogMs: 60_000,
  },
};

export const TRANSPORTS: readonly TransportKind[] = ["http", "stdio"];
const SIDES: readonly Side[] = ["kit", "sdk"];

export interface TransportSamples {
  kit: RoundSample[];
  sdk: RoundSample[];
  /** kit/sdk throughput of each round pair, for a look at the spread. */
  pair_throughput_ratios: number[];
}

export type Samples = Record<TransportKind, TransportSamples>;

/** Runs every transport: both servers up, warmed, then alternating measured rounds. */
export async function runProtocol(plan: Plan, progress: (line: string) => void): Promise<Samples> {
  const samples = {} as Samples;
  for (const transport of TRANSPORTS) {
    const targets: Target[] = [];
    try {
      for (const side of SIDES) {
        targets.push(
          transport === "http" ? await startHttp(side, plan.httpSessions) : await startStdio(side),
        );
      }
      for (const target of targets) await warm(target, plan, plan.warmupMs);
      const out: TransportSamples = { kit: [], sdk: [], pair_throughput_ratios: [] };
      for (let r = 0; r < plan.rounds; r++) {
        for (const target of targets) {
          await warm(target, plan, plan.roundWarmupMs);
          const sample = await runLoad(target, {
            concurrency: plan.concurrency,
            durationMs: plan.roundMs,
            maxCalls: plan.maxCallsPerRound,
          });
          out[target.side].push(sample);
          progress(
            `${transport} round ${r + 1}/${plan.rounds} ${target.side}: ${sample.calls_per_s} calls/s, ` +
              `p50 ${sample.p50_ms} ms, p99 ${sample.p99_ms} ms`,
          );
        }
        out.pair_throughput_ratios.push(round(out.kit[r]!.calls_per_s / out.sdk[r]!.calls_per_s, 3));
      }
      samples[transport] = out;
    } finally {
      await Promise.allSettled(targets.map((t) => t.close()));
    }
  }
  return samples;
}

async function warm(target: Target, plan: Plan, ms: number): Promise<void> {
  if (ms <= 0) return;
  await runLoad(target, { concurrency: plan.concurrency, durationMs: ms, maxCalls: plan.maxCallsPerRound });
}

/** The headline numbers: medians of rounds per server, and the kit/SDK ratios of those medians. */
export function figuresOf(samples: Samples): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const transport of TRANSPORTS) {
    const s = samples[transport];
    const kit = median(s.kit.map((x) => x.calls_per_s));
    const sdk = median(s.sdk.map((x) => x.calls_per_s));
    figures[`${transport}_throughput_ratio_vs_sdk`] = round(kit / sdk, 3);
  }
  for (const transport of TRANSPORTS) {
    for (const side of SIDES) {
      const rounds = samples[transport][side];
      const prefix = `${transport}_${side}`;
      figures[`${prefix}_calls_per_s`] = round(median(rounds.map((x) => x.calls_per_s)), 1);
      figures[`${prefix}_p50_ms`] = round(median(rounds.map((x) => x.p50_ms)), 3);
      figures[`${prefix}_p99_ms`] = round(median(rounds.map((x) => x.p99_ms)), 3);
      const cpu = rounds.map((x) => x.server_cpu_us_per_call).filter((x): x is number => x !== undefined);
      if (cpu.length === rounds.length) figures[`${prefix}_server_cpu_us_per_call`] = round(median(cpu), 1);
    }
    const kitCpu = figures[`${transport}_kit_server_cpu_us_per_call`];
    const sdkCpu = figures[`${transport}_sdk_server_cpu_us_per_call`];
    if (kitCpu !== undefined && sdkCpu !== undefined) {
      figures[`${transport}_server_cpu_per_call_ratio_vs_sdk`] = round(kitCpu / sdkCpu, 3);
    }
  }
  return figures;
}
