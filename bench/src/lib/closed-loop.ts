import { quantile, round } from "./stats.js";

export interface ClosedLoopPlan {
  /** Calls in flight at any time: one loop per worker, each starting its next call when one ends. */
  workers: number;
  /** Checked before each call: true ends that worker's loop. */
  until: () => boolean;
  /** No more calls are issued once this many have been (all workers together). */
  maxCalls?: number;
}

export interface ClosedLoopRun {
  /** Milliseconds of each timed call, sorted ascending. */
  latencies: Float64Array;
  /** Wall seconds from the first call to the last worker's end. */
  seconds: number;
}

/**
 * The load every benchmark drives: `workers` loops, each timing `call(worker)` from just before it to
 * its resolved result. A call that resolves `false` (one that failed, counted by the caller) is left
 * out of the latencies; a call that throws ends the run with that error.
 */
export async function closedLoop(
  plan: ClosedLoopPlan,
  call: (worker: number) => Promise<boolean | void>,
): Promise<ClosedLoopRun> {
  const latencies: number[] = [];
  const maxCalls = plan.maxCalls ?? Number.POSITIVE_INFINITY;
  let issued = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: plan.workers }, async (_, worker) => {
      while (issued < maxCalls && !plan.until()) {
        issued++;
        const t0 = performance.now();
        if ((await call(worker)) !== false) latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies: Float64Array.from(latencies).sort(), seconds: (performance.now() - start) / 1000 };
}

/** A deadline `ms` from now, as a closed loop's `until`. */
export function forMs(ms: number): () => boolean {
  const end = performance.now() + ms;
  return () => performance.now() >= end;
}

export interface LatencySummary {
  calls: number;
  seconds: number;
  calls_per_s: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
}

/** Throughput and latency quantiles of a closed-loop run, rounded as the results files print them. */
export function summarize(run: ClosedLoopRun): LatencySummary {
  const { latencies, seconds } = run;
  let sum = 0;
  for (const v of latencies) sum += v;
  const calls = latencies.length;
  return {
    calls,
    seconds: round(seconds, 3),
    calls_per_s: round(calls / seconds, 1),
    p50_ms: round(quantile(latencies, 0.5), 3),
    p99_ms: round(quantile(latencies, 0.99), 3),
    mean_ms: round(calls ? sum / calls : Number.NaN, 3),
    max_ms: round(latencies[calls - 1] ?? Number.NaN, 3),
  };
}
