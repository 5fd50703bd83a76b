// One replica of a Toolshed server, as `pnpm test:replicas` runs several behind a round-robin proxy.
import type { ChildProcess } from "node:child_process";
import { startServerProcess, type RoundRobinProxy } from "@toolshed/testing";

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

/**
 * SIGKILLs replica `index` (behind `proxy`) once at least `atLeast` calls are in flight on it, so the
 * kill cuts requests mid-flight; resolves to how many were. Fails after 10 s without them.
 */
export async function killWithCallsInFlight(
  proxy: RoundRobinProxy,
  index: number,
  replica: Replica,
  atLeast = 2,
): Promise<number> {
  for (const until = Date.now() + 10_000; proxy.inFlight[index]! < atLeast;) {
    if (Date.now() > until) throw new Error("no calls in flight on the replica to kill after 10 s");
    await new Promise((r) => setTimeout(r, 2));
  }
  const inFlight = proxy.inFlight[index]!;
  await replica.kill();
  return inFlight;
}
