import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import everything from "@toolshed/fixture-everything";
import { createLogger } from "@toolshed/logging";
import {
  defineResource,
  defineServer,
  defineTool,
  RedisChangeBus,
  z,
  type ChangeEvent,
} from "@toolshed/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { needRedis } from "../../../test-support/services.js";
import {
  connectHttpClient,
  connectV1HttpClient,
  eventually,
  recordChanges as record,
  spawnStdioServer,
  startTestHttpServer,
  type Client,
  type TestHttpServer,
} from "../src/index.js";

// Change notifications end to end: a tool on one connection (or replica) announces a change, and
// listeners receive exactly what they asked for — on 2026-07-28 through subscriptions/listen, on
// 2025 through resources/subscribe and unsolicited list changes.

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));
const WATCHED = "test://watched-resource";
const OTHER = "test://template/1/data";

async function announce(client: Client, kind: string, uri?: string): Promise<void> {
  const result = await client.callTool({
    name: "announce_change",
    arguments: { kind, ...(uri ? { uri } : {}) },
  });
  expect(result.isError).toBeFalsy();
}

const UPDATED = "notifications/resources/updated";
const TOOLS = "notifications/tools/list_changed";
const PROMPTS = "notifications/prompts/list_changed";
const RESOURCES = "notifications/resources/list_changed";

describe("change notifications on one server (fixture over HTTP)", () => {
  let srv: TestHttpServer;
  const clients: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    srv = await startTestHttpServer(everything);
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => srv.close(1_000));

  it("2026-07-28: a listen stream gets the URIs and lists it asked for, nothing else", async () => {
    const listener = await connectHttpClient(srv.url, {}, undefined, "modern");
    const caller = await connectHttpClient(srv.url, {}, undefined, "modern");
    clients.push(listener, caller);
    const got = record(listener);
    const sub = await listener.listen({ resourceSubscriptions: [WATCHED], toolsListChanged: true });
    expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [WATCHED], toolsListChanged: true });

    await announce(caller, "resource", OTHER); // not subscribed
    await announce(caller, "prompts"); // not asked for
    await announce(caller, "resources"); // not asked for
    await announce(caller, "resource", WATCHED);
    await announce(caller, "tools");
    await got.until(TOOLS);
    // One stream, in order: had the unasked ones been sent, they would have come first.
    expect(got.seen).toEqual([{ method: UPDATED, uri: WATCHED }, { method: TOOLS }]);
    await sub.close();
  });

  it("2025 (SDK v1 client): resources/subscribe gets that URI's updates, and every list change", async () => {
    const v1 = await connectV1HttpClient(srv.url);
    const caller = await connectHttpClient(srv.url, {}, undefined, "modern");
    clients.push(v1, caller);
    const caps = v1.getServerCapabilities();
    expect(caps?.resources).toMatchObject({ subscribe: true, listChanged: true });
    expect(caps?.tools).toMatchObject({ listChanged: true });
    expect(caps?.prompts).toMatchObject({ listChanged: true });
    const got = record(v1);
    await v1.subscribeResource({ uri: WATCHED });

    await announce(caller, "resource", OTHER);
    await announce(caller, "resource", WATCHED);
    await announce(caller, "prompts");
    await got.until(PROMPTS);
    expect(got.seen).toEqual([{ method: UPDATED, uri: WATCHED }, { method: PROMPTS }]);

    await v1.unsubscribeResource({ uri: WATCHED });
    await announce(caller, "resource", WATCHED);
    await announce(caller, "resources");
    await got.until(RESOURCES);
    expect(got.seen.slice(2)).toEqual([{ method: RESOURCES }]);
  });

  it("2025 --stateless: no change capability is offered, since nothing could carry it", async () => {
    const stateless = await startTestHttpServer(everything, { stateless: true });
    try {
      const v1 = await connectV1HttpClient(stateless.url);
      clients.push(v1);
      const caps = v1.getServerCapabilities();
      expect(caps?.resources).toMatchObject({ subscribe: false, listChanged: false });
      expect(caps?.tools).toMatchObject({ listChanged: false });
      expect(caps?.prompts).toMatchObject({ listChanged: false });
    } finally {
      await stateless.close(1_000);
    }
  });
});

describe("change notifications over stdio, 2026-07-28", () => {
  it("routes the server's changes onto the client's listen stream, filtered", async () => {
    const proc = await spawnStdioServer(process.execPath, [BIN], { era: "modern" });
    try {
      const got = record(proc.client);
      const sub = await proc.client.listen({ resourceSubscriptions: [WATCHED], promptsListChanged: true });
      expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [WATCHED], promptsListChanged: true });
      await announce(proc.client, "tools");
      await announce(proc.client, "resource", OTHER);
      await announce(proc.client, "resource", WATCHED);
      await announce(proc.client, "prompts");
      await got.until(PROMPTS);
      expect(got.seen).toEqual([{ method: UPDATED, uri: WATCHED }, { method: PROMPTS }]);
    } finally {
      await proc.close();
    }
  });
});

/** A server that calls ctx.notify but declares no notifications: nothing may be advertised or sent. */
const quiet = defineServer({
  name: "quiet",
  version: "0.0.0",
  tools: [
    defineTool({
      name: "change_things",
      title: "Change things",
      description: "Calls every ctx.notify method although the server declares none of them.",
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
      handler: (_input, ctx) => {
        ctx.notify.resourceUpdated("quiet://thing");
        ctx.notify.resourceListChanged();
        ctx.notify.toolListChanged();
        ctx.notify.promptListChanged();
        return { ok: true };
      },
    }),
  ],
  resources: [
    defineResource({
      name: "thing",
      title: "Thing",
      description: "A fixed resource nobody is told about.",
      mimeType: "text/plain",
      uri: "quiet://thing",
      read: (uri) => [{ uri: uri.href, text: "thing" }],
    }),
  ],
});

describe("capabilities say exactly what is sent", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(quiet);
  });
  afterAll(async () => srv.close(1_000));

  it("2025: no subscribe or listChanged advertised, resources/subscribe is not a method", async () => {
    const v1 = await connectV1HttpClient(srv.url);
    try {
      const caps = v1.getServerCapabilities();
      expect(caps?.resources).toMatchObject({ subscribe: false, listChanged: false });
      expect(caps?.tools).toMatchObject({ listChanged: false });
      await expect(v1.subscribeResource({ uri: "quiet://thing" })).rejects.toThrow(/-32601|not found/i);
      // Neither the tool's calls nor changes arriving on the bus (as from another replica) reach it.
      const got = record(v1);
      expect((await v1.callTool({ name: "change_things", arguments: {} })).isError).toBeFalsy();
      srv.runtime.changes.publish({ kind: "tools_list_changed" });
      srv.runtime.changes.publish({ kind: "resource_updated", uri: "quiet://thing" });
      await new Promise((r) => setTimeout(r, 300));
      expect(got.seen).toEqual([]);
    } finally {
      await v1.close();
    }
  });

  it("2026-07-28: the listen ack honors nothing and no change arrives", async () => {
    const listener = await connectHttpClient(srv.url, {}, undefined, "modern");
    try {
      const caps = listener.getServerCapabilities();
      expect(caps?.resources).toMatchObject({ subscribe: false, listChanged: false });
      expect(caps?.tools).toMatchObject({ listChanged: false });
      const got = record(listener);
      const sub = await listener.listen({
        resourceSubscriptions: ["quiet://thing"],
        resourcesListChanged: true,
        toolsListChanged: true,
      });
      expect(sub.honoredFilter).toEqual({});
      expect((await listener.callTool({ name: "change_things", arguments: {} })).isError).toBeFalsy();
      // Delivery is synchronous within the process: had anything been published, it was written
      // before the tool's answer; the pause covers the other connection's socket.
      await new Promise((r) => setTimeout(r, 300));
      expect(got.seen).toEqual([]);
      await sub.close();
    } finally {
      await listener.close();
    }
  });
});

// In CI a missing Redis fails here; elsewhere these tests are skipped, saying so.
const redisUp = await needRedis();
const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const silent = createLogger({ name: "notifications-test", level: "silent" });

describe.runIf(redisUp)("change notifications across two replicas on one Redis", () => {
  let a: TestHttpServer;
  let b: TestHttpServer;
  beforeAll(async () => {
    const channel = `toolshed-test:${randomUUID()}:changes`;
    const bus = () => RedisChangeBus.create({ url: REDIS_URL, channel, logger: silent });
    a = await startTestHttpServer(everything, {}, { changes: await bus() });
    b = await startTestHttpServer(everything, {}, { changes: await bus() });
  });
  afterAll(async () => {
    await Promise.allSettled([a.close(1_000), b.close(1_000)]);
  });

  it("a change announced on replica A reaches 2026-07-28 and 2025 listeners on replica B", async () => {
    const modern = await connectHttpClient(b.url, {}, undefined, "modern");
    const legacy = await connectV1HttpClient(b.url);
    const caller = await connectHttpClient(a.url, {}, undefined, "modern");
    try {
      const gotModern = record(modern);
      const gotLegacy = record(legacy);
      await modern.listen({ resourceSubscriptions: [WATCHED], toolsListChanged: true });
      await legacy.subscribeResource({ uri: WATCHED });
      // The subscriber connection may still be subscribing: announce until B hears one.
      await eventually(async () => {
        await announce(caller, "resource", WATCHED);
        await gotModern.until(UPDATED, WATCHED);
      });
      await gotLegacy.until(UPDATED, WATCHED);
      await announce(caller, "tools");
      await gotModern.until(TOOLS);
      await gotLegacy.until(TOOLS);
    } finally {
      await Promise.allSettled([modern.close(), legacy.close(), caller.close()]);
    }
  });
});

/** A free loopback port, from the OS. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** A private redis-server on `port`, for killing; resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/i.test(out)) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

const redisServerInstalled = await new Promise<boolean>((resolve) => {
  const probe = spawn("redis-server", ["--version"], { stdio: "ignore" });
  probe.once("error", () => resolve(false));
  probe.once("exit", (code) => resolve(code === 0));
});
if (!redisServerInstalled) {
  const message =
    "redis-server is not installed; the Redis outage test needs it to start and kill its own Redis";
  if (process.env.CI) throw new Error(`${message} (CI must provide it)`);
  process.stderr.write(`\n[toolshed] SKIPPING the Redis outage test: ${message}\n`);
}

describe.runIf(redisServerInstalled)("a Redis outage", () => {
  it("keeps local delivery going, fails nothing, and crosses replicas again once Redis is back", async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const channel = `toolshed-test:${randomUUID()}:changes`;
    // Replica A's bus logs into `lines`, so the test sees what an operator would.
    const lines: { level: number; msg: string }[] = [];
    const logger = createLogger({
      name: "outage-test",
      level: "info",
      destination: {
        write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }),
      },
    });
    const busA = await RedisChangeBus.create({ url, channel, logger });
    const a = await startTestHttpServer(everything, {}, { changes: busA });
    const busB = await RedisChangeBus.create({ url, channel, logger: silent });
    const onB: ChangeEvent[] = [];
    busB.subscribe((e) => onB.push(e));
    const legacyOnA = await connectV1HttpClient(a.url);
    const caller = await connectHttpClient(a.url, {}, undefined, "modern");
    try {
      const got = record(legacyOnA);
      await legacyOnA.subscribeResource({ uri: WATCHED });
      await eventually(async () => {
        await announce(caller, "resource", WATCHED);
        if (!onB.some((e) => e.kind === "resource_updated")) throw new Error("not across yet");
      });

      await stopRedis(redis);
      await eventually(() => {
        if (busA.connected || busB.connected) throw new Error("the buses have not noticed yet");
      }, 5_000);
      const crossedBefore = onB.length;
      const started = Date.now();
      await announce(caller, "tools"); // answered at once: nothing waits on Redis
      expect(Date.now() - started).toBeLessThan(2_000);
      await got.until(TOOLS); // this replica's own client is still told
      expect(onB.length).toBe(crossedBefore);

      redis = await startRedis(port);
      await eventually(async () => {
        await announce(caller, "prompts");
        if (!onB.some((e) => e.kind === "prompts_list_changed")) throw new Error("not across again yet");
      }, 15_000);
      // One warning for the outage (however many reconnects failed), one line for the recovery.
      const said = lines.map((l) => l.msg);
      expect(said.filter((m) => /unreachable/.test(m))).toHaveLength(1);
      expect(said.filter((m) => /is back/.test(m))).toHaveLength(1);
    } finally {
      await Promise.allSettled([legacyOnA.close(), caller.close()]);
      await a.close(1_000);
      await busB.close();
      await stopRedis(redis);
    }
  });
});
