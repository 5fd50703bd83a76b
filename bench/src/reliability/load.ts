import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { processRssMiB } from "../lib/children.js";
import { closedLoop, summarize, type ClosedLoopRun } from "../lib/closed-loop.js";
import { round } from "../lib/stats.js";
import { openFds, startServer, withTimeout } from "./processes.js";
import type { ReliabilityTarget, ServerProcess } from "./types.js";

export interface LoadPlan {
  sessions: number;
  durationMs: number;
}

export interface LoadResult {
  target: string;
  sessions: number;
  seconds: number;
  calls: number;
  errors: number;
  calls_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  rss_before_mib: number;
  rss_after_mib: number;
  fds_before: number;
  fds_after: number;
  crashes: number;
  error_examples: string[];
}

const CALL_TIMEOUT_MS = 10_000;

/** SDK clients over Streamable HTTP, each in a closed loop of the target's first safe call. */
export async function connectClients(url: string, sessions: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: sessions }, async () => {
      const client = new Client({ name: "toolshed-reliability", version: "0.0.0" }, { capabilities: {} });
      await withTimeout(client.connect(new StreamableHTTPClientTransport(new URL(url))), 15_000, "connect");
      return client;
    }),
  );
}

export interface LoopStats extends ClosedLoopRun {
  errors: number;
  examples: string[];
}

/**
 * The SDK client leaves an abort listener behind per call on its transport's signal (Node warns
 * past 1500), so a loop that runs long enough replaces its client after this many calls.
 */
const CALLS_PER_CLIENT = 1_000;

/**
 * Runs every client's loop until `until()` says stop; errors are thrown calls and isError results,
 * counted and left out of the latencies. With `reconnect`, a client is closed and replaced every
 * CALLS_PER_CLIENT calls.
 */
export async function callLoop(
  clients: Client[],
  target: ReliabilityTarget,
  until: () => boolean,
  reconnect?: () => Promise<Client>,
): Promise<LoopStats> {
  const call = target.safeCalls[0]!;
  let errors = 0;
  const examples: string[] = [];
  const calls = clients.map(() => 0);
  const run = await closedLoop({ workers: clients.length, until }, async (i) => {
    if (reconnect && ++calls[i]! % CALLS_PER_CLIENT === 0) {
      const old = clients[i]!;
      clients[i] = await reconnect();
      // DELETE the session: one left to idle out would read as a leak in RSS and sessions.
      await (old.transport as StreamableHTTPClientTransport | undefined)?.terminateSession().catch(() => {});
      await old.close();
    }
    try {
      const result = await clients[i]!.callTool(call, undefined, { timeout: CALL_TIMEOUT_MS });
      if (result.isError) throw new Error(JSON.stringify(result.content).slice(0, 200));
      return true;
    } catch (err) {
      errors++;
      if (examples.length < 5) examples.push((err as Error).message.slice(0, 200));
      return false;
    }
  });
  return { ...run, errors, examples };
}

export async function runLoad(target: ReliabilityTarget, plan: LoadPlan): Promise<LoadResult> {
  const server: ServerProcess = await startServer(target);
  try {
    const clients = await connectClients(`${server.base}/mcp`, plan.sessions);
    const rssBefore = processRssMiB(server.pid) ?? 0;
    const fdsBefore = openFds(server.pid) ?? 0;
    const end = Date.now() + plan.durationMs;
    const url = `${server.base}/mcp`;
    const stats = await callLoop(
      clients,
      target,
      () => Date.now() >= end || server.exit() !== undefined,
      async () => (await connectClients(url, 1))[0]!,
    );
    const rssAfter = processRssMiB(server.pid) ?? 0;
    const fdsAfter = openFds(server.pid) ?? 0;
    await Promise.allSettled(clients.map((c) => c.close()));
    const crashed = server.exit() !== undefined;
    const summary = summarize(stats);
    return {
      target: target.name,
      sessions: plan.sessions,
      seconds: round(stats.seconds, 2),
      calls: summary.calls,
      errors: stats.errors,
      calls_per_s: summary.calls_per_s,
      p50_ms: summary.p50_ms,
      p99_ms: summary.p99_ms,
      max_ms: summary.calls ? summary.max_ms : 0,
      rss_before_mib: round(rssBefore, 1),
      rss_after_mib: round(rssAfter, 1),
      fds_before: fdsBefore,
      fds_after: fdsAfter,
      crashes: crashed ? 1 : 0,
      error_examples: stats.examples,
    };
  } finally {
    await server.stop("SIGTERM", 5_000);
  }
}
