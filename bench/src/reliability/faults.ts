import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { callLoop, connectClients } from "./load.js";
import {
  httpGet,
  metricValue,
  postgresMissing,
  sleep,
  startPostgres,
  startRedis,
  startServer,
} from "./processes.js";
import type { ServerProcess } from "./types.js";
import { agent, openSession, rawPost } from "./raw-http.js";
import type { ReliabilityTarget, ToolCall } from "./types.js";
import { upstreamChaos } from "./upstream-chaos.js";

export interface FaultResult {
  name: string;
  target: string;
  passed: boolean;
  /** Server exits nobody asked for. */
  crashes: number;
  details: Record<string, number | string | boolean | null>;
}

/** The server must answer again within this long after a fault ends. */
export const RECOVERY_LIMIT_MS = 5_000;

async function sessionsActive(server: ServerProcess): Promise<number | undefined> {
  const res = await httpGet(server.base, "/metrics");
  return res.status === 200 ? metricValue(res.body, "mcp_sessions_active") : undefined;
}

async function closeAll(clients: readonly Client[]): Promise<void> {
  await Promise.allSettled(clients.map((c) => c.close()));
}

/**
 * Clients that vanish mid-call (socket destroyed while a slow call runs): the server keeps answering
 * others, and their sessions expire, bringing `mcp_sessions_active` back to its baseline.
 */
export async function disconnectMidCall(target: ReliabilityTarget, victims = 4): Promise<FaultResult> {
  const slow = target.slowCall!;
  const server = await startServer(target, { args: ["--session-idle-seconds", "2"] });
  const dispatcher = agent(victims + 2);
  try {
    const [keeper] = await connectClients(`${server.base}/mcp`, 1);
    // One call first, unhurried: a cold store (vector-search's PGlite seeding a fresh data dir) is
    // start-up, not what this fault measures, and on a loaded machine it can outlast a call timeout.
    await keeper!.callTool(target.safeCalls[0]!, undefined, { timeout: 60_000 });
    const baseline = await sessionsActive(server);
    let stop = false;
    const keepers = [keeper!];
    const steady = callLoop(
      keepers,
      target,
      () => stop,
      async () => (await connectClients(`${server.base}/mcp`, 1))[0]!,
    );
    await Promise.all(
      Array.from({ length: victims }, async () => {
        const session = await openSession(`${server.base}/mcp`, {}, dispatcher);
        const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: slow(3_000) });
        // The abort destroys the socket mid-call: the client is gone without a DELETE.
        await rawPost(`${server.base}/mcp`, body, session.headers, dispatcher, 200);
      }),
    );
    const during = await sessionsActive(server);
    const deadline = Date.now() + 10_000;
    let after = during;
    const t0 = Date.now();
    while (after !== baseline && Date.now() < deadline && !server.exit()) {
      await sleep(250);
      after = await sessionsActive(server);
    }
    const settledMs = Date.now() - t0;
    stop = true;
    const stats = await steady;
    await closeAll(keepers);
    const crashed = server.exit() !== undefined;
    return {
      name: "client disconnects mid-call",
      target: target.name,
      passed:
        !crashed &&
        stats.errors === 0 &&
        stats.latencies.length > 0 &&
        baseline !== undefined &&
        after === baseline,
      crashes: crashed ? 1 : 0,
      details: {
        victims,
        sessions_baseline: baseline ?? null,
        sessions_after_disconnect: during ?? null,
        sessions_after_idle_expiry: after ?? null,
        sessions_back_to_baseline_ms: settledMs,
        other_client_calls: stats.latencies.length,
        other_client_errors: stats.errors,
        ...(stats.examples.length ? { other_client_error_example: stats.examples[0]! } : {}),
      },
    };
  } finally {
    await dispatcher.close();
    await server.stop("SIGKILL");
  }
}

/** SIGTERM while calls are in flight: every one of them completes, and the exit code is 0. */
export async function sigtermUnderLoad(target: ReliabilityTarget, inflight = 8): Promise<FaultResult> {
  const slow = target.slowCall!;
  const server = await startServer(target);
  try {
    const clients = await connectClients(`${server.base}/mcp`, inflight);
    const calls = clients.map((c) =>
      c.callTool(slow(1_500), undefined, { timeout: 15_000 }).then(
        (r) => (r.isError ? "error result" : "ok"),
        (err: unknown) => (err as Error).message,
      ),
    );
    await sleep(400);
    const t0 = Date.now();
    server.child.kill("SIGTERM");
    const outcomes = await Promise.all(calls);
    const exit = await Promise.race([server.exited, sleep(15_000).then(() => undefined)]);
    await closeAll(clients);
    const failed = outcomes.filter((o) => o !== "ok");
    return {
      name: "SIGTERM under load",
      target: target.name,
      passed: failed.length === 0 && exit?.code === 0,
      crashes: exit && exit.code !== 0 ? 1 : 0,
      details: {
        calls_in_flight: inflight,
        calls_failed: failed.length,
        first_failure: failed[0] ?? null,
        exit_code: exit?.code ?? null,
        exit_signal: exit?.signal ?? null,
        exit_after_ms: Date.now() - t0,
      },
    };
  } finally {
    await server.stop("SIGKILL");
  }
}

/** A dependency the fault suite can stop and start again (a throwaway process of its own). */
interface Dependency {
  name: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A dependency stopped and restarted mid-run: what the server does while it is down, whether
 * /readyz says so, and how soon after it is back calls succeed again.
 */
async function dependencyRestart(
  target: ReliabilityTarget,
  dep: Dependency,
  serverArgs: string[],
  probeCall: ToolCall,
  downMs: number,
): Promise<FaultResult> {
  const server = await startServer(target, { args: serverArgs });
  try {
    const url = `${server.base}/mcp`;
    const [client] = await connectClients(url, 1);
    const probe = async (c: Client): Promise<boolean> => {
      try {
        const r = await c.callTool(probeCall, undefined, { timeout: 2_000 });
        return !r.isError;
      } catch {
        return false;
      }
    };
    // Up before the outage: the first calls may wait on a cold start on a loaded machine.
    let upBefore = false;
    for (const until = Date.now() + 20_000; !upBefore && Date.now() < until;) {
      upBefore = await probe(client!);
      if (!upBefore) await sleep(250);
    }
    const readyBefore = (await httpGet(server.base, "/readyz")).status;
    await dep.stop();
    const downUntil = Date.now() + downMs;
    let downOk = 0;
    let downFailed = 0;
    while (Date.now() < downUntil) {
      if (await probe(client!)) downOk++;
      else downFailed++;
      await sleep(50); // a steady trickle, not a busy loop against a fast-failing server
    }
    const readyDown = (await httpGet(server.base, "/readyz")).status;
    const healthDown = (await httpGet(server.base, "/healthz")).status;
    await dep.start();
    const t0 = Date.now();
    let recoveredMs: number | null = null;
    let viaNewSession = false;
    while (Date.now() - t0 < RECOVERY_LIMIT_MS * 2 && !server.exit()) {
      if (await probe(client!)) {
        recoveredMs = Date.now() - t0;
        break;
      }
      // A session broken by the outage may be gone; a fresh one counts as answering again.
      const fresh = await connectClients(url, 1).catch(() => []);
      if (fresh[0] && (await probe(fresh[0]))) {
        recoveredMs = Date.now() - t0;
        viaNewSession = true;
      }
      await closeAll(fresh);
      if (recoveredMs !== null) break;
      await sleep(100);
    }
    const readyAfter = (await httpGet(server.base, "/readyz")).status;
    await closeAll([client!]);
    const crashed = server.exit() !== undefined;
    return {
      name: `${dep.name} stopped and restarted`,
      target: target.name,
      passed: !crashed && upBefore && recoveredMs !== null && recoveredMs <= RECOVERY_LIMIT_MS,
      crashes: crashed ? 1 : 0,
      details: {
        down_ms: downMs,
        calls_ok_while_down: downOk,
        calls_failed_while_down: downFailed,
        readyz_before: readyBefore,
        readyz_while_down: readyDown,
        readyz_reports_dependency_down: readyDown === 503,
        healthz_while_down: healthDown,
        readyz_after: readyAfter,
        recovered_ms: recoveredMs,
        recovered_via_new_session: viaNewSession,
      },
    };
  } finally {
    await server.stop("SIGKILL");
  }
}

/** Redis, the event store behind `--redis-url`, killed and restarted mid-run. */
export async function redisRestart(target: ReliabilityTarget, downMs = 2_000): Promise<FaultResult> {
  const redis = await startRedis();
  try {
    return await dependencyRestart(
      target,
      { name: "Redis", stop: () => redis.stop(), start: () => redis.start() },
      ["--redis-url", redis.url],
      target.safeCalls[0]!,
      downMs,
    );
  } finally {
    await redis.stop();
  }
}

/** PostgreSQL, the database behind a server's `--postgres-url`, shut down and started again mid-run. */
export async function postgresRestart(target: ReliabilityTarget, downMs = 2_000): Promise<FaultResult> {
  const pg = target.postgres;
  if (!pg) throw new Error(`${target.name} has no PostgreSQL mode`);
  const postgres = await startPostgres();
  try {
    return await dependencyRestart(
      target,
      { name: "PostgreSQL", stop: () => postgres.stop(), start: () => postgres.start() },
      pg.args(postgres.url),
      pg.probe,
      downMs,
    );
  } finally {
    await postgres.destroy();
  }
}

export async function runFaults(
  target: ReliabilityTarget,
  log: (line: string) => void,
): Promise<FaultResult[]> {
  const faults: ((t: ReliabilityTarget) => Promise<FaultResult>)[] = [];
  if (target.slowCall) faults.push(disconnectMidCall, sigtermUnderLoad);
  else log(`fault ${target.name}: no slow call, so no mid-call disconnect or SIGTERM-under-load fault`);
  faults.push(redisRestart);
  if (target.upstream) faults.push(upstreamChaos);
  if (target.postgres) {
    const missing = postgresMissing();
    if (missing) log(`fault ${target.name} / PostgreSQL: skipped, ${missing}`);
    else faults.push(postgresRestart);
  }
  const results: FaultResult[] = [];
  for (const fault of faults) {
    const result = await fault(target);
    log(
      `fault ${target.name} / ${result.name}: ${result.passed ? "passed" : "FAILED"} ${JSON.stringify(result.details)}`,
    );
    results.push(result);
  }
  return results;
}
