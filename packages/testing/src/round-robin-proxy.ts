import {
  createServer,
  request,
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export interface RoundRobinProxyOptions {
  /**
   * Session affinity: a request carrying an `Mcp-Session-Id` goes to the replica whose response
   * issued that id, the way a load balancer hashing on that header would. Off by default: plain
   * round robin, every request to the next replica.
   */
  stickySessions?: boolean;
  /**
   * What a load balancer does when a replica is gone (nginx's `proxy_next_upstream error`, envoy's
   * `connect-failure`): a request whose connection is refused (or reset while connecting) goes to
   * the next replica instead of being answered 502 (it never reached the dead one, so this is safe
   * for POSTs too). A request
   * already sent is never sent again: if its replica dies before answering it is answered 502, or,
   * once the answer has begun (an SSE stream), its client's connection is cut. Either way that
   * replica is skipped for `downMs` (default 5 s). Request bodies are buffered for the retry.
   */
  failover?: boolean;
  downMs?: number;
}

export interface RoundRobinProxy {
  /** The proxy's origin plus `/mcp`, e.g. http://127.0.0.1:41234/mcp. */
  readonly url: string;
  /** Requests forwarded to each target so far, in the order the targets were given. */
  readonly counts: readonly number[];
  /** Requests forwarded to each target whose answer has not ended yet. */
  readonly inFlight: readonly number[];
  /**
   * Requests each target took and never answered in full: its connection failed after the request
   * was sent (it died mid-flight). Answered 502, or cut if the answer had begun. A failed connect is
   * not counted here: that request was never sent.
   */
  readonly cut: readonly number[];
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business and not forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * A loopback reverse proxy in front of several replicas of one HTTP server (`targets` are their
 * origins, e.g. http://127.0.0.1:3001). Each request goes to the next target in turn; bodies and
 * responses are streamed both ways as they come, so SSE responses reach the client event by event.
 * A target that cannot be reached, or dies before answering, is answered 502 (see `failover`).
 */
export async function startRoundRobinProxy(
  targets: readonly string[],
  options: RoundRobinProxyOptions = {},
): Promise<RoundRobinProxy> {
  if (targets.length === 0) throw new Error("startRoundRobinProxy needs at least one target");
  const upstreams = targets.map((t) => new URL(t));
  const counts = upstreams.map(() => 0);
  const inFlight = upstreams.map(() => 0);
  const cut = upstreams.map(() => 0);
  const sessionTarget = new Map<string, number>();
  // A connection per forwarded request. With pooled keep-alive connections a request could be written
  // to a socket the replica was closing as idle (Node's 5 s keep-alive timeout), and fail with "socket
  // hang up" though the replica is alive (seen under load). Such a failure is indistinguishable from a
  // replica dying mid-request, which this proxy must answer 502 and never send again.
  const agent = new Agent({ keepAlive: false });
  let next = 0;

  const downUntil = upstreams.map(() => 0);
  const pick = (): number => {
    for (let tries = 0; tries < upstreams.length; tries++) {
      const index = next++ % upstreams.length;
      if (!options.failover || downUntil[index]! <= Date.now()) return index;
    }
    return next++ % upstreams.length;
  };

  const server = createServer((req, res) => {
    const sid = req.headers["mcp-session-id"];
    const pinned = options.stickySessions && typeof sid === "string" ? sessionTarget.get(sid) : undefined;
    if (!options.failover) return void forward(req, res, pinned ?? pick(), undefined, 1);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => forward(req, res, pinned ?? pick(), Buffer.concat(chunks), upstreams.length));
  });

  /** Sends `req` to `index`; with a buffered `body`, a refused connection moves on to the next one. */
  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    index: number,
    body: Buffer | undefined,
    triesLeft: number,
  ): void {
    const upstream = upstreams[index]!;
    counts[index]!++;
    inFlight[index]!++;
    let done = false;
    /** Once per forwarded request: it ended (or its client left), was cut, or was never sent. */
    const finish = (outcome: "ended" | "unsent" | "cut") => {
      if (done) return;
      done = true;
      inFlight[index]!--;
      if (outcome === "unsent") counts[index]!--;
      if (outcome === "ended") return;
      if (outcome === "cut") cut[index]!++;
      if (options.failover) downUntil[index] = Date.now() + (options.downMs ?? 5_000);
    };
    const upstreamReq = request(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.headers),
      },
      (answer) => {
        const issued = answer.headers["mcp-session-id"];
        if (options.stickySessions && typeof issued === "string") sessionTarget.set(issued, index);
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        // SSE: send each chunk on as it arrives (pipe does, without buffering whole responses).
        answer.pipe(res);
        answer.once("end", () => finish("ended"));
        // The target died with its answer begun: all a balancer can do is cut the client's connection.
        answer.once("error", () => {
          finish("cut");
          res.destroy();
        });
      },
    );
    upstreamReq.once("error", (err: NodeJS.ErrnoException) => {
      if (done) return;
      // A failed connect (refused, or reset by a dying target): nothing was sent, so any request may
      // go elsewhere. Anything later (a reset, a hang-up) may come after the target read the
      // request, so it is not sent again.
      if (err.syscall === "connect") {
        finish("unsent");
        if (body && triesLeft > 1) return forward(req, res, pick(), body, triesLeft - 1);
      } else finish("cut");
      if (res.headersSent) return void res.destroy();
      res
        .writeHead(502, { "content-type": "application/json" })
        .end(JSON.stringify({ error: `upstream ${upstream.origin} failed: ${err.message}` }));
    });
    // The client going away (e.g. closing an SSE stream) closes the upstream request too.
    res.once("close", () => {
      if (res.writableFinished || done) return;
      finish("ended");
      upstreamReq.destroy();
    });
    if (body) upstreamReq.end(body);
    else req.pipe(upstreamReq);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    counts,
    inFlight,
    cut,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
