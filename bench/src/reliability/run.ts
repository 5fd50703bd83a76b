import type { Mode } from "../lib/cli.js";
import { runAttacks, type AttackReport } from "./attacks.js";
import { runFaults, type FaultResult } from "./faults.js";
import { fuzzHttp } from "./fuzz-http.js";
import { fuzzStdio, type FuzzPlan, type FuzzResult } from "./fuzz-stdio.js";
import { runLoad, type LoadPlan, type LoadResult } from "./load.js";
import { runSoak, type SoakPlan, type SoakResult } from "./soak.js";
import { TARGETS } from "./targets.js";
import type { ReliabilityTarget } from "./types.js";

export type { Mode };

export interface Plan {
  watchdogMs: number;
  fuzz: Omit<FuzzPlan, "oversizedBytes" | "concurrency"> & { httpConcurrency: number };
  load: LoadPlan;
  faults: boolean;
  attacks: boolean;
  /** Run the servers side by side instead of one after another (the quick pass). */
  concurrent?: boolean;
  /** Only the protocol fuzzing (`--fuzz`: what the test line runs at the full count). */
  fuzzOnly?: boolean;
  /** Only with --soak: the ten-minute run instead of everything else. */
  soak?: SoakPlan;
}

export interface Samples {
  targets: string[];
  fuzz: FuzzResult[];
  load: LoadResult[];
  faults: FaultResult[];
  attacks: AttackReport[];
  soak: SoakResult[];
}

/** stdio: one line of 10 MB (decimal), under the SDK's 10 MiB line cap; HTTP: one byte over the 4 MiB body cap. */
export const STDIO_BIG_LINE_BYTES = 10_000_000;
export const HTTP_BODY_CAP_BYTES = 4 * 1024 * 1024;
const SEED = 0x70015ed;

/** The run's time limits grow with the number of servers under test. */
const PER_TARGET = TARGETS.length;

export const PLANS: Record<Mode, Plan> = {
  full: {
    watchdogMs: 15 * 60_000 * PER_TARGET,
    fuzz: { messages: 100_000, timeMs: 240_000, seed: SEED, httpConcurrency: 16 },
    load: { sessions: 64, durationMs: 30_000 },
    faults: true,
    attacks: true,
  },
  // Every suite, smaller, with the servers side by side: about a minute in all.
  quick: {
    watchdogMs: 5 * 60_000,
    fuzz: { messages: 2_000, timeMs: 20_000, seed: SEED, httpConcurrency: 16 },
    load: { sessions: 16, durationMs: 3_000 },
    faults: true,
    attacks: true,
    concurrent: true,
  },
  smoke: {
    watchdogMs: 60_000 * PER_TARGET,
    // The count is the bound; the time limit is only a backstop on a loaded machine.
    fuzz: { messages: 1_000, timeMs: 30_000, seed: SEED, httpConcurrency: 8 },
    load: { sessions: 8, durationMs: 1_000 },
    // bench/test/reliability-faults.test.ts runs each fault on its own.
    faults: false,
    attacks: true,
  },
};

/** `--fuzz`: only the fuzzing, at each mode's count; `pnpm test` runs the full count (100,000 a transport a server). */
export const FUZZ_PLANS: Record<Mode, Plan> = {
  full: {
    ...PLANS.full,
    fuzzOnly: true,
    faults: false,
    attacks: false,
    watchdogMs: 10 * 60_000 * PER_TARGET,
  },
  quick: { ...PLANS.quick, fuzzOnly: true, faults: false, attacks: false },
  smoke: { ...PLANS.smoke, fuzzOnly: true, faults: false, attacks: false },
};

/** `--soak`: ten minutes of load, sampled (the smoke variant is seconds, for the test). */
export const SOAK_PLANS: Record<Mode, Plan> = {
  full: {
    ...PLANS.full,
    // Every 5 s: 40 samples a third, so the medians see through GC's sawtooth (30 s gave 6 and
    // read one server's swing of 70 MiB as growth, while its heap after each full GC stayed flat).
    soak: { sessions: 16, durationMs: 10 * 60_000, sampleMs: 5_000 },
    watchdogMs: 14 * 60_000, // the servers soak at the same time
  },
  quick: {
    ...PLANS.quick,
    soak: { sessions: 16, durationMs: 60_000, sampleMs: 5_000 },
    watchdogMs: 3 * 60_000,
  },
  smoke: {
    ...PLANS.smoke,
    soak: { sessions: 4, durationMs: 4_000, sampleMs: 500 },
    watchdogMs: 60_000,
  },
};

/** The servers a run covers: every one in TARGETS unless `--servers` named some. */
let selected: readonly ReliabilityTarget[] = TARGETS;

/**
 * Narrows the run to the named servers (`--servers a,b`). Returns an error message naming the valid
 * servers when a name is unknown or none is given; undefined when the selection is set.
 */
export function selectServers(names: string[]): string | undefined {
  const known = TARGETS.map((t) => t.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (!names.length || unknown.length) {
    return `${unknown.length ? `unknown server ${unknown.map((n) => `'${n}'`).join(", ")}` : "no server named"}; --servers takes a comma-separated list of: ${known.join(", ")}`;
  }
  selected = TARGETS.filter((t) => names.includes(t.name));
  return undefined;
}

export async function runReliability(plan: Plan, log: (line: string) => void): Promise<Samples> {
  const TARGETS = selected;
  const samples: Samples = {
    targets: TARGETS.map((t) => t.name),
    fuzz: [],
    load: [],
    faults: [],
    attacks: [],
    soak: [],
  };
  if (plan.soak) {
    // Every server at once, so the soak takes its ten minutes however many servers there are.
    const soakPlan = plan.soak;
    for (const target of TARGETS) {
      log(`soak ${target.name}: ${soakPlan.sessions} sessions for ${soakPlan.durationMs / 1000} s`);
    }
    samples.soak.push(...(await Promise.all(TARGETS.map((target) => runSoak(target, soakPlan, log)))));
    return samples;
  }
  const one = async (target: ReliabilityTarget) => {
    const out: Pick<Samples, "fuzz" | "load" | "faults" | "attacks"> = {
      fuzz: [],
      load: [],
      faults: [],
      attacks: [],
    };
    const fuzz = { ...plan.fuzz, concurrency: plan.fuzz.httpConcurrency };
    log(`fuzz stdio ${target.name}: up to ${fuzz.messages} messages, seed ${fuzz.seed}`);
    out.fuzz.push(await fuzzStdio(target, { ...fuzz, oversizedBytes: STDIO_BIG_LINE_BYTES }));
    log(`fuzz http ${target.name}: up to ${fuzz.messages} messages, seed ${fuzz.seed}`);
    out.fuzz.push(await fuzzHttp(target, { ...fuzz, oversizedBytes: HTTP_BODY_CAP_BYTES + 1 }, log));
    for (const f of out.fuzz) {
      log(
        `fuzz ${f.transport} ${target.name}: ${f.messages_sent} messages in ${f.seconds} s, ${f.unanswered_requests} unanswered, ` +
          `${f.crashes} crashes, ${f.stdout_non_protocol_bytes} non-protocol stdout bytes`,
      );
    }
    if (plan.fuzzOnly) return out;
    log(`load ${target.name}: ${plan.load.sessions} sessions for ${plan.load.durationMs / 1000} s`);
    const load = await runLoad(target, plan.load);
    log(
      `load ${target.name}: ${load.calls_per_s} calls/s, p50 ${load.p50_ms} ms, p99 ${load.p99_ms} ms, ${load.errors} errors`,
    );
    out.load.push(load);
    if (plan.faults) out.faults.push(...(await runFaults(target, log)));
    if (plan.attacks) out.attacks.push(...(await runAttacks(target, log)));
    return out;
  };
  // Side by side (the quick pass) or one after another (figures per server undisturbed by the others);
  // either way the report lists the servers in TARGETS order.
  const results: Awaited<ReturnType<typeof one>>[] = [];
  if (plan.concurrent) results.push(...(await Promise.all(TARGETS.map(one))));
  else for (const target of TARGETS) results.push(await one(target));
  for (const r of results) {
    samples.fuzz.push(...r.fuzz);
    samples.load.push(...r.load);
    samples.faults.push(...r.faults);
    samples.attacks.push(...r.attacks);
  }
  return samples;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function figuresOf(samples: Samples): Record<string, number> {
  if (samples.soak.length) {
    return {
      soak_rss_growth_mib: Math.max(...samples.soak.map((s) => s.rss_growth_mib)),
      soak_fd_growth: Math.max(...samples.soak.map((s) => s.fd_growth)),
      soak_errors: sum(samples.soak.map((s) => s.errors)),
      soak_calls: sum(samples.soak.map((s) => s.calls)),
      soak_flat: samples.soak.every((s) => s.flat) ? 1 : 0,
      crashes: sum(samples.soak.map((s) => s.crashes)),
    };
  }
  const fuzz = (t: "stdio" | "http") => samples.fuzz.filter((f) => f.transport === t);
  const figures: Record<string, number> = {
    crashes:
      sum(samples.fuzz.map((f) => f.crashes)) +
      sum(samples.load.map((l) => l.crashes)) +
      sum(samples.faults.map((f) => f.crashes)),
    unanswered_requests: sum(samples.fuzz.map((f) => f.unanswered_requests)),
    stdout_non_protocol_bytes: sum(samples.fuzz.map((f) => f.stdout_non_protocol_bytes)),
    load_errors: sum(samples.load.map((l) => l.errors)),
    // Runs that stopped on their time bound before the count they were asked for.
    fuzz_runs_short: samples.fuzz.filter((f) => f.messages_sent < f.messages_planned).length,
    attacks_not_refused: samples.attacks.filter((a) => !a.refused).length,
    attacks_run: samples.attacks.length,
    faults_failed: samples.faults.filter((f) => !f.passed).length,
    faults_run: samples.faults.length,
  };
  for (const t of ["stdio", "http"] as const) {
    const runs = fuzz(t);
    figures[`fuzz_${t}_messages_sent`] = sum(runs.map((f) => f.messages_sent));
    figures[`fuzz_${t}_crashes`] = sum(runs.map((f) => f.crashes));
    figures[`fuzz_${t}_unanswered_requests`] = sum(runs.map((f) => f.unanswered_requests));
    figures[`fuzz_${t}_stdout_non_protocol_bytes`] = sum(runs.map((f) => f.stdout_non_protocol_bytes));
    figures[`fuzz_${t}_messages_per_s`] = Math.round(
      sum(runs.map((f) => f.messages_sent)) / Math.max(0.001, sum(runs.map((f) => f.seconds))),
    );
  }
  const load = samples.load[0];
  if (load) {
    figures.load_sessions = load.sessions;
    figures.load_calls_per_s = load.calls_per_s;
    figures.load_p50_ms = load.p50_ms;
    figures.load_p99_ms = load.p99_ms;
    figures.load_rss_before_mib = load.rss_before_mib;
    figures.load_rss_after_mib = load.rss_after_mib;
  }
  // Per dependency, the worst over the servers: the slowest recovery (-1 when one never recovered)
  // and whether every /readyz said the dependency was down while it was.
  for (const [dep, key] of [
    ["Redis", "redis"],
    ["PostgreSQL", "postgres"],
  ] as const) {
    const runs = samples.faults.filter((f) => f.name.startsWith(dep));
    if (!runs.length) continue;
    const times = runs.map((f) => f.details.recovered_ms);
    figures[`fault_${key}_recovery_ms`] = times.every((ms) => typeof ms === "number")
      ? Math.max(...times)
      : -1;
    figures[`fault_${key}_readyz_reports_down`] = runs.every(
      (f) => f.details.readyz_reports_dependency_down === true,
    )
      ? 1
      : 0;
  }
  return figures;
}
