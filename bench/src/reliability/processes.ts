import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { serverEnv, trackChild, untrackChild } from "../lib/children.js";
import { freePort, waitForPort } from "../lib/net.js";
export { withTimeout } from "../lib/timeout.js";
import type { Exit, ReliabilityTarget, ServerProcess } from "./types.js";

const START_TIMEOUT_MS = 15_000;
const LOG_LINES_KEPT = 20_000;

/** Spawns `target` with `args`; for `--transport http` pass `port` and it waits until it listens. */
export async function startServer(
  target: ReliabilityTarget,
  options: { args?: string[]; env?: Record<string, string>; port?: number; stdio?: boolean } = {},
): Promise<ServerProcess> {
  const port = options.stdio ? 0 : (options.port ?? (await freePort()));
  const transportArgs = options.stdio ? [] : ["--transport", "http", "--port", String(port)];
  const child = spawn(
    process.execPath,
    [target.bin, ...target.args, ...(target.freshArgs?.() ?? []), ...transportArgs, ...(options.args ?? [])],
    {
      env: { ...serverEnv(), ...target.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${target.name}`);
  trackChild(pid);
  const lines: string[] = [];
  let partial = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) if (line) lines.push(line);
    if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
  });
  let stdout = 0;
  if (!options.stdio) child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.length));
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      untrackChild(pid);
      resolve(exit);
    }),
  );
  const proc: ServerProcess = {
    child,
    pid,
    port,
    base: `http://127.0.0.1:${port}`,
    logLines: () => (partial ? [...lines, partial] : [...lines]),
    stdoutBytes: () => stdout,
    exit: () => exit,
    exited,
    async stop(signal = "SIGTERM", graceMs = 5_000) {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  if (!options.stdio) {
    const died = exited.then((e) => {
      throw new Error(
        `${target.name} exited (${e.code ?? e.signal}) while starting: ${lines.slice(-5).join(" | ")}`,
      );
    });
    died.catch(() => {});
    try {
      await Promise.race([waitForPort(port, START_TIMEOUT_MS), died]);
    } catch (err) {
      await proc.stop("SIGKILL");
      throw err;
    }
  }
  return proc;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Open file descriptors of a process, from /proc; undefined off Linux. */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** GET a path; never throws (status 0 when there was no response). */
export async function httpGet(base: string, path: string): Promise<{ status: number; body: string }> {
  try {
    const res = await request(`${base}${path}`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    return { status: res.statusCode, body: await res.body.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

/** The value of an unlabelled gauge or counter in Prometheus text. */
export function metricValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
}

/** A throwaway redis-server on a free port (never the machine's own), killed with the run. */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
      ],
      {
        stdio: ["ignore", "ignore", "ignore"],
      },
    );
    child = c;
    if (c.pid === undefined) throw new Error("could not start redis-server; is it installed?");
    trackChild(c.pid);
    await waitForPort(port, 10_000);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGKILL");
    await gone;
    if (c.pid !== undefined) untrackChild(c.pid);
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}

/** A throwaway PostgreSQL cluster in a temp dir on a free port (never the machine's own). */
export interface PostgresProcess {
  readonly port: number;
  readonly url: string;
  /** A fast shutdown (SIGINT): clients are disconnected, as when an operator stops the server. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(root, version, "bin") : undefined;
}

/** The postgres system user: the server refuses to run as root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** Why a private cluster cannot be started here, or undefined when it can. */
export function postgresMissing(): string | undefined {
  const bin = postgresBinDir();
  if (!bin || !existsSync(join(bin, "initdb"))) {
    return "PostgreSQL's initdb is not installed (apt-get install postgresql)";
  }
  const isRoot = process.getuid?.() === 0;
  if (isRoot && !postgresUser()) return "running as root without a 'postgres' user to run the server as";
  return undefined;
}

export async function startPostgres(): Promise<PostgresProcess> {
  const missing = postgresMissing();
  if (missing) throw new Error(`cannot start a private PostgreSQL: ${missing}`);
  const bin = postgresBinDir()!;
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  const dir = mkdtempSync(join(tmpdir(), "toolshed-reliability-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(join(bin, "initdb"), ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"], {
    ...as,
    stdio: "ignore",
  });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn(
      join(bin, "postgres"),
      [
        "-D",
        join(dir, "data"),
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
      ],
      { ...as, stdio: ["ignore", "ignore", "ignore"] },
    );
    child = c;
    if (c.pid === undefined) throw new Error("could not start postgres");
    trackChild(c.pid);
    await waitForPort(port, 15_000);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGINT");
    await gone;
    if (c.pid !== undefined) untrackChild(c.pid);
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
