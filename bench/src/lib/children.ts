import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Child processes the benchmark started, killed on every way out of it (normal end, thrown error,
 * Ctrl-C, watchdog) so that no server outlives a run.
 */
const live = new Set<number>();
let installed = false;

export function trackChild(pid: number): void {
  installHooks();
  live.add(pid);
}

export function untrackChild(pid: number): void {
  live.delete(pid);
}

function killAll(): void {
  for (const pid of live) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installHooks(): void {
  if (installed) return;
  installed = true;
  process.once("exit", killAll);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping the servers\n`);
      process.exit(code);
    });
  }
}

/** The environment the servers get: ours without the knobs that would change their behaviour. */
export function serverEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith("TOOLSHED_") || ["LOG_LEVEL", "PORT", "NODE_OPTIONS", "NODE_ENV"].includes(key))
      continue;
    env[key] = value;
  }
  return env;
}

let ticksPerSecond: number | undefined;

/**
 * The fields of /proc/<pid>/stat after the command name (which sits in parentheses and may contain
 * spaces): [0] the state, [1] the parent's pid, [11] and [12] user and system ticks. Undefined when the
 * process is gone, or off Linux.
 */
export function procStat(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined off Linux. */
export function processCpuSeconds(pid: number): number | undefined {
  const fields = procStat(pid);
  if (!fields) return undefined;
  const ticks = Number(fields[11]) + Number(fields[12]);
  ticksPerSecond ??= clockTicks();
  return Number.isFinite(ticks) ? ticks / ticksPerSecond : undefined;
}

/** Resident set size of a process in MiB, from /proc; undefined off Linux. */
export function processRssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

function clockTicks(): number {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return value > 0 ? value : 100;
  } catch {
    return 100;
  }
}
