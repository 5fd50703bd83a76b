import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { machineInfo, updateResultsMarkdown, writeJson } from "./results.js";

export type Mode = "full" | "quick" | "smoke";
export type Machine = ReturnType<typeof machineInfo>;

const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));

/** One benchmark: its plans per mode, how to run one, and how to report what it measured. */
export interface Benchmark<Plan extends { watchdogMs: number }, Samples> {
  /** `protocol` -> `pnpm bench:protocol`, `results/protocol.json`, the `protocol` section of RESULTS.md. */
  name: string;
  plans: Record<Mode, Plan>;
  run(plan: Plan, log: (line: string) => void): Promise<Samples>;
  figures(samples: Samples): Record<string, number>;
  section(report: Report<Plan, Samples>): string;
  summary(figures: Record<string, number>, mode: Mode): string;
  /** What in the figures makes the run fail (exit 1, after the results are written), if anything. */
  verdict?(figures: Record<string, number>, mode: Mode): string | undefined;
}

export interface Report<Plan, Samples> {
  figures: Record<string, number>;
  samples: Samples;
  plan: Plan;
  mode: Mode;
  date: string;
  machine: Machine;
}

/**
 * The command line every benchmark shares: `[--quick | --smoke] [--out <dir>]`, a watchdog, the
 * JSON results beside the raw samples, and its own section of RESULTS.md.
 */
export function runBenchmark<Plan extends { watchdogMs: number }, Samples>(
  bench: Benchmark<Plan, Samples>,
  argv: string[] = process.argv.slice(2),
): void {
  const fail = (message: string, code: number) => {
    process.stderr.write(`bench:${bench.name}: ${message}\n`);
    process.exit(code);
  };
  let mode: Mode = "full";
  let out = PACKAGE_DIR;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") mode = "quick";
    else if (arg === "--smoke") mode = "smoke";
    else if (arg === "--out" && argv[i + 1]) out = resolve(argv[++i]!);
    else if (arg !== "--") fail(`unknown argument '${arg}'; use --quick, --smoke, --out <dir>`, 2);
  }
  const plan = bench.plans[mode];
  const watchdog = setTimeout(
    () => fail(`still running after ${plan.watchdogMs / 1000} s; giving up`, 1),
    plan.watchdogMs,
  );
  watchdog.unref();

  const main = async () => {
    const machine = machineInfo();
    const date = new Date().toISOString();
    const samples = await bench.run(plan, (line) => process.stderr.write(`  ${line}\n`));
    const figures = bench.figures(samples);
    machine.loadavg_1m_end = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    await writeJson(join(out, "results", `${bench.name}.json`), {
      figures,
      samples,
      plan,
      machine,
      mode,
      quick: mode === "quick",
      date,
    });
    await updateResultsMarkdown(
      join(out, "RESULTS.md"),
      bench.name,
      bench.section({ figures, samples, plan, mode, date, machine }),
    );
    process.stdout.write(bench.summary(figures, mode));
    clearTimeout(watchdog);
    const failure = bench.verdict?.(figures, mode);
    if (failure) fail(failure, 1);
  };
  main().catch((err: unknown) =>
    fail(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1),
  );
}
