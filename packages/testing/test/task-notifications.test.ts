import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { needRedis } from "../../../test-support/services.js";
import { startReplica, type Replica } from "./fixture-replica.js";

// Task status notifications (io.modelcontextprotocol/tasks): a subscriptions/listen naming task ids
// is sent `notifications/tasks`, the task as tasks/get returns it, at each status change: on HTTP,
// on stdio, and across replicas sharing Redis. Raw 2026-07-28 JSON-RPC against the fixture process
// (the SDK v2 client has no tasks support).

const TASKS = "io.modelcontextprotocol/tasks";
const SUBSCRIPTION = "io.modelcontextprotocol/subscriptionId";
const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const FIXTURE_BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

type Message = {
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
};

let nextId = 1;

function envelope(tasks = true) {
  return {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": { name: "task-notifications-test", version: "0" },
    "io.modelcontextprotocol/clientCapabilities": {
      elicitation: {},
      ...(tasks ? { extensions: { [TASKS]: {} } } : {}),
    },
  };
}

function headersFor(method: string, name?: string, extra: Record<string, string> = {}) {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": method,
    ...(name === undefined ? {} : { "mcp-name": name }),
    ...extra,
  };
}

/** One request answered with one response (JSON or the response event of an SSE body). */
async function rpc(
  url: string,
  method: string,
  params: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Message> {
  const name = (params.taskId ?? params.name) as string | undefined;
  const res = await fetch(url, {
    method: "POST",
    headers: headersFor(method, name, headers),
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params: { ...params, _meta: envelope() } }),
  });
  const text = await res.text();
  if (text.startsWith("{")) return JSON.parse(text) as Message;
  const reply = sseMessages(text).find((m) => "result" in m || "error" in m);
  if (!reply) throw new Error(`no response in ${text.slice(0, 300)}`);
  return reply;
}

function sseMessages(text: string): Message[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)) as Message);
}

/** Messages as they arrive; each `next` consumes them up to and including the first match. */
class Stream {
  readonly seen: Message[] = [];
  #cursor = 0;
  #wake: (() => void) | undefined;
  push(m: Message): void {
    this.seen.push(m);
    this.#wake?.();
  }
  async next(match: (m: Message) => boolean, what: string, ms = 10_000): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.#cursor < this.seen.length) {
        const m = this.seen[this.#cursor++]!;
        if (match(m)) return m;
      }
      if (Date.now() > deadline) {
        throw new Error(`no ${what} within ${ms} ms; seen ${JSON.stringify(this.seen).slice(0, 1500)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Opens subscriptions/listen on HTTP; messages arrive on the returned stream until `close()`. */
async function listen(
  url: string,
  notifications: Record<string, unknown>,
  options: { tasks?: boolean; headers?: Record<string, string> } = {},
): Promise<{ id: number; stream: Stream; status: number; ended: Promise<void>; close(): void }> {
  const id = nextId++;
  const abort = new AbortController();
  const res = await fetch(url, {
    method: "POST",
    signal: abort.signal,
    headers: headersFor("subscriptions/listen", undefined, options.headers),
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "subscriptions/listen",
      params: { notifications, _meta: envelope(options.tasks !== false) },
    }),
  });
  const stream = new Stream();
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        if (buffer.startsWith("{")) continue; // a JSON answer: read whole below
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          for (const m of sseMessages(buffer.slice(0, cut))) stream.push(m);
          buffer = buffer.slice(cut + 2);
        }
      }
      if (buffer.startsWith("{")) stream.push(JSON.parse(buffer) as Message);
    } catch {
      // aborted by close()
    }
  })();
  return { id, stream, status: res.status, ended, close: () => abort.abort() };
}

const isTask = (taskId: string, status: string) => (m: Message) =>
  m.method === "notifications/tasks" && m.params?.taskId === taskId && m.params?.status === status;

/** The status notifications of one task, in order, from a stream's messages so far. */
const statuses = (stream: Stream, taskId: string) =>
  stream.seen
    .filter((m) => m.method === "notifications/tasks" && m.params?.taskId === taskId)
    .map((m) => m.params!.status);

describe("task status notifications over HTTP (fixture process)", () => {
  let srv: Replica;
  beforeAll(async () => {
    srv = await startReplica();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it("working → input_required → working → completed, each as the full task; a confirmation declined completes with nothing done", async () => {
    const created = await rpc(srv.url, "tools/call", {
      name: "confirm_delete",
      arguments: { filename: "report.csv" },
    });
    expect(created.result?.resultType).toBe("task");
    const taskId = created.result!.taskId as string;
    const l = await listen(srv.url, { taskIds: [taskId, "no-such-task"], toolsListChanged: true });
    try {
      const ack = await l.stream.next((m) => m.method === "notifications/subscriptions/acknowledged", "ack");
      // Only the tasks the server will report on are acknowledged, beside the SDK's change kinds.
      expect(ack.params).toMatchObject({
        notifications: { taskIds: [taskId] },
        _meta: { [SUBSCRIPTION]: l.id },
      });
      await l.stream.next(isTask(taskId, "working"), "working");
      const asked = await l.stream.next(isTask(taskId, "input_required"), "input_required");
      expect(asked.params?._meta).toEqual({ [SUBSCRIPTION]: l.id });
      const requests = asked.params!.inputRequests as Record<string, { method: string; params: object }>;
      const [key] = Object.keys(requests);
      expect(requests[key!]!.method).toBe("elicitation/create");
      expect(JSON.stringify(requests[key!]!.params)).toContain("Delete report.csv?");
      // The notification is what tasks/get says at that moment.
      const polled = await rpc(srv.url, "tasks/get", { taskId });
      expect(polled.result).toMatchObject({ status: "input_required", inputRequests: requests });

      await rpc(srv.url, "tasks/update", { taskId, inputResponses: { [key!]: { action: "decline" } } });
      const done = await l.stream.next(isTask(taskId, "completed"), "completed");
      expect(done.params).toMatchObject({
        status: "completed",
        result: { structuredContent: { text: "kept report.csv" } },
      });
      expect(statuses(l.stream, taskId)).toEqual(["working", "input_required", "working", "completed"]);
    } finally {
      l.close();
    }
  });

  it("a second question while input_required is notified too, so both are seen without polling", async () => {
    const created = await rpc(srv.url, "tools/call", { name: "multi_input", arguments: {} });
    const taskId = created.result!.taskId as string;
    const l = await listen(srv.url, { taskIds: [taskId] });
    try {
      const both = await l.stream.next(
        (m) =>
          isTask(taskId, "input_required")(m) && Object.keys(m.params!.inputRequests as object).length === 2,
        "input_required with both questions",
      );
      const answers = Object.fromEntries(
        Object.entries(both.params!.inputRequests as Record<string, { params: { message: string } }>).map(
          ([key, request]) => [
            key,
            request.params.message === "Your name?"
              ? { action: "accept", content: { name: "Ada" } }
              : { action: "accept", content: { confirm: true } },
          ],
        ),
      );
      await rpc(srv.url, "tasks/update", { taskId, inputResponses: answers });
      const done = await l.stream.next(isTask(taskId, "completed"), "completed");
      expect(done.params).toMatchObject({ result: { structuredContent: { text: "Ada confirmed" } } });
    } finally {
      l.close();
    }
  });

  it("cancelled is notified; a task finished before the listen opened is sent as it is", async () => {
    const created = await rpc(srv.url, "tools/call", {
      name: "slow_compute",
      arguments: { seconds: 30, label: "long" },
    });
    const taskId = created.result!.taskId as string;
    const l = await listen(srv.url, { taskIds: [taskId] });
    try {
      await l.stream.next(isTask(taskId, "working"), "working");
      await rpc(srv.url, "tasks/cancel", { taskId });
      await l.stream.next(isTask(taskId, "cancelled"), "cancelled");
    } finally {
      l.close();
    }
    // Listening after the end: the terminal state at once, so a client never waits for nothing.
    const late = await listen(srv.url, { taskIds: [taskId] });
    try {
      await late.stream.next(isTask(taskId, "cancelled"), "cancelled (late)");
    } finally {
      late.close();
    }
  });

  it("refused with -32021 when the listen does not declare the tasks extension", async () => {
    const l = await listen(srv.url, { taskIds: ["anything"] }, { tasks: false });
    await l.ended;
    expect(l.status).toBe(400);
    const [reply] = l.stream.seen;
    expect(reply?.error?.code).toBe(-32021);
    expect(reply?.error?.data).toEqual({ requiredCapabilities: { extensions: { [TASKS]: {} } } });
  });
});

describe("task status notifications over stdio (fixture process)", () => {
  it("a listen on the pipe is sent the task's changes through to completed", async () => {
    const child = spawn(process.execPath, [FIXTURE_BIN], { stdio: ["pipe", "pipe", "ignore"] });
    const stream = new Stream();
    createInterface({ input: child.stdout }).on("line", (line) => stream.push(JSON.parse(line) as Message));
    const send = (method: string, params: Record<string, unknown>) => {
      const id = nextId++;
      child.stdin.write(
        `${JSON.stringify({ jsonrpc: "2.0", id, method, params: { ...params, _meta: envelope() } })}\n`,
      );
      return id;
    };
    try {
      const callId = send("tools/call", { name: "confirm_delete", arguments: { filename: "a.txt" } });
      const created = await stream.next((m) => m.id === callId, "CreateTaskResult");
      expect(created.result?.resultType).toBe("task");
      const taskId = created.result!.taskId as string;
      const listenId = send("subscriptions/listen", { notifications: { taskIds: [taskId] } });
      const ack = await stream.next((m) => m.method === "notifications/subscriptions/acknowledged", "ack");
      expect(ack.params).toMatchObject({
        notifications: { taskIds: [taskId] },
        _meta: { [SUBSCRIPTION]: listenId },
      });
      const asked = await stream.next(isTask(taskId, "input_required"), "input_required");
      const [key] = Object.keys(asked.params!.inputRequests as object);
      send("tasks/update", {
        taskId,
        inputResponses: { [key!]: { action: "accept", content: { confirm: true } } },
      });
      const done = await stream.next(isTask(taskId, "completed"), "completed");
      expect(done.params).toMatchObject({
        result: { structuredContent: { text: "deleted a.txt" } },
        _meta: { [SUBSCRIPTION]: listenId },
      });
      expect(statuses(stream, taskId)).toEqual(["working", "input_required", "working", "completed"]);
    } finally {
      child.kill();
    }
  });
});

const redisUp = await needRedis(REDIS_URL);

describe.runIf(redisUp)("task status notifications across two replicas sharing Redis", () => {
  const alice = generateApiKey();
  const mallory = generateApiKey();
  const run = Math.random().toString(36).slice(2, 8);
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    const env = {
      TOOLSHED_REDIS_URL: REDIS_URL,
      // A killed replica's task is swept up within about a second, with nobody polling it.
      TOOLSHED_TASK_LEASE_MS: "1000",
      TOOLSHED_TASK_SWEEP_MS: "200",
      TOOLSHED_API_KEYS: `alice${run}:${hashApiKey(alice)}:everything:*;mallory${run}:${hashApiKey(mallory)}:everything:*`,
    };
    [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("a task running on A is reported to a listen on B, to its owner only", async () => {
    const asAlice = { "x-api-key": alice };
    const created = await rpc(
      a.url,
      "tools/call",
      { name: "confirm_delete", arguments: { filename: "r.txt" } },
      asAlice,
    );
    const taskId = created.result!.taskId as string;
    const l = await listen(b.url, { taskIds: [taskId] }, { headers: asAlice });
    // Mallory names the same task: it is not hers, so it is not acknowledged and nothing is sent.
    const m = await listen(
      b.url,
      { taskIds: [taskId], toolsListChanged: true },
      { headers: { "x-api-key": mallory } },
    );
    try {
      const ack = await m.stream.next((x) => x.method === "notifications/subscriptions/acknowledged", "ack");
      expect(ack.params?.notifications).not.toHaveProperty("taskIds");
      const asked = await l.stream.next(isTask(taskId, "input_required"), "input_required from A");
      const [key] = Object.keys(asked.params!.inputRequests as object);
      await rpc(
        b.url,
        "tasks/update",
        { taskId, inputResponses: { [key!]: { action: "accept", content: { confirm: true } } } },
        asAlice,
      );
      const done = await l.stream.next(isTask(taskId, "completed"), "completed from A");
      expect(done.params).toMatchObject({ result: { structuredContent: { text: "deleted r.txt" } } });
      expect(m.stream.seen.filter((x) => x.method === "notifications/tasks")).toEqual([]);
    } finally {
      l.close();
      m.close();
    }
  });

  it("A killed while running a read-only task: with no poll, B's sweep takes it over and B's listen hears it completed", async () => {
    const asAlice = { "x-api-key": alice };
    const created = await rpc(
      a.url,
      "tools/call",
      { name: "slow_compute", arguments: { seconds: 3, label: "swept" } },
      asAlice,
    );
    expect(created.result?.resultType).toBe("task");
    const taskId = created.result!.taskId as string;
    const l = await listen(b.url, { taskIds: [taskId] }, { headers: asAlice });
    try {
      await l.stream.next(isTask(taskId, "working"), "the task's state at the listen");
      await a.stop("SIGKILL");
      // Lease 1 s + sweep 0.2 s + the re-run's 3 s, inside the wait; no tasks/get is sent.
      const done = await l.stream.next(isTask(taskId, "completed"), "completed after the sweep", 12_000);
      expect(done.params).toMatchObject({ result: { structuredContent: { text: "computed swept in 3s" } } });
      expect(b.stderr()).toContain("took over a task whose server instance stopped");
    } finally {
      l.close();
    }
  });
});
