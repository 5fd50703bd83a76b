import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// The kit's fixture server as a process of its own: one replica of a deployment, for tests that
// need several (behind a proxy, sharing Redis) or need to kill one.
const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

export interface Replica {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** e.g. http://127.0.0.1:41234/mcp */
  url: string;
  stderr(): string;
  /** SIGTERM (graceful, SIGKILL after 5 s), or the signal given, e.g. SIGKILL for a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the fixture on HTTP on a free port; resolves once it logs the URL it listens on. */
export async function startReplica(env: Record<string, string> = {}): Promise<Replica> {
  const child = spawn(process.execPath, [BIN, "--transport", "http", "--port", "0"], {
    env: { ...process.env, TOOLSHED_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const lines = createInterface({ input: child.stderr });
  const exited = once(child, "exit");
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start in 30 s: ${log}`)), 30_000);
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
      reject(new Error(`replica exited while starting: ${log}`));
    });
  });
  return {
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
}
