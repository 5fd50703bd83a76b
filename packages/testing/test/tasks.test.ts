import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { defineServer, defineTool, ToolshedError, z } from "@toolshed/server";
import { needRedis } from "../../../test-support/services.js";
import {
  connectHttpClient,
  modernEnvelope,
  modernPost,
  readReply,
  startTestHttpServer,
  type TestHttpServer,
} from "../src/index.js";
import { startReplica, type Replica } from "./fixture-replica.js";

// The tasks extension (io.modelcontextprotocol/tasks) over real HTTP on loopback. The SDK v2 client
// has no tasks support, so these speak raw 2026-07-28 JSON-RPC: every request carries its own
// `_meta` envelope, and the tasks/* methods carry the task id in Mcp-Name.

const TASKS = "io.modelcontextprotocol/tasks";
const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const FIXTURE_BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

interface Rpc {
  status: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

let nextId = 1;

/** One 2026-07-28 request; `tasks: false` leaves the extension out of the client capabilities. */
async function rpc(
  url: string,
  method: string,
  params: Record<string, unknown>,
  options: { tasks?: boolean; headers?: Record<string, string>; elicitation?: boolean } = {},
): Promise<Rpc> {
  const res = await modernPost(url, method, params, {
    id: nextId++,
    capabilities: capabilitiesOf(options),
    clientName: "tasks-test",
    ...(options.headers ? { headers: options.headers } : {}),
  });
  return { status: res.status, ...(readReply(await res.text()) as Omit<Rpc, "status">) };
}

function capabilitiesOf(options: { tasks?: boolean; elicitation?: boolean } = {}) {
  return {
    ...(options.elicitation === false ? {} : { elicitation: {} }),
    ...(options.tasks === false ? {} : { extensions: { [TASKS]: {} } }),
  };
}

async function call(url: string, name: string, args: Record<string, unknown> = {}, headers = {}) {
  return rpc(url, "tools/call", { name, arguments: args }, { headers });
}

/** Polls tasks/get until `done(task)` holds, or fails after `ms`. */
async function pollUntil(
  url: string,
  taskId: string,
  done: (task: Record<string, unknown>) => boolean,
  headers: Record<string, string> = {},
  ms = 10_000,
): Promise<Record<string, unknown>> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await rpc(url, "tasks/get", { taskId }, { headers });
    if (r.error) throw new Error(`tasks/get failed: ${JSON.stringify(r.error)}`);
    if (done(r.result!)) return r.result!;
    if (Date.now() > until)
      throw new Error(`task ${taskId} still ${JSON.stringify(r.result)} after ${ms} ms`);
    await sleep(50);
  }
}

const terminal = (t: Record<string, unknown>) =>
  ["completed", "failed", "cancelled"].includes(t.status as string);

// A server whose task tools let the test see what the handler saw (and did).
const seen = { aborted: false, reason: "", overwritten: [] as string[] };
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const out = z.object({ text: z.string() });
const server = defineServer({
  name: "tasks-test",
  version: "0.0.0",
  tools: [
    defineTool({
      name: "work",
      title: "Works for a while",
      description: "Test tool: works `ms` milliseconds reporting progress, then answers done.",
      input: z.object({ ms: z.number().describe("how long") }),
      output: out,
      annotations: hints,
      task: "optional",
      handler: async ({ ms }, ctx) => {
        ctx.signal.addEventListener("abort", () => {
          seen.aborted = true;
          seen.reason = String((ctx.signal.reason as Error | undefined)?.message);
        });
        await ctx.progress(1, 2, "halfway");
        await sleep(ms, undefined, { signal: ctx.signal });
        return { text: "done" };
      },
    }),
    defineTool({
      name: "refuse",
      title: "Refuses",
      description: "Test tool: after a moment, fails with a tool error the model can act on.",
      input: z.object({}),
      output: out,
      annotations: hints,
      task: "optional",
      handler: async () => {
        await sleep(200);
        throw new ToolshedError("not_found", "no such thing; list the things first");
      },
    }),
    defineTool({
      name: "crash",
      title: "Crashes",
      description: "Test tool: after a moment, throws an unexpected exception (a server fault).",
      input: z.object({}),
      output: out,
      annotations: hints,
      task: "required",
      handler: async () => {
        await sleep(200);
        throw new Error("secret internal detail");
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
        await sleep(200);
        const a = await ctx.ask(z.object({ colour: z.string().describe("a colour") }), "Which colour?");
        return { text: a.action === "accept" ? `colour ${a.content.colour}` : a.action };
      },
    }),
    defineTool({
      name: "overwrite_later",
      title: "Overwrites after confirmation",
      description:
        "Test tool: prepares a moment (so the call becomes a task), then asks the person to confirm overwriting `file` (ctx.confirm) and overwrites it only if they do.",
      input: z.object({ file: z.string().describe("the file to overwrite") }),
      output: out,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      task: "optional",
      handler: async ({ file }, ctx) => {
        await sleep(300, undefined, { signal: ctx.signal });
        if (!(await ctx.confirm(`Overwrite ${file}?`))) {
          return { text: `Nothing was done: ${file} was not overwritten.` };
        }
        seen.overwritten.push(file);
        return { text: `overwrote ${file}` };
      },
    }),
  ],
});

describe("tasks on one server (memory store)", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(server, {}, { tasks: { pollIntervalMs: 200, graceMs: 100 } });
  });
  afterAll(async () => {
    await srv?.close(500);
  });

  it("server/discover declares the extension", async () => {
    const r = await rpc(srv.url, "server/discover", {});
    expect((r.result?.capabilities as { extensions?: Record<string, unknown> }).extensions).toEqual({
      [TASKS]: {},
    });
  });

  it("create → working with progress as statusMessage → completed with the inlined result", async () => {
    const created = await call(srv.url, "work", { ms: 600 });
    expect(created.result).toMatchObject({ resultType: "task", status: "working", ttlMs: 3_600_000 });
    expect(created.result).not.toHaveProperty("content");
    const taskId = created.result!.taskId as string;
    expect(taskId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const working = await pollUntil(srv.url, taskId, (t) => t.statusMessage !== undefined);
    expect(working).toMatchObject({
      status: "working",
      statusMessage: "halfway (1/2)",
      resultType: "complete",
    });
    const done = await pollUntil(srv.url, taskId, terminal);
    expect(done.status).toBe("completed");
    expect(done.result).toMatchObject({
      content: [{ type: "text", text: '{"text":"done"}' }],
      structuredContent: { text: "done" },
    });
  });

  it("a tool error completes the task with an isError result; a crash fails it with a JSON-RPC error that hides internals", async () => {
    const refused = await call(srv.url, "refuse");
    const r = await pollUntil(srv.url, refused.result!.taskId as string, terminal);
    expect(r.status).toBe("completed");
    expect(r.result).toMatchObject({ isError: true });
    expect(JSON.stringify(r.result)).toContain("list the things first");

    const crashed = await call(srv.url, "crash");
    const c = await pollUntil(srv.url, crashed.result!.taskId as string, terminal);
    expect(c.status).toBe("failed");
    expect(c).not.toHaveProperty("result");
    expect((c.error as { code: number }).code).toBe(-32603);
    expect(JSON.stringify(c.error)).not.toContain("secret internal detail");
  });

  it("cancel mid-run: empty ack, the task settles cancelled and the handler's signal is aborted; a second cancel is acked too", async () => {
    seen.aborted = false;
    const created = await call(srv.url, "work", { ms: 30_000 });
    const taskId = created.result!.taskId as string;
    await sleep(100);
    const ack = await rpc(srv.url, "tasks/cancel", { taskId });
    expect(ack.result).toEqual({ resultType: "complete", _meta: expect.any(Object) });
    const t = await pollUntil(srv.url, taskId, terminal);
    expect(t.status).toBe("cancelled");
    await expect.poll(() => seen.aborted).toBe(true);
    expect(seen.reason).toContain("cancelled");
    const again = await rpc(srv.url, "tasks/cancel", { taskId });
    expect(again.result?.resultType).toBe("complete");
  });

  it("a question inside a task: input_required with inputRequests, answered by tasks/update, then completed", async () => {
    const created = await call(srv.url, "ask_later");
    const taskId = created.result!.taskId as string;
    const waiting = await pollUntil(srv.url, taskId, (t) => t.status === "input_required");
    const keys = Object.keys(waiting.inputRequests as object);
    expect(keys).toHaveLength(1);
    expect((waiting.inputRequests as Record<string, { method: string }>)[keys[0]!]!.method).toBe(
      "elicitation/create",
    );
    // An unknown key is ignored; the real answer resumes the handler.
    const ack = await rpc(srv.url, "tasks/update", {
      taskId,
      inputResponses: {
        nope: { action: "accept" },
        [keys[0]!]: { action: "accept", content: { colour: "teal" } },
      },
    });
    expect(ack.result?.resultType).toBe("complete");
    const done = await pollUntil(srv.url, taskId, terminal);
    expect(done.result).toMatchObject({ structuredContent: { text: "colour teal" } });
  });

  it("ctx.confirm inside a running task: input_required with the confirmation form; declined completes with nothing done, accepted acts once", async () => {
    const confirmIn = async (file: string, answer: Record<string, unknown>) => {
      const created = await call(srv.url, "overwrite_later", { file });
      expect(created.result?.resultType).toBe("task");
      const taskId = created.result!.taskId as string;
      const waiting = await pollUntil(srv.url, taskId, (t) => t.status === "input_required");
      const requests = waiting.inputRequests as Record<
        string,
        { method: string; params: Record<string, unknown> }
      >;
      const [key] = Object.keys(requests);
      expect(requests[key!]).toMatchObject({
        method: "elicitation/create",
        params: {
          message: `Overwrite ${file}?`,
          requestedSchema: { properties: { confirm: { type: "boolean" } } },
        },
      });
      await rpc(srv.url, "tasks/update", { taskId, inputResponses: { [key!]: answer } });
      return pollUntil(srv.url, taskId, terminal);
    };
    seen.overwritten = [];
    const declined = await confirmIn("a.txt", { action: "decline" });
    expect(declined).toMatchObject({
      status: "completed",
      result: { structuredContent: { text: "Nothing was done: a.txt was not overwritten." } },
    });
    // Accepting without ticking the box is not a confirmation either.
    const unticked = await confirmIn("b.txt", { action: "accept", content: { confirm: false } });
    expect(unticked.result).toMatchObject({
      structuredContent: { text: "Nothing was done: b.txt was not overwritten." },
    });
    expect(seen.overwritten).toEqual([]);
    const accepted = await confirmIn("c.txt", { action: "accept", content: { confirm: true } });
    expect(accepted.result).toMatchObject({ structuredContent: { text: "overwrote c.txt" } });
    expect(seen.overwritten).toEqual(["c.txt"]);
  });

  it("gates: no extension → optional runs synchronously, required and tasks/* refused with -32021; unknown id -32602; Mcp-Name must match; tasks/list and tasks/result -32601", async () => {
    const sync = await rpc(srv.url, "tools/call", { name: "work", arguments: { ms: 1 } }, { tasks: false });
    expect(sync.result).toMatchObject({ resultType: "complete", structuredContent: { text: "done" } });

    const required = await rpc(srv.url, "tools/call", { name: "crash", arguments: {} }, { tasks: false });
    expect(required.error?.code).toBe(-32021);
    expect(required.error?.data).toEqual({ requiredCapabilities: { extensions: { [TASKS]: {} } } });

    const created = await call(srv.url, "work", { ms: 2_000 });
    const taskId = created.result!.taskId as string;
    for (const method of ["tasks/get", "tasks/cancel"]) {
      const r = await rpc(srv.url, method, { taskId }, { tasks: false });
      expect(r.status).toBe(400);
      expect(r.error?.code).toBe(-32021);
    }
    const unknown = await rpc(srv.url, "tasks/get", { taskId: "no-such-task" });
    expect(unknown.error?.code).toBe(-32602);
    const mismatch = await rpc(srv.url, "tasks/get", { taskId }, { headers: { "mcp-name": "another" } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.error?.code).toBe(-32020);
    for (const method of ["tasks/list", "tasks/result"]) {
      const r = await rpc(srv.url, method, method === "tasks/list" ? {} : { taskId });
      expect(r.error?.code).toBe(-32601);
    }
    await rpc(srv.url, "tasks/cancel", { taskId });
  });

  it("a 2025 client sees no task: the optional tool answers as before", async () => {
    const client = await connectHttpClient(srv.url, {}, undefined, "legacy");
    const r = await client.callTool({ name: "work", arguments: { ms: 1 } });
    expect(r.structuredContent).toEqual({ text: "done" });
    await client.close();
  });
});

describe("tasks over stdio (2026-07-28 lines)", () => {
  it("a task is created, polled and completed on the pipe", async () => {
    const child = spawn(process.execPath, [FIXTURE_BIN], { stdio: ["pipe", "pipe", "ignore"] });
    const pending = new Map<number, (m: Omit<Rpc, "status">) => void>();
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = JSON.parse(line) as { id?: number } & Omit<Rpc, "status">;
      if (m.id !== undefined) pending.get(m.id)?.(m);
    });
    const send = (method: string, params: Record<string, unknown>) =>
      new Promise<Omit<Rpc, "status">>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.stdin.write(
          `${JSON.stringify({
            jsonrpc: "2.0",
            id,
            method,
            params: {
              ...params,
              _meta: modernEnvelope({ extensions: { [TASKS]: {} } }, "tasks-test"),
            },
          })}\n`,
        );
      });
    try {
      const created = await send("tools/call", {
        name: "slow_compute",
        arguments: { seconds: 1, label: "pipe" },
      });
      expect(created.result?.resultType).toBe("task");
      const taskId = created.result!.taskId as string;
      let task: Record<string, unknown> | undefined;
      for (let i = 0; i < 100 && task?.status !== "completed"; i++) {
        task = (await send("tasks/get", { taskId })).result;
        await sleep(50);
      }
      expect(task).toMatchObject({
        status: "completed",
        result: { structuredContent: { text: "computed pipe in 1s" } },
      });
    } finally {
      child.kill();
    }
  });
});

/** tools/call on a connection of its own that is destroyed as soon as the answer is read. */
function callAndDrop(url: string, name: string, args: object, key: string): Promise<Rpc> {
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: nextId++,
    method: "tools/call",
    params: {
      name,
      arguments: args,
      _meta: modernEnvelope(capabilitiesOf(), "tasks-test"),
    },
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/call",
          "mcp-name": name,
          "x-api-key": key,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => {
          text += chunk;
          try {
            const reply = readReply(text) as Omit<Rpc, "status">;
            req.destroy(); // the connection that started the task is gone
            resolve({ status: res.statusCode ?? 0, ...reply });
          } catch {
            // not complete yet
          }
        });
        res.on("error", () => {});
      },
    );
    req.on("error", (err) => (err.message.includes("socket hang up") ? undefined : reject(err)));
    req.end(body);
  });
}

const redisUp = await needRedis(REDIS_URL);

describe.runIf(redisUp)("tasks across two replicas sharing Redis", () => {
  const alice = generateApiKey();
  const mallory = generateApiKey();
  // Principals of this run only, so the per-principal task count in the shared Redis is this run's.
  const run = Math.random().toString(36).slice(2, 8);
  const asAlice = { "x-api-key": alice };
  const asMallory = { "x-api-key": mallory };
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    const env = {
      TOOLSHED_REDIS_URL: REDIS_URL,
      TOOLSHED_TASK_LEASE_MS: "1500",
      TOOLSHED_TASK_TTL_MS: "120000",
      TOOLSHED_API_KEYS: `alice${run}:${hashApiKey(alice)}:everything:*;mallory${run}:${hashApiKey(mallory)}:everything:*`,
    };
    [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("started through A on a dropped connection, polled and answered through B, completes; another principal is refused", async () => {
    const created = await callAndDrop(a.url, "confirm_delete", { filename: "x.txt" }, alice);
    expect(created.result?.resultType).toBe("task");
    const taskId = created.result!.taskId as string;
    // B reads what A wrote, at once (durable before the CreateTaskResult).
    const first = await rpc(b.url, "tasks/get", { taskId }, { headers: asAlice });
    expect(first.result?.taskId).toBe(taskId);
    const waiting = await pollUntil(b.url, taskId, (t) => t.status === "input_required", asAlice);
    const [key] = Object.keys(waiting.inputRequests as object);
    // Mallory sees no such task on either replica, and cannot cancel it.
    for (const url of [a.url, b.url]) {
      const stolen = await rpc(url, "tasks/get", { taskId }, { headers: asMallory });
      expect(stolen.error?.code).toBe(-32602);
      const cancel = await rpc(url, "tasks/cancel", { taskId }, { headers: asMallory });
      expect(cancel.error?.code).toBe(-32602);
    }
    await rpc(
      b.url,
      "tasks/update",
      { taskId, inputResponses: { [key!]: { action: "accept", content: { confirm: true } } } },
      { headers: asAlice },
    );
    const done = await pollUntil(b.url, taskId, terminal, asAlice);
    expect(done).toMatchObject({
      status: "completed",
      result: { structuredContent: { text: "deleted x.txt" } },
    });
  });

  it("started through A, cancelled through B: A's handler stops and the task is cancelled", async () => {
    const created = await call(a.url, "slow_compute", { seconds: 60, label: "cross" }, asAlice);
    const taskId = created.result!.taskId as string;
    const working = await pollUntil(b.url, taskId, (t) => t.statusMessage !== undefined, asAlice);
    expect(working.statusMessage).toContain("computing cross");
    const ack = await rpc(b.url, "tasks/cancel", { taskId }, { headers: asAlice });
    expect(ack.result?.resultType).toBe("complete");
    const t = await pollUntil(a.url, taskId, terminal, asAlice);
    expect(t.status).toBe("cancelled");
  });

  it("a replica killed mid-task of a write tool: the task is reported failed once its lease lapses, not working forever nor run again", async () => {
    const created = await call(a.url, "slow_append", { seconds: 60, label: "doomed" }, asAlice);
    const taskId = created.result!.taskId as string;
    await a.stop("SIGKILL");
    const t = await pollUntil(b.url, taskId, terminal, asAlice, 10_000);
    expect(t.status).toBe("failed");
    expect((t.error as { message: string }).message).toContain("stopped before it finished");
    expect(b.stderr()).not.toContain("took over a task");
  });
});
