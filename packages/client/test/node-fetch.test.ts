// The keep-alive fetch the upstream client hands the SDK's HTTP transport, against real node:http
// servers on loopback: socket reuse, a streamed SSE body, abort, and the one retry it allows (a reused
// socket reset before any response byte) against the ones it refuses.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PostTimeout, createKeepAliveFetch, type KeepAliveFetch } from "../src/node-fetch.js";

vi.setConfig({ testTimeout: 30_000 });

interface Upstream {
  url: string;
  connections: number;
  requests: { method: string; body: string }[];
  close(): Promise<void>;
}

let open: { server?: Upstream; fetch?: KeepAliveFetch }[] = [];

afterEach(async () => {
  for (const o of open) {
    o.fetch?.close();
    await o.server?.close();
  }
  open = [];
});

async function upstream(
  handle: (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>,
): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const state: Upstream = {
    url: "",
    connections: 0,
    requests: [],
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      state.requests.push({ method: req.method!, body: Buffer.concat(chunks).toString("utf8") });
      void handle(req, res, state.requests.length);
    });
  });
  server.on("connection", (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  open.push({ server: state });
  return state;
}

function keepAlive(): KeepAliveFetch {
  const f = createKeepAliveFetch();
  open.push({ fetch: f });
  return f;
}

const post = (body: string, signal?: AbortSignal): RequestInit => ({
  method: "POST",
  headers: new Headers({ "content-type": "application/json", accept: "application/json, text/event-stream" }),
  body,
  ...(signal ? { signal } : {}),
});

describe("createKeepAliveFetch", () => {
  it("sends method, headers and body, and reuses one socket across sequential calls", async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(`${req.headers["content-type"]}|${req.headers["content-length"]}`);
      res.writeHead(200, { "content-type": "application/json", "x-multi": ["a", "b"] });
      res.end(JSON.stringify({ ok: true }));
    });
    const { fetch } = keepAlive();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(up.url, post(`{"i":${i}}`));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.headers.get("x-multi")).toBe("a, b");
      expect(res.url).toBe(up.url);
      expect(await res.json()).toEqual({ ok: true });
    }
    expect(up.requests.map((r) => r.body)).toEqual([0, 1, 2, 3, 4].map((i) => `{"i":${i}}`));
    expect(seen[0]).toBe("application/json|7");
    expect(up.connections).toBe(1);
  });

  it("streams an SSE body: the first event is read before the server writes the next", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const up = await upstream(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('event: message\ndata: {"n":1}\n\n');
      await released;
      res.end('event: message\ndata: {"n":2}\n\n');
    });
    const { fetch } = keepAlive();
    const res = await fetch(up.url, post("{}"));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    expect(first.value).toBe('event: message\ndata: {"n":1}\n\n');
    release();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
    }
    expect(rest).toBe('event: message\ndata: {"n":2}\n\n');
  });

  it("gives a null body for 202 and 204, as a web Response must", async () => {
    const up = await upstream((_req, res, n) => {
      res.writeHead(n === 1 ? 202 : 204);
      res.end();
    });
    const { fetch } = keepAlive();
    const accepted = await fetch(up.url, post("{}"));
    expect(accepted.status).toBe(202);
    expect(await accepted.text()).toBe("");
    const empty = await fetch(up.url, post("{}"));
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect(up.connections).toBe(1);
  });

  it("honours an abort while waiting for the response and while the body streams", async () => {
    const closed: string[] = [];
    const up = await upstream((req, res, n) => {
      res.on("close", () => closed.push(`request ${n} closed`));
      if (n === 1) return; // never answers
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n"); // then nothing more
    });
    const { fetch } = keepAlive();
    const waiting = new AbortController();
    const pending = fetch(up.url, post("{}", waiting.signal));
    await vi.waitFor(() => expect(up.requests).toHaveLength(1));
    waiting.abort(new DOMException("stop waiting", "AbortError"));
    await expect(pending).rejects.toThrow("stop waiting");

    const streaming = new AbortController();
    const res = await fetch(up.url, post("{}", streaming.signal));
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    streaming.abort(new DOMException("stop reading", "AbortError"));
    await expect(reader.read()).rejects.toThrow("stop reading");
    await vi.waitFor(() => expect(closed).toEqual(["request 1 closed", "request 2 closed"]));

    const before = new AbortController();
    before.abort(new DOMException("too late", "AbortError"));
    await expect(fetch(up.url, post("{}", before.signal))).rejects.toThrow("too late");
    expect(up.requests).toHaveLength(2);
  });

  it("shares one abort listener per signal: 20 requests streaming on one signal raise no leak warning, and one abort ends them all", async () => {
    // The SDK's transport passes one long-lived signal to every request it sends.
    const up = await upstream((_req, res, n) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${n}\n\n`); // then nothing more: the stream stays open
    });
    const { fetch } = keepAlive();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      const shared = new AbortController();
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => fetch(up.url, post("{}", shared.signal))),
      );
      const readers = responses.map((r) => r.body!.getReader());
      for (const reader of readers) expect((await reader.read()).done).toBe(false);
      // A finished request leaves the signal's set: its stream no longer errors on the abort.
      await readers[0]!.cancel();
      shared.abort(new DOMException("all done", "AbortError"));
      for (const reader of readers.slice(1)) await expect(reader.read()).rejects.toThrow("all done");
      // Node emits warnings on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.includes("MaxListeners"))).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("retries once when a reused socket is reset before any response byte", async () => {
    const up = await upstream((req, res, n) => {
      if (n === 2) {
        req.socket.resetAndDestroy();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ n }));
    });
    const { fetch } = keepAlive();
    expect(await (await fetch(up.url, post('{"call":1}'))).json()).toEqual({ n: 1 });
    const res = await fetch(up.url, post('{"call":2}'));
    expect(await res.json()).toEqual({ n: 3 });
    // The second call went out twice (on the reused socket, then on a new one) and was answered once.
    expect(up.requests.map((r) => r.body)).toEqual(['{"call":1}', '{"call":2}', '{"call":2}']);
    expect(up.connections).toBe(2);
  });

  it("does not retry a reset on a fresh socket", async () => {
    const up = await upstream((req) => {
      req.socket.resetAndDestroy();
    });
    const { fetch } = keepAlive();
    await expect(fetch(up.url, post("{}"))).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(up.requests).toHaveLength(1);
  });

  it("does not retry a reset after response bytes arrived (mid-head or mid-body)", async () => {
    const up = await upstream((req, res, n) => {
      if (n === 2) {
        // Part of a status line, then a reset: the request reached the application.
        req.socket.write("HTTP/1.1 200 OK\r\n", () => setTimeout(() => req.socket.resetAndDestroy(), 50));
        return;
      }
      if (n === 4) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: one\n\n", () => setTimeout(() => req.socket.resetAndDestroy(), 50));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    const { fetch } = keepAlive();
    await (await fetch(up.url, post('{"call":1}'))).text();
    await expect(fetch(up.url, post('{"call":2}'))).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(up.requests).toHaveLength(2);

    await (await fetch(up.url, post('{"call":3}'))).text();
    const res = await fetch(up.url, post('{"call":4}'));
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await expect(reader.read()).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(up.requests.map((r) => r.body)).toEqual([1, 2, 3, 4].map((i) => `{"call":${i}}`));
  });

  it("refuses what it cannot send with a clear error", async () => {
    const { fetch } = keepAlive();
    await expect(fetch("ftp://127.0.0.1/x")).rejects.toThrow("unsupported protocol 'ftp:'");
    await expect(
      fetch("http://127.0.0.1:9/x", {
        method: "POST",
        body: new ReadableStream(),
        duplex: "half",
      }),
    ).rejects.toThrow("the request body must be a string, bytes or URLSearchParams");
  });
});

describe("KeepAliveFetch.post (callToolDirect's)", () => {
  const json = { "content-type": "application/json" };

  it("sends the body with its length on kept-alive sockets, and reads the answer whole", async () => {
    const up = await upstream((req, res, n) => {
      res.writeHead(200, { "content-type": "application/json" });
      // The answer in two writes: it comes back as one string.
      res.write(`{"n":${n},`);
      setTimeout(() => res.end(`"len":"${req.headers["content-length"]}"}`), 10);
    });
    const { post: postWhole } = keepAlive();
    const signal = new AbortController().signal;
    await postWhole(new URL(up.url), json, "{}", signal, 5_000);
    const answer = await postWhole(new URL(up.url), json, '{"ü":1}', signal, 5_000);
    expect(answer).toEqual({ status: 200, contentType: "application/json", text: '{"n":2,"len":"8"}' });
    expect(up.requests[1]!.body).toBe('{"ü":1}');
    for (let i = 0; i < 6; i++) await postWhole(new URL(up.url), json, "{}", signal, 5_000);
    // Kept alive: eight calls one after another on at most two sockets (undici's pool opens a second
    // while the first is still marked busy right after its first answer).
    expect(up.connections).toBeLessThanOrEqual(2);
  });

  it("reads a chunked SSE answer and an empty one, and does not reuse a socket the server closes", async () => {
    const seen: string[] = [];
    /** The client port of each request's socket. */
    const ports: number[] = [];
    const up = await upstream((req, res, n) => {
      seen.push(`${String(req.headers["x-key"])}|${req.headers.host}`);
      ports.push(req.socket.remotePort!);
      if (n === 1) {
        // Chunked (no Content-Length): two events, then the end.
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write('event: message\ndata: {"n":1}\n\n');
        setTimeout(() => res.end('event: message\ndata: {"ü":2}\n\n'), 10);
      } else if (n === 2) {
        res.writeHead(202).end();
      } else {
        // Connection: close.
        res.shouldKeepAlive = false;
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("gone");
      }
    });
    const { post: postWhole } = keepAlive();
    const signal = new AbortController().signal;
    const headers = { ...json, "X-Key": "k 1" };
    expect(await postWhole(new URL(up.url), headers, "{}", signal, 5_000)).toEqual({
      status: 200,
      contentType: "text/event-stream",
      text: 'event: message\ndata: {"n":1}\n\nevent: message\ndata: {"ü":2}\n\n',
    });
    expect(await postWhole(new URL(up.url), headers, "{}", signal, 5_000)).toEqual({
      status: 202,
      contentType: "",
      text: "",
    });
    expect(await postWhole(new URL(up.url), headers, "{}", signal, 5_000)).toEqual({
      status: 500,
      contentType: "text/plain",
      text: "gone",
    });
    await postWhole(new URL(up.url), headers, "{}", signal, 5_000);
    await postWhole(new URL(up.url), headers, "{}", signal, 5_000);
    // The server closed the connection after the third answer: no later request went out on it.
    expect(ports.slice(3)).not.toContain(ports[2]);
    expect(seen).toEqual(Array(5).fill(`k 1|${new URL(up.url).host}`));
  });

  it("sends a header value that is not ASCII as latin1, as node:http does", async () => {
    const up = await upstream((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ key: req.headers["x-key"] }));
    });
    const { post: postWhole } = keepAlive();
    const signal = new AbortController().signal;
    const answer = await postWhole(new URL(up.url), { ...json, "x-key": "café" }, "{}", signal, 5_000);
    // node:http sends header values as latin1, and reads them back so.
    expect(JSON.parse(answer.text)).toEqual({ key: "café" });
  });

  it("sends a call's own headers after the fixed ones, with one headers object for two upstreams", async () => {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify([req.headers.host, req.headers["x-key"], req.headers["mcp-name"]]));
    };
    const one = await upstream(handler);
    const two = await upstream(handler);
    const { post: postWhole } = keepAlive();
    const signal = new AbortController().signal;
    const fixed = { ...json, "x-key": "k" };
    const ask = async (url: string, name: string): Promise<unknown> =>
      JSON.parse((await postWhole(new URL(url), fixed, "{}", signal, 5_000, { "mcp-name": name })).text);
    expect(await ask(one.url, "a")).toEqual([new URL(one.url).host, "k", "a"]);
    expect(await ask(two.url, "b")).toEqual([new URL(two.url).host, "k", "b"]);
    expect(await ask(one.url, "c")).toEqual([new URL(one.url).host, "k", "c"]);
    expect([one.connections, two.connections]).toEqual([1, 1]);
  });

  it("retries once when a socket of an origin that answered before is reset before any answer byte, never an origin's first", async () => {
    const up = await upstream((req, res, n) => {
      if (n === 2 || n >= 4) {
        req.socket.resetAndDestroy();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ n }));
    });
    const { post: postWhole } = keepAlive();
    const signal = new AbortController().signal;
    expect((await postWhole(new URL(up.url), json, '{"call":1}', signal, 5_000)).text).toBe('{"n":1}');
    expect((await postWhole(new URL(up.url), json, '{"call":2}', signal, 5_000)).text).toBe('{"n":3}');
    expect(up.requests.map((r) => r.body)).toEqual(['{"call":1}', '{"call":2}', '{"call":2}']);
    // Reset twice (the retry reset too): the reset goes to the caller, after one retry.
    await expect(postWhole(new URL(up.url), json, '{"call":4}', signal, 5_000)).rejects.toMatchObject({
      code: "ECONNRESET",
    });
    expect(up.requests.map((r) => r.body).slice(3)).toEqual(['{"call":4}', '{"call":4}']);
    // An origin that never answered: its first request's reset is not retried.
    const fresh = await upstream((req) => void req.socket.resetAndDestroy());
    await expect(postWhole(new URL(fresh.url), json, '{"call":1}', signal, 5_000)).rejects.toMatchObject({
      code: "ECONNRESET",
    });
    expect(fresh.requests).toHaveLength(1);
  });

  it("fails with the signal's reason on abort, and with PostTimeout when no whole answer comes in time", async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{");
      // never ends
    });
    const { post: postWhole } = keepAlive();
    const controller = new AbortController();
    const pending = postWhole(new URL(up.url), json, "{}", controller.signal, 30_000);
    await vi.waitFor(() => expect(up.requests).toHaveLength(1));
    controller.abort(new Error("the caller went away"));
    await expect(pending).rejects.toThrow("the caller went away");
    await expect(
      postWhole(new URL(up.url), json, "{}", new AbortController().signal, 200),
    ).rejects.toBeInstanceOf(PostTimeout);
  });
});
