// What a caller follows through the gateway while the upstream goes away and comes back: the
// upstream is the kit fixture as a process of its own on HTTP, keeping its tasks in a real Redis, so
// a task survives the process (the restarted one takes it over, as replicas do). It is killed
// (SIGKILL) mid-task and started again on the same port; the gateway reopens its listen stream to
// it, and the caller's listen still gets the task's terminal status with its result (the caller
// speaks raw 2026-07-28 JSON-RPC on loopback HTTP: the SDK v2 client has no tasks support), and a
// resource's updates (the real SDK client's listen).
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { UpstreamClient } from "@toolshed/client";
import { createLogger } from "@toolshed/logging";
import {
  connectHttpClient,
  modernListen,
  modernPost,
  readReply,
  recordChanges,
  startServerProcess,
  type ServerProcess,
} from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { needRedis } from "../../../test-support/services.js";
import { FIXTURE_BIN, startGateway, type TestGateway } from "./stack.js";

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const TASKS = "io.modelcontextprotocol/tasks";
// A database of its own: the fixture keeps its tasks under toolshed:everything:tasks, which other
// test files' fixture replicas use too.
const REDIS_URL = `${process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"}/13`;
const redisUp = await needRedis(process.env.TOOLSHED_TEST_REDIS_URL);

const ENV = {
  TOOLSHED_REDIS_URL: REDIS_URL,
  TOOLSHED_TASK_LEASE_MS: "1000", // the least the CLI takes: the killed process's task lapses fast
  TOOLSHED_TASK_SWEEP_MS: "300", // and the restarted one finds it without a poll
  TOOLSHED_TASK_TTL_MS: "120000",
  TOOLSHED_SHUTDOWN_TIMEOUT_SECONDS: "1",
};

let nextId = 1;

const CAPABILITIES = { extensions: { [TASKS]: {} } };
const CLIENT = "gateway-task-follow-test";

async function rpc(url: string, method: string, params: Record<string, unknown>) {
  const res = await modernPost(url, method, params, {
    id: nextId++,
    capabilities: CAPABILITIES,
    clientName: CLIENT,
  });
  return readReply(await res.text()) as { result?: Record<string, unknown>; error?: { message: string } };
}

/** A subscriptions/listen naming `taskIds`: the task status notifications as they come, until closed. */
async function listenToTasks(url: string, taskIds: string[]) {
  const listen = await modernListen(
    url,
    { taskIds },
    { id: nextId++, capabilities: CAPABILITIES, clientName: CLIENT },
  );
  expect(listen.response.headers.get("content-type")).toContain("text/event-stream");
  const statuses = () =>
    listen.messages.filter((m) => m.method === "notifications/tasks").map((m) => m.params!);
  return { messages: listen.messages, statuses, close: listen.close };
}

describe.runIf(redisUp)("following through an upstream that restarts", () => {
  let upstream: ServerProcess | undefined;
  let gw: TestGateway;
  let port: number;

  beforeAll(async () => {
    upstream = await startServerProcess(FIXTURE_BIN, { env: ENV, waitReady: true });
    port = Number(new URL(upstream.url).port);
    gw = await startGateway(`upstreams:\n  fx:\n    url: ${upstream.url}\n`);
    const { gateway } = await gw.deps();
    expect(gateway.upstreams.get("fx")?.runsTasks).toBe(true);
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.stop("SIGKILL");
  });

  /** The upstream back on its port, with the same Redis (so its tasks outlive it). */
  async function startAgain(): Promise<ServerProcess> {
    upstream = await startServerProcess(FIXTURE_BIN, {
      env: ENV,
      args: ["--port", String(port)],
      waitReady: true,
    });
    return upstream;
  }

  /** A slow_compute task started through the gateway and a listen on it, once it reports working. */
  async function startFollowedTask(seconds: number, label: string) {
    const created = await rpc(gw.url, "tools/call", {
      name: "fx__slow_compute",
      arguments: { seconds, label },
    });
    expect(created.result?.resultType).toBe("task");
    const taskId = created.result!.taskId as string;
    const listen = await listenToTasks(gw.url, [taskId]);
    await vi.waitFor(() => expect(listen.statuses().map((t) => t.status)).toContain("working"), {
      timeout: 10_000,
    });
    /** The completed status, once it arrives: for this task, with the slow_compute result. */
    const completed = async (timeout: number) => {
      await vi.waitFor(() => expect(listen.statuses().map((t) => t.status)).toContain("completed"), {
        timeout,
        interval: 200,
      });
      const done = listen.statuses().find((t) => t.status === "completed")!;
      expect(done.taskId).toBe(taskId);
      expect(JSON.stringify(done.result)).toContain(`computed ${label} in ${seconds}s`);
    };
    return { listen, completed };
  }

  it("reopens the upstream listen stream and the caller still gets the terminal status", async () => {
    const { listen, completed } = await startFollowedTask(5, "survivor");
    try {
      // Killed mid-task, and back on the same port a moment later with the same Redis.
      await upstream!.stop("SIGKILL");
      await sleep(1_500);
      await startAgain();
      await completed(40_000);
      // The restarted upstream ran it again (it was read-only): the task did not fail.
      expect(listen.statuses().some((t) => t.status === "failed")).toBe(false);
      expect(gw.logs()).toContain("dropped a task's listen stream; reopening it");
    } finally {
      listen.close();
    }
  });

  it("follows a task on the replacing upstream when a reload changes how it is reached", async () => {
    const { listen, completed } = await startFollowedTask(4, "moved");
    try {
      const { gateway } = await gw.deps();
      const before = gateway.upstreams.get("fx")!;
      const reloads = gateway.reloads;
      // A changed header (a rotated credential, say) is a new connection: the old one is retired.
      writeFileSync(
        gw.configPath,
        `upstreams:\n  fx:\n    url: ${upstream!.url}\n    headers:\n      X-Rotated: "2"\n`,
      );
      await vi.waitFor(() => expect(gateway.reloads).toBeGreaterThan(reloads), { timeout: 10_000 });
      expect(gateway.upstreams.get("fx")).not.toBe(before);
      await vi.waitFor(() => expect(before.state).toBe("closed"), { timeout: 10_000 });
      await completed(20_000);
      expect(gw.logs()).toContain("following its task on the replacing connection");
    } finally {
      listen.close();
    }
  });

  it("reopens a resource's listen stream: an update after the restart reaches the caller", async () => {
    const exposed = "fx+test://watched-resource";
    const caller = await connectHttpClient(gw.url, {}, undefined, "modern");
    try {
      const got = recordChanges(caller);
      const subscription = await caller.listen({ resourceSubscriptions: [exposed] });
      const { gateway } = await gw.deps();
      await vi.waitFor(
        () => expect(gateway.upstreams.get("fx")!.followed).toEqual(["test://watched-resource"]),
        {
          timeout: 10_000,
        },
      );
      const updates = () =>
        got.seen.filter((n) => n.method === "notifications/resources/updated" && n.uri === exposed).length;
      expect(updates()).toBe(0);
      await upstream!.stop("SIGKILL");
      await sleep(1_500);
      const again = await startAgain();
      // Following again, the gateway tells the caller the resource may have changed while it was
      // not followed (the upstream does not replay updates): one update, with no change announced.
      await vi.waitFor(() => expect(updates()).toBe(1), { timeout: 40_000, interval: 200 });
      expect(gw.logs()).toContain("telling its followers it may have changed meanwhile");
      const direct = await connectHttpClient(again.url, {}, undefined, "modern");
      try {
        await vi.waitFor(
          async () => {
            const r = await direct.callTool({
              name: "announce_change",
              arguments: { kind: "resource", uri: "test://watched-resource" },
            });
            expect(r.isError).toBeFalsy();
            expect(updates()).toBeGreaterThan(1);
          },
          { timeout: 40_000, interval: 500 },
        );
      } finally {
        await direct.close();
      }
      await subscription.close();
    } finally {
      await caller.close();
    }
  });

  it("gives up on an upstream that does not come back within its tries, and tasks/get still answers", async () => {
    // The client alone, with a short policy, so giving up takes a second, not half a minute.
    const lines: string[] = [];
    const logger = createLogger({
      name: "relisten-test",
      level: "debug",
      destination: { write: (line: string) => void lines.push(line) },
    });
    const client = new UpstreamClient("fx", {
      logger,
      target: () => ({ url: upstream!.url }),
      relisten: { minMs: 50, maxMs: 200, attempts: 4 },
    });
    try {
      await client.start();
      expect(client.runsTasks).toBe(true);
      const created = (await client.callToolOrTask(
        "slow_compute",
        { seconds: 30, label: "abandoned" },
        { signal: AbortSignal.timeout(10_000), task: true },
      )) as { taskId: string; resultType: string };
      expect(created.resultType).toBe("task");
      const seen: Record<string, unknown>[] = [];
      let stops = 0;
      const end = await client.followTask(created.taskId, (task) => seen.push(task), {
        onStop: () => stops++,
      });
      expect(end).toBeDefined();
      await vi.waitFor(() => expect(seen.map((t) => t.status)).toContain("working"), { timeout: 10_000 });
      await upstream!.stop("SIGKILL");
      await vi.waitFor(() => expect(lines.join("")).toContain("stopped following a task of upstream 'fx'"), {
        timeout: 15_000,
      });
      expect(lines.join("")).toContain('"outcome":"gave up"');
      // Told once, so a gateway closes its caller's listen instead of leaving it waiting.
      await vi.waitFor(() => expect(stops).toBe(1), { timeout: 5_000 });
      // Back up: following has ended for good (nothing more arrives), but tasks/get answers.
      await startAgain();
      const count = seen.length;
      const task = await vi.waitFor(
        async () =>
          client.taskRequest("tasks/get", { taskId: created.taskId }, { signal: AbortSignal.timeout(5_000) }),
        { timeout: 20_000, interval: 250 },
      );
      expect(["working", "completed"]).toContain(task.status);
      expect(seen.length).toBe(count);
      expect(stops).toBe(1);
      await client.taskRequest(
        "tasks/cancel",
        { taskId: created.taskId },
        { signal: AbortSignal.timeout(5_000) },
      );
      await end!();
    } finally {
      await client.close(0);
    }
  });
});
