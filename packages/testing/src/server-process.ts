import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

// A built Toolshed server as a process of its own on HTTP: one replica of a deployment, for tests
// that need several (behind a proxy, sharing Redis) or need to kill one.

export interface ServerProcess {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** e.g. http://127.0.0.1:41234/mcp */
  url: string;
  /** Everything the process wrote to stderr (its log) so far. */
  stderr(): string;
  /** SIGTERM (graceful, SIGKILL after 5 s), or the signal given, e.g. SIGKILL for a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServerProcessOptions {
  /** Extra command-line arguments after `--transport http --port 0`. */
  args?: string[];
  /** Environment added to the process's (or, with `cleanEnv`, to PATH alone). */
  env?: Record<string, string>;
  /** Start from an environment holding only PATH, so nothing of the test's leaks in. */
  cleanEnv?: boolean;
  /** How long the process may take to log its URL. Default 30 s. */
  startTimeoutMs?: number;
  /** Also wait until `/readyz` answers 200 (its stores are reachable). Default false. */
  waitReady?: boolean;
}

/** Starts `bin` on HTTP on a free port; resolves once it logs the URL it listens on. */
export async function startServerProcess(
  bin: string,
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const base = options.cleanEnv ? { PATH: process.env.PATH ?? "" } : process.env;
  const child = spawn(
    process.execPath,
    [bin, "--transport", "http", "--port", "0", ...(options.args ?? [])],
    {
      env: { ...base, TOOLSHED_LOG_LEVEL: "info", ...options.env },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let log = "";
  const lines = createInterface({ input: child.stderr });
  const exited = once(child, "exit");
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${bin} did not start in ${startTimeoutMs / 1000} s:\n${log}`)),
      startTimeoutMs,
    );
    lines.on("line", (line) => {
      log += `${line}\n`;
      const m = /"url":"(http:\/\/[^"]+)\/mcp"/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited while starting:\n${log}`));
    });
  });
  const handle: ServerProcess = {
    child,
    origin,
    url: `${origin}/mcp`,
    stderr: () => log,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  if (options.waitReady) {
    for (let i = 0; ; i++) {
      const ready = await fetch(`${origin}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      if (i > 300) {
        await handle.stop("SIGKILL");
        throw new Error(`${bin} not ready in 30 s:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return handle;
}
