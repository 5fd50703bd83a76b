import { median, round } from "../lib/stats.js";
import { runLoad, type RoundSample } from "./load.js";
import {
  startHttp,
  startStdio,
  type Era,
  type HttpServer,
  type Side,
  type Target,
  type TransportKind,
} from "./targets.js";

import type { Mode } from "../lib/cli.js";

export type { Mode };

export interface Plan {
  /** Measured rounds per server and era; kit and bare SDK alternate round by round. */
  rounds: number;
  roundMs: number;
  /** Calls per round at most (bounds memory and the smoke run). */
  maxCallsPerRound: number;
  /** Once per target after start: JIT, connection pools, caches. Not recorded. */
  warmupMs: number;
  /** Before every round, so a server idle during the others' rounds is warm again. Not recorded. */
  roundWarmupMs: number;
  /** Calls in flight, for both transports and both eras. */
  concurrency: number;
  /** HTTP clients the calls are spread over (on 2025, one session each). */
  httpSessions: number;
  /** Wall-clock limit of the whole run; past it the run fails and its servers are killed. */
  watchdogMs: number;
}

export const PLANS: Record<Mode, Plan> = {
  full: {
    rounds: 5,
    roundMs: 4_000,
    maxCallsPerRound: 500_000,
    // HTTP keeps speeding up for a few seconds (JIT, undici pools): warm past that.
    warmupMs: 3_000,
    roundWarmupMs: 500,
    concurrency: 16,
    httpSessions: 4,
    watchdogMs: 8 * 60_000,
  },
  // Eight targets (2 transports x 2 eras x kit/bare): about 40 s on an idle machine.
  quick: {
    rounds: 3,
    roundMs: 1_000,
    maxCallsPerRound: 200_000,
    warmupMs: 700,
    roundWarmupMs: 200,
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
    watchdogMs: 90_000,
  },
};

export const TRANSPORTS: readonly TransportKind[] = ["http", "stdio"];
export const ERAS: readonly Era[] = ["2026", "2025"];
export const SIDES: readonly Side[] = ["kit", "bare"];

/** A transport in one era, e.g. `http_2026`: the unit the kit is compared with the bare SDK on. */
export type Lane = `${TransportKind}_${Era}`;
export const LANES: readonly Lane[] = TRANSPORTS.flatMap((t) => ERAS.map((e) => `${t}_${e}` as const));

export interface LaneSamples {
  kit: RoundSample[];
  bare: RoundSample[];
  /** kit/bare throughput of each round pair, for a look at the spread. */
  pair_throughput_ratios: number[];
}

export type Samples = Record<Lane, LaneSamples>;

/**
 * Runs every transport: its servers up (HTTP: one process per side serving both eras on one
 * endpoint; stdio: one process per side and era), every target warmed, then measured rounds with
 * the targets taking turns, so a drift in the machine's load hits kit and bare alike.
 */
export async function runProtocol(plan: Plan, progress: (line: string) => void): Promise<Samples> {
  const samples = {} as Samples;
  for (const transport of TRANSPORTS) {
    const targets: Target[] = [];
    const servers: HttpServer[] = [];
    try {
      for (const era of ERAS) {
        for (const side of SIDES) {
          if (transport === "stdio") {
            targets.push(await startStdio(side, era));
            continue;
          }
          let server = servers.find((s) => s.side === side);
          if (!server) servers.push((server = await startHttp(side)));
          targets.push(await server.target(era, plan.httpSessions));
        }
      }
      for (const target of targets) await warm(target, plan, plan.warmupMs);
      for (const era of ERAS)
        samples[`${transport}_${era}`] = { kit: [], bare: [], pair_throughput_ratios: [] };
      for (let r = 0; r < plan.rounds; r++) {
        for (const target of targets) {
          await warm(target, plan, plan.roundWarmupMs);
          const sample = await runLoad(target, {
            concurrency: plan.concurrency,
            durationMs: plan.roundMs,
            maxCalls: plan.maxCallsPerRound,
          });
          samples[`${transport}_${target.era}`][target.side].push(sample);
          progress(
            `${transport} ${target.era} round ${r + 1}/${plan.rounds} ${target.side}: ` +
              `${sample.calls_per_s} calls/s, p50 ${sample.p50_ms} ms, p99 ${sample.p99_ms} ms`,
          );
        }
        for (const era of ERAS) {
          const lane = samples[`${transport}_${era}`];
          lane.pair_throughput_ratios.push(round(lane.kit[r]!.calls_per_s / lane.bare[r]!.calls_per_s, 3));
        }
      }
    } finally {
      await Promise.allSettled([...targets.map((t) => t.close()), ...servers.map((s) => s.close())]);
    }
  }
  return samples;
}

async function warm(target: Target, plan: Plan, ms: number): Promise<void> {
  if (ms <= 0) return;
  await runLoad(target, { concurrency: plan.concurrency, durationMs: ms, maxCalls: plan.maxCallsPerRound });
}

/**
 * The headline numbers: medians of rounds per target; kit/bare ratios of those medians per lane;
 * 2026 stateless vs 2025 sessionful throughput per transport.
 */
export function figuresOf(samples: Samples): Record<string, number> {
  const figures: Record<string, number> = {};
  const calls = (lane: Lane, side: Side) => median(samples[lane][side].map((x) => x.calls_per_s));
  for (const lane of LANES)
    figures[`${lane}_ratio_vs_bare`] = round(calls(lane, "kit") / calls(lane, "bare"), 3);
  for (const t of TRANSPORTS) {
    figures[`${t}_2026_vs_2025_throughput`] = round(calls(`${t}_2026`, "kit") / calls(`${t}_2025`, "kit"), 3);
    figures[`${t}_2026_vs_2025_throughput_bare`] = round(
      calls(`${t}_2026`, "bare") / calls(`${t}_2025`, "bare"),
      3,
    );
  }
  for (const lane of LANES) {
    for (const side of SIDES) {
      const rounds = samples[lane][side];
      const prefix = `${lane}_${side}`;
      figures[`${prefix}_calls_per_s`] = round(calls(lane, side), 1);
      figures[`${prefix}_p50_ms`] = round(median(rounds.map((x) => x.p50_ms)), 3);
      figures[`${prefix}_p99_ms`] = round(median(rounds.map((x) => x.p99_ms)), 3);
      const cpu = rounds.map((x) => x.server_cpu_us_per_call).filter((x): x is number => x !== undefined);
      if (cpu.length === rounds.length) figures[`${prefix}_server_cpu_us_per_call`] = round(median(cpu), 1);
    }
    const kitCpu = figures[`${lane}_kit_server_cpu_us_per_call`];
    const bareCpu = figures[`${lane}_bare_server_cpu_us_per_call`];
    if (kitCpu !== undefined && bareCpu !== undefined) {
      figures[`${lane}_server_cpu_per_call_ratio_vs_bare`] = round(kitCpu / bareCpu, 3);
    }
  }
  return figures;
}
