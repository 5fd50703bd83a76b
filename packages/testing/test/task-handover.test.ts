import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { RedisTaskStore } from "@toolshed/server";
import { needRedis } from "../../../test-support/services.js";
import { modernPost, readReply } from "../src/index.js";
import { startReplica, type Replica } from "./fixture-replica.js";

// Hand-over of a task whose replica was killed (SIGKILL), across real fixture processes sharing
// Redis, over raw 2026-07-28 JSON-RPC on loopback HTTP with API-key auth (the re-run needs the
// caller's principal and scopes, and must not need the key). The manager-level races and the fencing
// of a replica that wakes up are in packages/server/test/task-handover.test.ts.

const TASKS = "io.modelcontextprotocol/tasks";
const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const CLAIMED = "took over a task whose server instance stopped";

let nextId = 1;

async function rpc(url: string, method: string, params: Record<string, unknown>, key: string) {
  const res = await modernPost(url, method, params, {
    id: nextId++,
    capabilities: { extensions: { [TASKS]: {} } },
    clientName: "handover-test",
    headers: { "x-api-key": key },
  });
  const text = await res.text();
  const reply = readReply(text) as { result?: Record<string, unknown>; error?: unknown };
  if (!reply.result) throw new Error(`${method} failed: ${text.slice(0, 500)}`);
  return reply.result;
}

/** Every tasks/get answer through `url` until the task is finished, or throws after `ms`. */
async function pollToEnd(url: string, taskId: string, key: string, ms = 15_000) {
  const seen: Record<string, unknown>[] = [];
  const until = Date.now() + ms;
  for (;;) {
    const t = await rpc(url, "tasks/get", { taskId }, key);
    seen.push(t);
    if (["completed", "failed", "cancelled"].includes(t.status as string)) return seen;
    if (Date.now() > until) throw new Error(`task still ${JSON.stringify(t)} after ${ms} ms`);
    await sleep(40);
  }
}

const claims = (r: Replica) =>
  r
    .stderr()
    .split("\n")
    .filter((l) => l.includes(CLAIMED)).length;

const redisUp = await needRedis(REDIS_URL);

describe.runIf(redisUp)("a killed replica's task is handed over to another replica", () => {
  const key = generateApiKey();
  const run = Math.random().toString(36).slice(2, 8);
  let a: Replica, b: Replica, c: Replica, d: Replica, e: Replica | undefined, f: Replica | undefined;
  let env: Record<string, string>;
  beforeAll(async () => {
    env = {
      TOOLSHED_REDIS_URL: REDIS_URL,
      TOOLSHED_TASK_LEASE_MS: "1000", // the least the CLI takes
      TOOLSHED_TASK_MAX_HANDOVERS: "1",
      // Hand-over on a read, by the replica read through: no sweeps (task-notifications.test.ts has one).
      TOOLSHED_TASK_SWEEP_MS: "0",
      TOOLSHED_TASK_TTL_MS: "120000",
      TOOLSHED_SHUTDOWN_TIMEOUT_SECONDS: "1",
      TOOLSHED_API_KEYS: `handover${run}:${hashApiKey(key)}:everything:*`,
    };
    [a, b, c, d] = await Promise.all([
      startReplica(env),
      startReplica(env),
      startReplica(env),
      startReplica(env),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a, b, c, d, e, f].map((r) => r?.stop() ?? Promise.resolve()));
  });

  it("a read-only task: polled through two replicas at once, exactly one runs it again, and both report its result", async () => {
    const created = await rpc(
      a.url,
      "tools/call",
      { name: "slow_compute", arguments: { seconds: 2, label: "handed" } },
      key,
    );
    expect(created.resultType).toBe("task");
    const taskId = created.taskId as string;
    await a.stop("SIGKILL");
    // What a re-run needs is kept beside the task: who called (no credential) and what.
    const store = await RedisTaskStore.connect({ url: REDIS_URL, keyPrefix: "toolshed:everything:tasks" });
    const record = await store.get(taskId);
    await store.close();
    expect(record?.rerun).toMatchObject({
      args: { seconds: 2, label: "handed" },
      auth: { clientId: `handover${run}`, scopes: ["everything:*"] },
    });
    expect(JSON.stringify(record)).not.toContain(key);
    expect(JSON.stringify(record)).not.toContain(hashApiKey(key));
    const [throughB, throughC] = await Promise.all([
      pollToEnd(b.url, taskId, key),
      pollToEnd(c.url, taskId, key),
    ]);
    for (const seen of [throughB, throughC]) {
      expect(seen.at(-1)).toMatchObject({
        taskId,
        status: "completed",
        result: { structuredContent: { text: "computed handed in 2s" } },
      });
    }
    // Working all along (never failed), resumed on one of them, and run there once.
    const all = [...throughB, ...throughC];
    expect(all.filter((t) => t.status !== "working" && t.status !== "completed")).toEqual([]);
    expect(all.some((t) => String(t.statusMessage).startsWith("resumed on another server instance"))).toBe(
      true,
    );
    expect(claims(b) + claims(c)).toBe(1);
    // The key never reaches a log line or the record a re-run reads.
    for (const r of [b, c]) expect(r.stderr()).not.toContain(key);
  });

  it("the hand-over cap: a task whose second replica is killed too fails, saying it was handed over", async () => {
    const created = await rpc(
      b.url,
      "tools/call",
      { name: "slow_compute", arguments: { seconds: 30, label: "twice" } },
      key,
    );
    const taskId = created.taskId as string;
    await b.stop("SIGKILL");
    const before = claims(c);
    // C takes it over (hand-over 1 of at most 1)...
    const until = Date.now() + 10_000;
    for (;;) {
      const t = await rpc(c.url, "tasks/get", { taskId }, key);
      expect(t.status).toBe("working");
      if (claims(c) > before) break;
      if (Date.now() > until) throw new Error("C never took the task over");
      await sleep(40);
    }
    // ...and is killed in turn: D does not run it a third time.
    await c.stop("SIGKILL");
    const seen = await pollToEnd(d.url, taskId, key);
    const t = seen.at(-1)!;
    expect(t.status).toBe("failed");
    expect((t.error as { message: string }).message).toContain("stopped before it finished");
    expect((t.error as { message: string }).message).toContain("after 1 hand-over");
    expect(claims(d)).toBe(0);
  });

  it("a graceful stop (SIGTERM) that outlasts the shutdown timeout gives a read-only task up: another replica runs it, with no shutdown error", async () => {
    e = await startReplica(env);
    const created = await rpc(
      d.url,
      "tools/call",
      { name: "slow_compute", arguments: { seconds: 3, label: "moved" } },
      key,
    );
    const taskId = created.taskId as string;
    await d.stop(); // drains for 1 s, then aborts what still runs
    expect(d.stderr()).toContain("gave up running tasks for another instance to run");
    const seen = await pollToEnd(e.url, taskId, key);
    expect(seen.at(-1)).toMatchObject({
      status: "completed",
      result: { structuredContent: { text: "computed moved in 3s" } },
    });
    expect(seen.some((t) => String(t.statusMessage).startsWith("resumed on another server instance"))).toBe(
      true,
    );
    expect(claims(e)).toBe(1);
  });

  it("a call too big to keep for a hand-over (over 64 KiB) is not run again: its task fails as a write tool's does", async () => {
    f = await startReplica(env);
    const created = await rpc(
      e!.url,
      "tools/call",
      { name: "slow_compute", arguments: { seconds: 30, label: "x".repeat(70_000) } },
      key,
    );
    const taskId = created.taskId as string;
    await e!.stop("SIGKILL");
    const t = (await pollToEnd(f.url, taskId, key)).at(-1)!;
    expect(t.status).toBe("failed");
    expect((t.error as { message: string }).message).toContain("stopped before it finished");
    expect(claims(f)).toBe(0);
  });
});
