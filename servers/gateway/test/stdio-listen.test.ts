// Subscriptions and task status notifications for a 2026-07-28 caller of the gateway over stdio: the
// built gateway bin is spawned and driven by the real SDK client (2026-07-28 lane) over real pipes;
// its upstream is the kit fixture on real HTTP on loopback. A listen naming a resource gets the
// upstream's updates under the gateway's URI; a listen naming a task the caller started gets its
// status notifications under the gateway's task id, the terminal one with the result. A reload
// that removes the upstream closes both kinds of listen with their result.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import everything from "@toolshed/fixture-everything";
import { startHttpServer } from "@toolshed/server";
import {
  connectHttpClient,
  recordChanges,
  spawnStdioServer,
  type Client,
  type StdioServerProcess,
} from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const TASKS = "io.modelcontextprotocol/tasks";
const UPDATED = "notifications/resources/updated";
const WATCHED = "test://watched-resource";

let upstream: Awaited<ReturnType<typeof startHttpServer>>;
let direct: Client;
let gateway: StdioServerProcess;
let dir: string;
let config: string;

/** Task status notifications the client got, as sent (the task, with the gateway's id). */
const statuses: Record<string, unknown>[] = [];

beforeAll(async () => {
  upstream = await startHttpServer(everything, {}, { logLevel: "silent" });
  direct = await connectHttpClient(upstream.url, {}, undefined, "modern");
  dir = mkdtempSync(join(tmpdir(), "gateway-stdio-listen-"));
  config = join(dir, "gateway.yaml");
  writeFileSync(config, `upstreams:\n  fx:\n    url: ${upstream.url}\n`);
  gateway = await spawnStdioServer(process.execPath, [BIN, "--config", config], {
    era: "modern",
    capabilities: { extensions: { [TASKS]: {} } },
    env: { TOOLSHED_LOG_LEVEL: "debug" },
  });
  liftCreatedTasks(gateway.client);
  gateway.client.fallbackNotificationHandler = (n) => {
    if (n.method === "notifications/tasks") statuses.push(n.params as Record<string, unknown>);
    return Promise.resolve();
  };
});

afterAll(async () => {
  await gateway?.close();
  await direct?.close();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("declares resource subscriptions and the tasks extension to a 2026-07-28 stdio caller", () => {
  const caps = gateway.client.getServerCapabilities() as Record<string, unknown> & {
    resources?: { subscribe?: boolean };
    extensions?: Record<string, unknown>;
  };
  expect(caps.resources?.subscribe).toBe(true);
  expect(caps.extensions?.[TASKS]).toBeDefined();
});

it("delivers an upstream's resource update on a listen stream, under the gateway's URI", async () => {
  const exposed = `fx+${WATCHED}`;
  const got = recordChanges(gateway.client);
  const subscription = await gateway.client.listen({ resourceSubscriptions: [exposed] });
  expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: [exposed] });
  try {
    // The gateway follows it upstream once the caller's listen is acknowledged; announce until heard.
    await vi.waitFor(
      async () => {
        await direct.callTool({ name: "announce_change", arguments: { kind: "resource", uri: WATCHED } });
        expect(got.seen).toContainEqual({ method: UPDATED, uri: exposed });
      },
      { timeout: 15_000, interval: 300 },
    );
    expect(got.seen.filter((s) => s.method === UPDATED).every((s) => s.uri === exposed)).toBe(true);
  } finally {
    await subscription.close();
  }
  // Closed: the gateway stops following it upstream, and nothing more arrives.
  await new Promise((r) => setTimeout(r, 500));
  const before = got.seen.length;
  await direct.callTool({ name: "announce_change", arguments: { kind: "resource", uri: WATCHED } });
  await new Promise((r) => setTimeout(r, 500));
  expect(got.seen.length).toBe(before);
});

it("refuses a listen naming a resource no upstream has, saying which", async () => {
  await expect(gateway.client.listen({ resourceSubscriptions: ["fx+test://no-such-thing"] })).rejects.toThrow(
    /resource 'fx\+test:\/\/no-such-thing' not found; call resources\/list/,
  );
});

it("delivers a forwarded task's status notifications, the last one with its result", async () => {
  const created = (await gateway.client.callTool({
    name: "fx__slow_compute",
    arguments: { seconds: 2, label: "piped" },
  })) as { _meta?: Record<string, unknown> };
  const task = created._meta?.[CREATED] as { taskId: string; status: string } | undefined;
  expect(task?.status).toBe("working");
  const taskId = task!.taskId;
  expect(taskId.startsWith("fx.")).toBe(true);
  const subscription = await gateway.client.listen({ taskIds: [taskId] } as never);
  // The SDK client keeps only the filter keys it knows: the acknowledgement as it came on stdout.
  const ack = gateway
    .stdout()
    .split("\n")
    .filter((line) => line.includes("notifications/subscriptions/acknowledged") && line.includes(taskId));
  expect(ack).toHaveLength(1);
  expect(JSON.parse(ack[0]!).params.notifications).toEqual({ taskIds: [taskId] });
  try {
    await vi.waitFor(() => expect(statuses.map((t) => t.status)).toContain("completed"), {
      timeout: 15_000,
    });
    const done = statuses.find((t) => t.status === "completed")!;
    expect(done.taskId).toBe(taskId);
    expect(JSON.stringify(done.result)).toContain("computed piped in 2s");
  } finally {
    await subscription.close();
  }
  expect(gateway.nonProtocolLines()).toEqual([]);
});

// Last: it takes the upstream away.
it("closes the listens on a resource and on a task whose upstream a reload removed", async () => {
  const subscription = await gateway.client.listen({ resourceSubscriptions: [`fx+${WATCHED}`] });
  const closed = subscription.closed.then((how) => how);
  // A task that would run on for a minute, followed on a listen of its own.
  const created = (await gateway.client.callTool({
    name: "fx__slow_compute",
    arguments: { seconds: 60, label: "orphan" },
  })) as { _meta?: Record<string, unknown> };
  const taskId = (created._meta?.[CREATED] as { taskId: string }).taskId;
  const taskListen = await gateway.client.listen({ taskIds: [taskId] } as never);
  const taskClosed = taskListen.closed.then((how) => how);
  await vi.waitFor(() => expect(statuses.some((t) => t.taskId === taskId)).toBe(true), { timeout: 10_000 });
  // The gateway reloads its config file when it changes.
  writeFileSync(config, "upstreams: {}\n");
  expect(await Promise.race([closed, sleep(10_000).then(() => "still open")])).toBe("graceful");
  // The task's status will not come through the gateway any more: its listen ends (its result).
  expect(await Promise.race([taskClosed, sleep(10_000).then(() => "still open")])).toBe("graceful");
  await expect(gateway.client.listen({ resourceSubscriptions: [`fx+${WATCHED}`] })).rejects.toThrow(
    /not found/,
  );
  expect(gateway.nonProtocolLines()).toEqual([]);
});

/** Where a CreateTaskResult is put for the SDK client, which refuses `resultType: "task"`. */
const CREATED = "test/createdTask";

/** Rewrites a CreateTaskResult into a complete result carrying the task in `_meta` (as the client package does). */
function liftCreatedTasks(client: Client): void {
  const transport = client.transport!;
  const deliver = transport.onmessage!;
  transport.onmessage = (message, extra) => {
    const result = (message as { result?: Record<string, unknown> }).result;
    if (result?.resultType !== "task") return deliver(message, extra);
    const { resultType: _task, _meta, ...created } = result;
    deliver(
      {
        ...message,
        result: { resultType: "complete", content: [], _meta: { ...(_meta as object), [CREATED]: created } },
      } as never,
      extra,
    );
  };
}
