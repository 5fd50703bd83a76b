// Tasks (io.modelcontextprotocol/tasks) through the gateway: a kit server whose tools run as tasks
// is the upstream, on real HTTP on loopback; two API-key callers reach it through the gateway. The
// SDK v2 client has no tasks support, so the callers speak raw 2026-07-28 JSON-RPC (each request
// carries its `_meta` envelope; tasks/* carry the task id in Mcp-Name), as the kit's own task tests do.
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { defineServer, defineTool, startHttpServer, z } from "@toolshed/server";
import { connectHttpClient, modernListen, modernPost, readReply } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { gatewayAuth, startGateway, textOf, type TestGateway, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

const TASKS = "io.modelcontextprotocol/tasks";
const KEYS = { alice: "tsk_alice_tasks_0123456789", bob: "tsk_bob_tasks_0123456789" };
const STATE_KEY = "gateway-tasks-test-request-state-key-0123456789";

const seen = { aborted: 0 };
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const out = z.object({ text: z.string() });
const upstreamServer = defineServer({
  name: "tasks-upstream",
  version: "0.0.0",
  tools: [
    defineTool({
      name: "slow",
      title: "Works for a while",
      description: "Test tool: works `ms` milliseconds, then answers done.",
      input: z.object({ ms: z.number().describe("how long") }),
      output: out,
      annotations: hints,
      task: "optional",
      handler: async ({ ms }, ctx) => {
        ctx.signal.addEventListener("abort", () => (seen.aborted += 1));
        await sleep(ms, undefined, { signal: ctx.signal });
        return { text: `done after ${ms} ms` };
      },
    }),
    defineTool({
      name: "ask_later",
      title: "Asks inside the task",
      description: "Test tool: works a moment, then asks for a colour and answers with it.",
      input: z.object({}),
      output: out,
      annotations: hints,
      task: "optional",
      handler: async (_args, ctx) => {
        await sleep(800);
        const a = await ctx.ask(z.object({ colour: z.string().describe("a colour") }), "Which colour?");
        return { text: a.action === "accept" ? `colour ${a.content.colour}` : a.action };
      },
    }),
    defineTool({
      name: "only_task",
      title: "Runs only as a task",
      description: "Test tool: a task-only job that answers at once.",
      input: z.object({}),
      output: out,
      annotations: hints,
      task: "required",
      handler: () => ({ text: "ran" }),
    }),
  ],
});

interface Rpc {
  status: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

let nextId = 1;

/** The client capabilities the tests declare; `tasks: false` leaves the extension out. */
const capabilities = (options: { tasks?: boolean } = {}) => ({
  elicitation: {},
  ...(options.tasks === false ? {} : { extensions: { [TASKS]: {} } }),
});

/** One 2026-07-28 request as `who`; `tasks: false` leaves the extension out of its capabilities. */
async function rpc(
  url: string,
  who: keyof typeof KEYS,
  method: string,
  params: Record<string, unknown>,
  options: { tasks?: boolean } = {},
): Promise<Rpc> {
  const res = await modernPost(url, method, params, {
    id: nextId++,
    capabilities: capabilities(options),
    clientName: "gateway-tasks-test",
    headers: { authorization: `Bearer ${KEYS[who]}` },
  });
  return { status: res.status, ...(readReply(await res.text()) as Omit<Rpc, "status">) };
}

/** A subscriptions/listen naming `taskIds`, as `who`: its messages as they come, until closed. */
async function listenToTasks(url: string, who: keyof typeof KEYS, taskIds: string[]) {
  const listen = await modernListen(
    url,
    { taskIds },
    {
      id: nextId++,
      capabilities: capabilities(),
      clientName: "gateway-tasks-test",
      headers: { authorization: `Bearer ${KEYS[who]}` },
    },
  );
  expect(listen.response.headers.get("content-type")).toContain("text/event-stream");
  return listen;
}

/** A task started through the gateway (fails the test if the call was answered otherwise). */
async function startTask(url: string, who: keyof typeof KEYS, name: string, args = {}): Promise<string> {
  const r = await rpc(url, who, "tools/call", { name, arguments: args });
  expect(r.error).toBeUndefined();
  expect(r.result?.resultType).toBe("task");
  return r.result!.taskId as string;
}

/** Polls tasks/get until `done(task)` holds. */
async function pollUntil(
  url: string,
  who: keyof typeof KEYS,
  taskId: string,
  done: (task: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const until = Date.now() + 15_000;
  for (;;) {
    const r = await rpc(url, who, "tasks/get", { taskId });
    if (r.error) throw new Error(`tasks/get failed: ${JSON.stringify(r.error)}`);
    if (done(r.result!)) return r.result!;
    if (Date.now() > until) throw new Error(`task still ${JSON.stringify(r.result)}`);
    await sleep(100);
  }
}

const finished = (t: Record<string, unknown>) =>
  ["completed", "failed", "cancelled"].includes(String(t.status));

let upstream: Awaited<ReturnType<typeof startHttpServer>>;
/** A second upstream the last test stops, restarts (forgetting its tasks) and removes. */
let fleeting: Awaited<ReturnType<typeof startHttpServer>>;
let gw: TestGateway;
let replica: TestGateway;
/** `up` as the gateway serves it, plus `limited` (the same upstream at 3 requests a minute). */
const upOnly = () =>
  `upstreams:\n  up:\n    url: ${upstream.url}\n  limited:\n    url: ${upstream.url}\n    rateLimit: { perMinute: 3 }\n`;
beforeAll(async () => {
  const start = () => startHttpServer(upstreamServer, {}, { logLevel: "silent" });
  [upstream, fleeting] = await Promise.all([start(), start()]);
  // Every caller may use every tool; tasks are kept apart by who created them, not by scopes.
  const auth = () =>
    gatewayAuth(Object.fromEntries(Object.entries(KEYS).map(([id, key]) => [id, { key, scopes: "*" }])));
  const config = `${upOnly()}  fleeting:\n    url: ${fleeting.url}\n`;
  const options = { http: { auth: auth() }, requestStateKeys: [STATE_KEY] };
  gw = await startGateway(config, options);
  replica = await startGateway(config, { ...options, http: { auth: auth() } });
  await Promise.all([gw.deps(), replica.deps()]);
});
afterAll(async () => {
  await gw?.close();
  await replica?.close();
  await upstream?.close();
  await fleeting?.close();
});

it("runs an upstream tool as a task the caller polls through the gateway to its result", async () => {
  const discover = await rpc(gw.url, "alice", "server/discover", {});
  expect(JSON.stringify(discover.result)).toContain(TASKS);
  const taskId = await startTask(gw.url, "alice", "up__slow", { ms: 1500 });
  // The id names the upstream, so any replica can route it.
  expect(taskId.startsWith("up.")).toBe(true);
  const task = await pollUntil(gw.url, "alice", taskId, finished);
  expect(task).toMatchObject({ taskId, status: "completed" });
  expect(textOf(task.result as ToolResultShape)).toBe(JSON.stringify({ text: "done after 1500 ms" }));
});

it("relays a task's question and the answer given with tasks/update", async () => {
  const taskId = await startTask(gw.url, "alice", "up__ask_later");
  const asking = await pollUntil(gw.url, "alice", taskId, (t) => t.status === "input_required");
  const [key] = Object.keys(asking.inputRequests as Record<string, unknown>);
  expect(JSON.stringify(asking.inputRequests)).toContain("Which colour?");
  const answer = { action: "accept", content: { colour: "teal" } };
  const updated = await rpc(gw.url, "alice", "tasks/update", { taskId, inputResponses: { [key!]: answer } });
  expect(updated.error).toBeUndefined();
  const task = await pollUntil(gw.url, "alice", taskId, finished);
  expect(task.status).toBe("completed");
  expect(textOf(task.result as ToolResultShape)).toContain("colour teal");
});

it("cancels the upstream's task with tasks/cancel", async () => {
  const before = seen.aborted;
  const taskId = await startTask(gw.url, "alice", "up__slow", { ms: 20_000 });
  const cancelled = await rpc(gw.url, "alice", "tasks/cancel", { taskId });
  expect(cancelled.error).toBeUndefined();
  expect((await pollUntil(gw.url, "alice", taskId, finished)).status).toBe("cancelled");
  await vi.waitFor(() => expect(seen.aborted).toBeGreaterThan(before));
});

it("keeps one caller's task from another: bob cannot poll, answer or cancel alice's", async () => {
  const taskId = await startTask(gw.url, "alice", "up__slow", { ms: 2000 });
  for (const [method, extra] of [
    ["tasks/get", {}],
    ["tasks/update", { inputResponses: { q: { action: "decline" } } }],
    ["tasks/cancel", {}],
  ] as const) {
    const r = await rpc(gw.url, "bob", method, { taskId, ...extra });
    expect(r.result).toBeUndefined();
    expect(r.error?.code).toBe(-32602);
    expect(r.error?.message).toContain("no task");
  }
  // A made-up id gets the same answer as bob's attempt.
  const madeUp = await rpc(gw.url, "alice", "tasks/get", { taskId: `${taskId.slice(0, -4)}AAAA` });
  expect(madeUp.error?.code).toBe(-32602);
  // Alice's task ran on, untouched by bob's cancel.
  expect((await pollUntil(gw.url, "alice", taskId, finished)).status).toBe("completed");
});

it("serves tasks/get on another replica for a task created through the first", async () => {
  const taskId = await startTask(gw.url, "alice", "up__slow", { ms: 1000 });
  const task = await pollUntil(replica.url, "alice", taskId, finished);
  expect(task).toMatchObject({ taskId, status: "completed" });
  expect(textOf(task.result as ToolResultShape)).toContain("done after 1000 ms");
});

it("refuses a task-only tool to a caller without the extension, as the kit does (-32021)", async () => {
  const refused = await rpc(
    gw.url,
    "alice",
    "tools/call",
    { name: "up__only_task", arguments: {} },
    { tasks: false },
  );
  expect(refused.error?.code).toBe(-32021);
  expect(refused.error?.message).toContain(TASKS);
  // With the extension it runs (as a task, or answered at once within the upstream's grace period).
  const ran = await rpc(gw.url, "alice", "tools/call", { name: "up__only_task", arguments: {} });
  expect(ran.error).toBeUndefined();
});

it("answers a 2025 client as before: the call's result, no task", async () => {
  const client = await connectHttpClient(gw.url, {}, { authorization: `Bearer ${KEYS.alice}` });
  try {
    const r = (await client.callTool({ name: "up__slow", arguments: { ms: 700 } })) as ToolResultShape;
    expect(textOf(r)).toContain("done after 700 ms");
  } finally {
    await client.close();
  }
});

it("counts tasks/get, tasks/update and tasks/cancel against the upstream's rate limit", async () => {
  // `limited` takes 3 requests a minute: the call takes one, two polls the rest.
  const taskId = await startTask(gw.url, "alice", "limited__slow", { ms: 1000 });
  for (let i = 0; i < 2; i++)
    expect((await rpc(gw.url, "alice", "tasks/get", { taskId })).error).toBeUndefined();
  for (const [method, extra] of [
    ["tasks/get", {}],
    ["tasks/update", { inputResponses: { q: { action: "decline" } } }],
    ["tasks/cancel", {}],
  ] as const) {
    const r = await rpc(gw.url, "alice", method, { taskId, ...extra });
    expect(r.result).toBeUndefined();
    expect(r.error?.code).toBe(-32029);
    expect(r.error?.data).toMatchObject({ type: "rate_limited", retryAfterMs: expect.any(Number) });
    expect(r.error?.message).toMatch(
      /upstream 'limited' rate limit reached \(3 requests per minute through this gateway\); retry in \d+s/,
    );
  }
});

it("sends the upstream's task status notifications to a caller listening through the gateway", async () => {
  const taskId = await startTask(gw.url, "alice", "up__ask_later");
  // Bob's listen naming alice's task is not told of it; alice's own listen is, on another replica.
  const bobs = await listenToTasks(gw.url, "bob", [taskId]);
  const listen = await listenToTasks(replica.url, "alice", [taskId]);
  try {
    const statuses = () =>
      listen.messages.filter((m) => m.method === "notifications/tasks").map((m) => m.params!);
    await vi.waitFor(() => expect(statuses().map((t) => t.status)).toContain("input_required"), {
      timeout: 10_000,
    });
    const ack = listen.messages.find((m) => m.method === "notifications/subscriptions/acknowledged");
    expect(ack?.params?.notifications).toMatchObject({ taskIds: [taskId] });
    const asking = statuses().find((t) => t.status === "input_required")!;
    expect(asking.taskId).toBe(taskId);
    const [key] = Object.keys(asking.inputRequests as Record<string, unknown>);
    const answer = { action: "accept", content: { colour: "plum" } };
    expect(
      (await rpc(gw.url, "alice", "tasks/update", { taskId, inputResponses: { [key!]: answer } })).error,
    ).toBeUndefined();
    await vi.waitFor(() => expect(statuses().map((t) => t.status)).toContain("completed"), {
      timeout: 10_000,
    });
    const done = statuses().find((t) => t.status === "completed")!;
    expect(done.taskId).toBe(taskId);
    expect(textOf(done.result as ToolResultShape)).toContain("colour plum");
    const bobsAck = bobs.messages.find((m) => m.method === "notifications/subscriptions/acknowledged");
    expect(JSON.stringify(bobsAck?.params?.notifications ?? {})).not.toContain(taskId);
    expect(bobs.messages.some((m) => m.method === "notifications/tasks")).toBe(false);
  } finally {
    listen.close();
    bobs.close();
  }
});

// Last: it stops `fleeting` and changes the running config.
it("tells the caller what to do when the task's upstream is down, forgot the task, or was removed", async () => {
  const taskId = await startTask(gw.url, "alice", "fleeting__slow", { ms: 1000 });
  await pollUntil(gw.url, "alice", taskId, finished);
  const port = Number(new URL(fleeting.url).port);
  await fleeting.close();
  const down = await rpc(gw.url, "alice", "tasks/get", { taskId });
  expect(down.result).toBeUndefined();
  expect(down.error?.data?.type).toBe("upstream_unavailable");
  expect(down.error?.message).toMatch(
    /upstream 'fleeting' is unavailable \(.+\); the gateway retries it in the background, try again shortly/,
  );
  // Back on the same port, it has lost its tasks in the restart.
  fleeting = await startHttpServer(upstreamServer, { port }, { logLevel: "silent" });
  const forgot = await vi.waitFor(
    async () => {
      const r = await rpc(gw.url, "alice", "tasks/get", { taskId });
      expect(r.error?.message).not.toContain("unavailable");
      return r;
    },
    { timeout: 10_000, interval: 100 },
  );
  expect(forgot.result).toBeUndefined();
  expect(forgot.error?.code).toBe(-32602);
  expect(forgot.error?.message).toContain(
    "upstream 'fleeting' no longer knows this task (it expired, or the upstream lost it when it restarted); call the tool again",
  );
  // Removed from the config: the task's server is named, and the caller told to call again.
  const { gateway } = await gw.deps();
  writeFileSync(gw.configPath, upOnly());
  expect(await gateway.reload()).toBe(true);
  expect(gateway.upstreams.has("fleeting")).toBe(false);
  const removed = await rpc(gw.url, "alice", "tasks/get", { taskId });
  expect(removed.result).toBeUndefined();
  expect(removed.error?.code).toBe(-32602);
  expect(removed.error?.message).toContain(
    "the task's server 'fleeting' is no longer one this gateway serves you (it was removed from the gateway config or your access changed); call the tool again",
  );
});
