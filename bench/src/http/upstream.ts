import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { serverEnv, trackChild, untrackChild } from "../lib/children.js";

/** The upstream child process: its pid (for /proc CPU figures), URL, and a way to stop it. */
export interface UpstreamProcess {
  readonly pid: number;
  readonly url: string;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

export async function startUpstream(): Promise<UpstreamProcess> {
  const script = fileURLToPath(new URL("./upstream-server.js", import.meta.url));
  const child = spawn(process.execPath, [script], { env: serverEnv(), stdio: ["pipe", "pipe", "pipe"] });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start the upstream server");
  trackChild(pid);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  const exited = once(child, "exit");

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited.catch(() => {});
      clearTimeout(timer);
    }
    untrackChild(pid);
  };

  try {
    const lines = createInterface({ input: child.stdout });
    let timer: NodeJS.Timeout | undefined;
    const port = await Promise.race([
      (async () => {
        for await (const line of lines) return (JSON.parse(line) as { port: number }).port;
        throw new Error(`the upstream server exited before listening: ${stderr}`);
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the upstream server did not listen within ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    child.stdout.resume();
    return { pid, url: `http://127.0.0.1:${port}`, close: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
