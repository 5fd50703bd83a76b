import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startRoundRobinProxy, type RoundRobinProxy } from "../src/index.js";

// The proxy's failover as a load balancer does it (nginx `proxy_next_upstream error`, envoy
// `connect-failure`): a request that never reached a replica goes to the next one; a request a
// replica took and died on is answered 502, never sent again, since it may have been applied.

/** A loopback HTTP server; `received` counts the requests it read in full. */
async function target(handle: (answer: (status: number) => void, destroy: () => void) => void) {
  const seen = { received: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.once("end", () => {
      seen.received++;
      handle(
        (status) => res.writeHead(status, { "content-type": "text/plain" }).end("ok"),
        () => req.socket.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(seen, {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
}

/** An origin nothing listens on: connections to it are refused. */
async function refusedOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * A replica closing its idle keep-alive connections, at its worst: on each connection it answers the
 * first request (keeping the connection open, as HTTP/1.1 does) and drops the connection when a second
 * request arrives on it, which is what a request written just as the idle timeout closes the socket
 * meets. Counts the connections it accepted and the requests it answered.
 */
async function idleClosingTarget() {
  const seen = { connections: 0, answered: 0 };
  const server = createTcpServer((socket) => {
    seen.connections++;
    let requests = 0;
    socket.on("data", (chunk) => {
      // One request per chunk is enough for these small bodies on loopback.
      if (!chunk.includes("\r\n\r\n")) return;
      if (++requests > 1) return void socket.destroy();
      seen.answered++;
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok");
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(seen, {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

describe("startRoundRobinProxy connections", () => {
  it("never sends a request on a connection the replica may be closing as idle: one connection per request", async () => {
    const replica = await idleClosingTarget();
    const proxy = await startRoundRobinProxy([replica.origin]);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(proxy.url, { method: "POST", body: "{}" });
        expect(res.status).toBe(200);
        expect(await res.text()).toBe("ok");
      }
      expect(replica.answered).toBe(3);
      expect(replica.connections).toBe(3);
    } finally {
      await proxy.close();
      await replica.close();
    }
  });
});

describe("startRoundRobinProxy with failover", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });
  const closeServer = (server: Server) => () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const post = (proxy: RoundRobinProxy) =>
    fetch(proxy.url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "x" }) });

  it("sends a request whose connection is refused to the next target: not counted as cut", async () => {
    const live = await target((answer) => answer(200));
    cleanup.push(closeServer(live.server));
    const proxy = await startRoundRobinProxy([await refusedOrigin(), live.origin], { failover: true });
    cleanup.push(() => proxy.close());

    const res = await post(proxy);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(live.received).toBe(1);
    expect(proxy.counts).toEqual([0, 1]);
    expect(proxy.cut).toEqual([0, 0]);
    expect(proxy.inFlight).toEqual([0, 0]);
  });

  it("answers 502 for a request the target took and then died on, and does not send it again", async () => {
    const dying = await target((_, destroy) => destroy());
    const live = await target((answer) => answer(200));
    cleanup.push(closeServer(dying.server), closeServer(live.server));
    const proxy = await startRoundRobinProxy([dying.origin, live.origin], { failover: true });
    cleanup.push(() => proxy.close());

    const res = await post(proxy);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain(`upstream ${dying.origin} failed`);
    // Taken by the dying target, never by the live one: it may have been applied before the cut.
    expect(dying.received).toBe(1);
    expect(live.received).toBe(0);
    expect(proxy.cut).toEqual([1, 0]);
    expect(proxy.inFlight).toEqual([0, 0]);

    // The dying target is skipped for a while after (passive health check): the next goes to live.
    const next = await post(proxy);
    expect(next.status).toBe(200);
    const after = await post(proxy);
    expect(after.status).toBe(200);
    expect(live.received).toBe(2);
    expect(dying.received).toBe(1);
  });

  it("counts a request in flight on its target until its answer has ended", async () => {
    let release: () => void = () => {};
    const slow = await target((answer) => {
      release = () => answer(200);
    });
    cleanup.push(closeServer(slow.server));
    const proxy = await startRoundRobinProxy([slow.origin], { failover: true });
    cleanup.push(() => proxy.close());

    const pending = post(proxy);
    for (const until = Date.now() + 5_000; slow.received === 0 && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(proxy.inFlight).toEqual([1]);
    release();
    const res = await pending;
    await res.text();
    expect(res.status).toBe(200);
    expect(proxy.inFlight).toEqual([0]);
    expect(proxy.cut).toEqual([0]);
  });
});
