// One replica of a Toolshed server, as `pnpm test:replicas` runs several behind a round-robin proxy.
import type { ChildProcess } from "node:child_process";
import { startServerProcess } from "@toolshed/testing";

export interface Replica {
  child: ChildProcess;
  origin: string;
  log(): string;
  kill(): Promise<void>;
}

/**
 * One server process on HTTP with only `env` (and PATH), nothing of the test's environment; resolves
 * once /readyz answers 200, that is once its stores are reachable. `kill` is a crash: SIGKILL.
 */
export async function startReplica(bin: string, env: Record<string, string>): Promise<Replica> {
  const server = await startServerProcess(bin, {
    env,
    cleanEnv: true,
    startTimeoutMs: 60_000,
    waitReady: true,
  });
  return {
    child: server.child,
    origin: server.origin,
    log: () => server.stderr(),
    kill: () => server.stop("SIGKILL"),
  };
}

/** Tool calls a replica answered without error, from its /metrics (mcp_tool_calls_total). */
export async function toolCallsServed(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const series = /^mcp_tool_calls_total\{(?=[^}]*outcome="ok")[^}]*\} (\d+)$/gm;
  return [...text.matchAll(series)].reduce((sum, m) => sum + Number(m[1]), 0);
}
