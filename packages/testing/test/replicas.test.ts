import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { needRedis } from "../../../test-support/services.js";
import { startReplica, type Replica } from "./fixture-replica.js";
import { INITIALIZE, MCP_HEADERS, readSse } from "./sse.js";
import {
  connectHttpClient,
  connectV1HttpClient,
  startRoundRobinProxy,
  type RoundRobinProxy,
} from "../src/index.js";

// Two replicas of the fixture server as separate processes behind a loopback round-robin proxy:
// what a deployment with N pods behind a plain load balancer looks like to a client.
const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** `mcp_tool_calls_total{tool="echo",outcome="ok"}` as the replica itself reports it, over all protocol versions. */
async function echoCallsServed(replica: Replica): Promise<number> {
  const text = await (await fetch(`${replica.origin}/metrics`)).text();
  const series = /^mcp_tool_calls_total\{(?=[^}]*tool="echo")(?=[^}]*outcome="ok")[^}]*\} (\d+)$/gm;
  return [...text.matchAll(series)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** `mcp_sessions_active`: the 2025 sessions the replica holds. */
async function sessionsActive(replica: Replica): Promise<number> {
  const text = await (await fetch(`${replica.origin}/metrics`)).text();
  const m = /^mcp_sessions_active(?:\{[^}]*\})? (\d+)$/m.exec(text);
  if (!m) throw new Error("no mcp_sessions_active in /metrics");
  return Number(m[1]);
}

describe("two replicas behind a round-robin proxy: 2026-07-28 clients", () => {
  let replicas: Replica[] = [];
  let proxy: RoundRobinProxy;
  beforeAll(async () => {
    replicas = await Promise.all([startReplica(), startReplica()]);
    proxy = await startRoundRobinProxy(replicas.map((r) => r.origin));
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it("answers 1,000 tools/call alternating replicas with 0 errors, no session, no shared store", async () => {
    const client = await connectHttpClient(proxy.url, {}, undefined, "modern");
    expect(client.getProtocolEra()).toBe("modern");
    const before = [...proxy.counts];
    const started = Date.now();
    let errors = 0;
    for (let i = 0; i < 1_000; i++) {
      const message = `call ${i}`;
      try {
        const r = await client.callTool({ name: "echo", arguments: { message } });
        if (r.isError || (r.structuredContent as { message?: string }).message !== message) errors++;
      } catch {
        errors++;
      }
    }
    const ms = Date.now() - started;
    await client.close();

    expect(errors).toBe(0);
    // One POST per call, each to the next replica in turn: exactly half each.
    const forwarded = proxy.counts.map((n, i) => n - before[i]!);
    expect(forwarded).toEqual([500, 500]);
    // And each replica really answered its half (its own metrics, not the proxy's word).
    const served = await Promise.all(replicas.map(echoCallsServed));
    expect(served).toEqual([500, 500]);
    process.stderr.write(`[replicas] 1,000 calls through the proxy in ${ms} ms\n`);
    // A few seconds on an idle machine. No wall-time bound here (the machine is shared): the test's
    // timeout catches a hang, and bench:protocol measures the speed against a baseline.
  }, 120_000);

  it("2025 clients on plain round robin without a shared store: the other replica answers 404", async () => {
    // initialize lands on one replica, notifications/initialized on the other, which never heard of
    // the session: without Redis a 2025 deployment needs session affinity.
    await expect(connectHttpClient(proxy.url)).rejects.toThrow(/Session not found/);
    await expect(connectV1HttpClient(proxy.url)).rejects.toThrow(/Session not found/);
  });
});

const redisUp = await needRedis(REDIS_URL);

// 2025 clients hold a session (Mcp-Session-Id). With Redis, its record (owner, initialize) is shared,
// and a replica that has not seen the session rebuilds it from there; resumable streams too.
describe.runIf(redisUp)("two replicas sharing Redis behind a proxy: 2025-11-25 clients", () => {
  let replicas: Replica[] = [];
  beforeAll(async () => {
    replicas = await Promise.all([
      startReplica({ TOOLSHED_REDIS_URL: REDIS_URL }),
      startReplica({ TOOLSHED_REDIS_URL: REDIS_URL }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it("plain round robin: 200 calls each from a v2 (2025-11-25) and a v1 client, 0 errors, both replicas serving", async () => {
    const proxy = await startRoundRobinProxy(replicas.map((r) => r.origin));
    const before = await Promise.all(replicas.map(echoCallsServed));
    try {
      let errors = 0;
      const failures: string[] = [];
      for (const connect of [() => connectHttpClient(proxy.url), () => connectV1HttpClient(proxy.url)]) {
        const client = await connect();
        for (let i = 0; i < 200; i++) {
          const message = `legacy ${i}`;
          try {
            const r = await client.callTool({ name: "echo", arguments: { message } });
            if (r.isError || (r.structuredContent as { message?: string }).message !== message) errors++;
          } catch (err) {
            errors++;
            failures.push(String(err));
          }
        }
        // DELETE /mcp (client.close() alone leaves the session to its idle expiry).
        await (client.transport as unknown as { terminateSession(): Promise<void> }).terminateSession();
        await client.close();
      }
      expect(failures.slice(0, 3)).toEqual([]);
      expect(errors).toBe(0);
      // Every request went to the next replica in turn (the proxy's word)...
      expect(Math.abs(proxy.counts[0]! - proxy.counts[1]!)).toBeLessThanOrEqual(1);
      // ...and each replica answered about half of the 400 calls in the same sessions (its own word).
      const served = (await Promise.all(replicas.map(echoCallsServed))).map((n, i) => n - before[i]!);
      expect(served[0]! + served[1]!).toBe(400);
      for (const n of served) expect(n).toBeGreaterThanOrEqual(190);
      // Each session was opened on one replica and taken up by the other from its shared record.
      const takenUp = replicas
        .map((r) => r.stderr().split("took up a session opened on another replica").length - 1)
        .reduce((a, b) => a + b, 0);
      expect(takenUp).toBeGreaterThanOrEqual(2);
      // Each DELETE reached one replica; the other drops its copy too (within its 10 s prune).
      const deadline = Date.now() + 15_000;
      let active = await Promise.all(replicas.map(sessionsActive));
      while (active.some((n) => n > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        active = await Promise.all(replicas.map(sessionsActive));
      }
      expect(active).toEqual([0, 0]);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it("DELETE on one replica ends the session on both", async () => {
    const [a, b] = replicas.map((r) => `${r.origin}/mcp`) as [string, string];
    const send = (url: string, body: unknown, headers: Record<string, string> = {}, method = "POST") =>
      fetch(url, {
        method,
        headers: { ...MCP_HEADERS, ...headers },
        ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
      });
    const init = await send(a, INITIALIZE);
    const sid = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();
    const session = { "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" };
    const ack = await send(b, { jsonrpc: "2.0", method: "notifications/initialized" }, session);
    expect(ack.status).toBe(202);
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const onB = await send(b, list, session);
    expect(onB.status).toBe(200);
    expect(await onB.text()).toContain('"echo"');
    const deleted = await send(a, undefined, session, "DELETE");
    expect(deleted.status).toBe(200);
    // B still holds a copy; it finds the record gone and drops it.
    for (const url of [b, a]) {
      const after = await send(url, { ...list, id: 2 }, session);
      expect(after.status).toBe(404);
      await after.body?.cancel();
    }
  });

  it("session affinity on the same proxy: 2025 clients work, 2026 calls still alternate", async () => {
    const proxy = await startRoundRobinProxy(
      replicas.map((r) => r.origin),
      { stickySessions: true },
    );
    const before = await Promise.all(replicas.map(echoCallsServed));
    try {
      // Four 2025 sessions (two v2 clients on 2025-11-25, two v1 clients): initialize alternates,
      // so the sessions spread over both replicas; every later request follows its session.
      const legacy = [
        await connectHttpClient(proxy.url),
        await connectV1HttpClient(proxy.url),
        await connectHttpClient(proxy.url),
        await connectV1HttpClient(proxy.url),
      ];
      const modern = await connectHttpClient(proxy.url, {}, undefined, "modern");
      let errors = 0;
      const call = async (client: (typeof legacy)[number] | typeof modern, message: string) => {
        try {
          const r = await client.callTool({ name: "echo", arguments: { message } });
          if (r.isError || (r.structuredContent as { message?: string }).message !== message) errors++;
        } catch {
          errors++;
        }
      };
      for (let i = 0; i < 100; i++) {
        await Promise.all([
          ...legacy.map((c, j) => call(c, `legacy ${j} ${i}`)),
          call(modern, `modern ${i}`),
        ]);
      }
      await Promise.all([...legacy, modern].map((c) => c.close()));
      expect(errors).toBe(0);
      const served = (await Promise.all(replicas.map(echoCallsServed))).map((n, i) => n - before[i]!);
      // 400 legacy calls, 200 on each replica's sessions; 100 modern calls alternating: 250 each.
      expect(served).toEqual([250, 250]);
    } finally {
      await proxy.close();
    }
  });

  it("a stream dropped on one replica resumes on the other through the shared Redis store", async () => {
    const proxy = await startRoundRobinProxy(
      replicas.map((r) => r.origin),
      { stickySessions: true },
    );
    const post = (body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
      fetch(proxy.url, {
        method: "POST",
        headers: { ...MCP_HEADERS, ...headers },
        body: JSON.stringify(body),
        signal,
      });
    try {
      const init = await post(INITIALIZE);
      const sid = init.headers.get("mcp-session-id")!;
      expect(sid).toBeTruthy();
      await init.body?.cancel();
      const home = proxy.counts.findIndex((n) => n === 1);
      const session = { "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" };
      await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).body?.cancel();
      const drop = new AbortController();
      const res = await post(
        {
          jsonrpc: "2.0",
          id: 9,
          method: "tools/call",
          params: { name: "slow", arguments: { ms: 1_000 }, _meta: { progressToken: "p" } },
        },
        session,
        drop.signal,
      );
      let lastId: string | undefined;
      let seen = 0;
      for await (const event of readSse(res.body!)) {
        if (event.id) lastId = event.id;
        if (event.data && ++seen === 2) break;
      }
      drop.abort();
      expect(proxy.counts[home]).toBe(3);
      // The balancer loses its affinity table (restart, expiry): the resuming GET lands on the other
      // replica, which has never seen the session. The shared store vouches for it and replays.
      const other = replicas[1 - home]!;
      const restarted = await startRoundRobinProxy([other.origin, replicas[home]!.origin], {
        stickySessions: true,
      });
      const resumed = await fetch(restarted.url, {
        headers: { accept: "text/event-stream", "mcp-session-id": sid, "last-event-id": lastId! },
      });
      expect(restarted.counts).toEqual([1, 0]);
      expect(resumed.status).toBe(200);
      const progress: number[] = [];
      let result: { structuredContent?: unknown } | undefined;
      for await (const event of readSse(resumed.body!)) {
        const msg = JSON.parse(event.data) as {
          id?: number;
          params?: { progress: number };
          result?: typeof result;
        };
        if (msg.params) progress.push(msg.params.progress);
        if (msg.id === 9) result = msg.result;
      }
      expect(progress).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(result?.structuredContent).toMatchObject({ steps: 10 });
      expect(other.stderr()).toContain("resuming a stream written by another replica");
      await restarted.close();
    } finally {
      await proxy.close();
    }
  });
});

// With auth on, a session's shared record names its owner: another principal presenting the id to a
// replica that has not seen the session gets the same 404 as for an id that does not exist.
describe.runIf(redisUp)("two replicas sharing Redis, with API keys: sessions stay their owner's", () => {
  const alice = generateApiKey();
  const mallory = generateApiKey();
  let replicas: Replica[] = [];
  beforeAll(async () => {
    const env = {
      TOOLSHED_REDIS_URL: REDIS_URL,
      TOOLSHED_API_KEYS: `alice:${hashApiKey(alice)}:everything:*;mallory:${hashApiKey(mallory)}:everything:*`,
    };
    replicas = await Promise.all([startReplica(env), startReplica(env)]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it("another principal presenting the session id gets 404 on every replica; the owner is served", async () => {
    const [a, b] = replicas.map((r) => `${r.origin}/mcp`) as [string, string];
    const send = (url: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: "POST",
        headers: { ...MCP_HEADERS, "x-api-key": key, ...headers },
        body: JSON.stringify(body),
      });
    const init = await send(a, alice, INITIALIZE);
    expect(init.status).toBe(200);
    const sid = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();
    const session = { "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" };
    const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };
    const call = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "echo", arguments: { message: "x" } },
    };
    // Mallory first, on the replica that never held the session (so it would have to be rebuilt).
    for (const url of [b, a]) {
      for (const body of [initialized, call]) {
        const stolen = await send(url, mallory, body, session);
        expect(stolen.status).toBe(404);
        expect(await stolen.text()).toContain("Session not found");
      }
    }
    expect(replicas[1]!.stderr()).not.toContain("took up a session");
    // The owner is served on both replicas.
    expect((await send(b, alice, initialized, session)).status).toBe(202);
    for (const url of [b, a]) {
      const own = await send(url, alice, call, session);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('"message":"x"');
    }
    expect(replicas[1]!.stderr()).toContain("took up a session opened on another replica");
    // And having a copy on B changes nothing for Mallory there.
    const again = await send(b, mallory, { ...call, id: 2 }, session);
    expect(again.status).toBe(404);
    await again.body?.cancel();
  });
});

/** The replica's stderr once it holds `text` (log lines are written asynchronously), or after 2 s. */
async function logOnce(replica: Replica, text: string): Promise<string> {
  for (const until = Date.now() + 2_000; !replica.stderr().includes(text) && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return replica.stderr();
}

/** How a call a test waits on ended, and when. */
type Outcome = { result: unknown; ms: number } | { error: Error & { code?: number }; ms: number };

function settle(call: Promise<unknown>, since: () => number): Promise<Outcome> {
  return call.then(
    (result) => ({ result, ms: Date.now() - since() }),
    (error: Error) => ({ error, ms: Date.now() - since() }),
  );
}

/**
 * A fetch for an SDK client talking to `home` that cuts the stream of each tools/call right after its
 * first progress notification (the way a dropped connection does) and sends the client's resuming
 * GET (`Last-Event-ID`) to `resumeAt`, another replica.
 */
function cutAndResumeElsewhere(resumeAt: string): typeof fetch {
  return async (input, init) => {
    if (init?.method === "GET" && new Headers(init.headers).has("last-event-id"))
      return fetch(resumeAt, init);
    const res = await fetch(input, init);
    const sent = typeof init?.body === "string" ? init.body : "";
    if (init?.method !== "POST" || !sent.includes('"tools/call"') || !res.body) return res;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    let cut = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // The chunk with the progress event was read by the client; now the connection drops.
        if (cut) {
          await reader.cancel();
          return controller.error(new TypeError("connection dropped by the test"));
        }
        const { value, done } = await reader.read();
        if (done) return controller.close();
        controller.enqueue(value);
        seen += decoder.decode(value, { stream: true });
        cut = seen.includes("notifications/progress");
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
}

// The replica running a 2025 call stream renews a short lease on it in Redis. A client that resumes
// the stream on another replica after the first one died (SIGKILL: nothing is ever written again)
// gets an error for its call once the lease lapses, instead of waiting for its own timeout; while the
// replica lives, the resumed stream carries the call to its real result, however long it runs.
describe.runIf(redisUp)("two replicas sharing Redis: resuming a call whose replica died", () => {
  const LEASE_MS = 1_000;
  const env = { TOOLSHED_REDIS_URL: REDIS_URL, TOOLSHED_STREAM_LEASE_MS: String(LEASE_MS) };
  const replicas: Replica[] = [];
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });
  const pair = async (): Promise<[Replica, Replica]> => {
    const started = await Promise.all([startReplica(env), startReplica(env)]);
    replicas.push(...started);
    return started;
  };

  // Sticky: the session and its call on one replica, the other never saw it. Round robin: both hold
  // a copy of the session, and the survivor is resumed a stream its own copy is not writing.
  const cases = [
    ["v2", "sticky"],
    ["v1", "sticky"],
    ["v2", "round robin"],
  ] as const;
  for (const [sdk, routing] of cases) {
    it(`SIGKILL mid-call (${routing}): the ${sdk} client resuming on the other replica gets an error within seconds, not its timeout`, async () => {
      const started = await pair();
      // On to the next replica when one refuses connections, as a balancer does.
      const proxy = await startRoundRobinProxy(
        started.map((r) => r.origin),
        { stickySessions: routing === "sticky", failover: true },
      );
      const client = sdk === "v2" ? await connectHttpClient(proxy.url) : await connectV1HttpClient(proxy.url);
      try {
        // The client's standalone GET stream is open before the call starts.
        await new Promise((r) => setTimeout(r, 300));
        const before = [...proxy.inFlight];
        let progressed!: () => void;
        const running = new Promise<void>((resolve) => (progressed = resolve));
        let killedAt = 0;
        // Its timeout (30 s) is what the client would wait for without the lease.
        const options = { onprogress: () => progressed(), timeout: 30_000 };
        const params = { name: "slow", arguments: { ms: 20_000 } };
        const call = settle(
          sdk === "v2"
            ? (client as Client).callTool(params, options)
            : (client as Awaited<ReturnType<typeof connectV1HttpClient>>).callTool(
                params,
                undefined,
                options,
              ),
          () => killedAt,
        );
        await running;
        const runner = proxy.inFlight.findIndex((n, i) => n > before[i]!);
        const [a, b] = [started[runner]!, started[1 - runner]!];
        if (routing === "sticky") expect(proxy.counts[1 - runner]).toBe(0);
        else expect(proxy.counts.every((n) => n > 0)).toBe(true);
        killedAt = Date.now();
        await a.stop("SIGKILL");
        const outcome = await call;
        process.stderr.write(
          `[replicas] ${sdk}, ${routing}: the resumed call ended ${outcome.ms} ms after the kill\n`,
        );
        expect("error" in outcome ? outcome.error.message : "a result").toMatch(
          /stopped before answering it; the call may or may not have taken effect/,
        );
        expect("error" in outcome ? outcome.error.code : undefined).toBe(-32603);
        // The client's reconnect delay (1 s), the lease (1 s) and a check (a quarter of it), with room.
        expect(outcome.ms).toBeLessThan(LEASE_MS + 5_000);
        const logged = "the replica running a resumed call stopped before answering it";
        expect(await logOnce(b, logged)).toContain(logged);
        expect(b.stderr()).toContain("resuming a stream written by another replica");
      } finally {
        await client.close();
        await proxy.close();
      }
    }, 60_000);
  }

  for (const copy of [false, true]) {
    it(`the replica alive: a call four leases long resumes on the other replica${copy ? " (holding a copy of the session)" : ""} and delivers its result`, async () => {
      const [a, b] = await pair();
      const transport = new StreamableHTTPClientTransport(new URL(`${a.origin}/mcp`), {
        fetch: cutAndResumeElsewhere(`${b.origin}/mcp`),
      });
      const client = new Client({ name: "resume-elsewhere", version: "0.0.0" });
      await client.connect(transport);
      try {
        if (copy) {
          // A request through B first: B rebuilds the session, so the resuming GET finds a copy there.
          const ping = await fetch(`${b.origin}/mcp`, {
            method: "POST",
            headers: {
              ...MCP_HEADERS,
              "mcp-session-id": transport.sessionId!,
              "mcp-protocol-version": "2025-11-25",
            },
            body: JSON.stringify({ jsonrpc: "2.0", id: "ping", method: "ping" }),
          });
          expect(ping.status).toBe(200);
          await ping.text();
          const adopted = "took up a session opened on another replica";
          expect(await logOnce(b, adopted)).toContain(adopted);
        }
        const progress: number[] = [];
        const result = await client.callTool(
          { name: "slow", arguments: { ms: 4 * LEASE_MS } },
          { onprogress: (p) => progress.push(p.progress), timeout: 30_000 },
        );
        expect(result.structuredContent).toMatchObject({ steps: 10 });
        // Every step arrived, the first on the cut stream, the rest through the other replica.
        expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        const resumed = "resuming a stream written by another replica";
        expect(await logOnce(b, resumed)).toContain(resumed);
        expect(b.stderr()).not.toContain("stopped before answering");
      } finally {
        await client.close();
      }
    }, 60_000);
  }
});
