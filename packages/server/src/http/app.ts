/**
 * The kit's HTTP server: node:http with /mcp and, beside it, the probes and /metrics (probes.ts).
 * A request passes the origin guard (guards.ts) and admission (admission.ts); a POST's body is read
 * and parsed once, then answered by the 2026-07-28 lane (modern.ts) or the 2025 lanes (legacy.ts).
 * This file owns the options, the routing, the refusal count and the listen/drain/close lifecycle.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Runtime } from "../runtime.js";
import { admit, refuseMissingScope } from "./admission.js";
import { metadataPaths, type HttpAuth } from "./auth.js";
import { BodyTimeout, BodyTooLarge, readBody } from "./body.js";
import { MemoryEventStore, isSharedEventStore, type EventStore } from "./event-store.js";
import { originPolicy, refusal, type OriginPolicy } from "./guards.js";
import { createLegacyLane } from "./legacy.js";
import { createModernLane } from "./modern.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../define.js";
import { answerProbe, boundScrapeReadiness, isProbe, serveMetrics } from "./probes.js";
import { json, rpcError } from "./replies.js";
import { SessionLimits } from "./session-limits.js";
import {
  CONNECTIONS_CHECK_MS,
  DEFAULT_TIMEOUTS,
  applyServerTimeouts,
  closeAfterResponse,
  type HttpTimeouts,
} from "./timeouts.js";

export interface HttpOptions {
  host: string;
  port: number;
  /** No sessions: every POST is answered by a fresh server; GET and DELETE are refused. */
  stateless?: boolean;
  /** Answer POSTs with a JSON body instead of an SSE stream. */
  jsonResponse?: boolean;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  /** Default 4 MiB. */
  maxBodyBytes?: number;
  /** Default 1000. */
  maxSessions?: number;
  /** Open sessions one principal may hold (with auth). Default 100. */
  maxSessionsPerPrincipal?: number;
  /** Header and body deadlines. Default 10 s and 30 s. */
  timeouts?: Partial<HttpTimeouts>;
  /** Serve /metrics without credentials even when auth is on. */
  publicMetrics?: boolean;
  /** Byte cap of the default in-memory event store. Default 64 MiB. */
  eventStoreMaxBytes?: number;
  /** Sessions idle longer than this are closed. Default 30 minutes. */
  sessionIdleMs?: number;
  /** Where resumable streams keep events; in memory by default. */
  eventStore?: EventStore;
  /**
   * With a shared store: how long a call stream's lease lasts unrenewed. A client resuming the stream
   * on another replica gets an error once it lapses (the running replica died). Default 5 s.
   */
  streamLeaseMs?: number;
  /** Inbound auth; without it the endpoint is open (only allowed on loopback by the binary). */
  auth?: HttpAuth;
}

export interface HttpHandle {
  readonly server: Server;
  readonly port: number;
  /** e.g. http://127.0.0.1:3000/mcp */
  readonly url: string;
  /** Number of open sessions. */
  readonly sessions: number;
  /** Stops accepting, lets in-flight requests finish up to the deadline, then closes everything. */
  close(deadlineMs?: number): Promise<void>;
}

const MCP_PATH = "/mcp";

/** Streamable HTTP on node:http, with health, readiness and metrics endpoints beside it. */
export async function serveHttp(rt: Runtime, options: HttpOptions): Promise<HttpHandle> {
  const policy: OriginPolicy = originPolicy(options.host, options.allowedHosts, options.allowedOrigins);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const timeouts: HttpTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const eventStore =
    options.eventStore ??
    new MemoryEventStore(options.eventStoreMaxBytes ? { maxBytes: options.eventStoreMaxBytes } : {});
  const shared = isSharedEventStore(eventStore) ? eventStore : undefined;
  if (shared) rt.addReadinessCheck(() => shared.check());
  boundScrapeReadiness(rt);
  rt.toolLimiter = options.auth?.toolLimiter;
  const legacy = createLegacyLane(rt, {
    stateless: options.stateless ?? false,
    jsonResponse: options.jsonResponse ?? false,
    maxBodyBytes: maxBody,
    maxSessions: options.maxSessions ?? 1000,
    perPrincipal: new SessionLimits(options.maxSessionsPerPrincipal ?? 100),
    idleMs: options.sessionIdleMs ?? 30 * 60_000,
    eventStore,
    shared,
    streamLeaseMs: options.streamLeaseMs,
  });
  const modern = createModernLane(rt, maxBody);
  let openPosts = 0;
  let closing = false;

  const server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECK_MS }, (req, res) => {
    // One close listener per request: a POST open until then, and every 4xx/5xx answer counted by
    // status (401, 404, 413, 429, 503, …), whoever wrote it: the guards here, the auth layer or the
    // SDK's transports. Probes report through /readyz itself.
    let posting = false;
    res.once("close", () => {
      if (posting) openPosts--;
      if (res.headersSent && res.statusCode >= 400) {
        const route = routeOf(req.url);
        if (route !== "probe") rt.metrics.countRefusal(res.statusCode, route);
      }
    });
    const posted = () => {
      posting = true;
      openPosts++;
    };
    handle(req, res, posted).catch((err: unknown) => {
      rt.logger.error({ err }, "http request failed");
      if (!res.headersSent) rpcError(res, 500, -32603, "internal error; the server log has the details");
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  applyServerTimeouts(server, timeouts);

  async function handle(req: IncomingMessage, res: ServerResponse, posted: () => void): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (isProbe(path)) return answerProbe(rt, path, res);
    const refused = refusal(req, policy);
    if (refused) {
      rt.logger.warn({ host: req.headers.host, origin: req.headers.origin, path }, "request refused");
      closeAfterResponse(req, res);
      return rpcError(res, 403, -32000, `Forbidden: ${refused}`);
    }
    const auth = options.auth;
    if (auth?.metadata && req.method === "GET" && metadataPaths(auth).includes(path)) {
      return json(res, 200, auth.metadata);
    }
    if (path === "/metrics" && req.method === "GET") {
      // With auth on, metrics need a credential too, unless --public-metrics says otherwise.
      return serveMetrics(rt, req, res, options.publicMetrics ? undefined : auth);
    }
    if (path !== MCP_PATH)
      return json(res, 404, { error: `no route ${path.slice(0, 100)}; the MCP endpoint is ${MCP_PATH}` });
    if (closing) {
      res.setHeader("retry-after", "1");
      return rpcError(res, 503, -32000, "the server is shutting down; retry on another instance");
    }
    let owner: string | undefined;
    if (auth) {
      const admitted = await admit(rt, req, res, auth, path);
      if (!admitted) return;
      owner = admitted.owner;
    }
    switch (req.method) {
      case "POST":
        posted();
        return post(req, res, owner);
      case "GET":
      case "DELETE":
        return legacy.sessionRequest(req, res, owner);
      default:
        res.setHeader("allow", options.stateless ? "POST" : "GET, POST, DELETE");
        return rpcError(res, 405, -32000, `method ${req.method} not allowed on ${MCP_PATH}`);
    }
  }

  async function post(req: IncomingMessage, res: ServerResponse, owner: string | undefined): Promise<void> {
    let body: unknown;
    try {
      const raw = await readBody(req, maxBody, timeouts.bodyMs);
      body = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      if (err instanceof BodyTimeout) {
        closeAfterResponse(req, res);
        return rpcError(
          res,
          408,
          -32600,
          `the request body did not arrive within ${timeouts.bodyMs / 1000}s`,
        );
      }
      if (err instanceof BodyTooLarge) {
        res.setHeader("connection", "close");
        return rpcError(res, 413, -32600, `request body exceeds ${maxBody} bytes`);
      }
      return rpcError(res, 400, -32700, "Parse error: the request body is not valid JSON");
    }
    if (options.auth && (await refuseMissingScope(rt, req, res, options.auth, body))) return;
    // A 2026-07-28 request carries its protocol version in its own _meta: no session, any replica.
    if (!modern.isLegacy(req, body)) return modern.serve(req, res, body);
    return legacy.post(req, res, body, owner);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(":") ? `[${options.host}]` : options.host;

  return {
    server,
    port,
    url: `http://${shownHost}:${port}${MCP_PATH}`,
    get sessions() {
      return legacy.sessions;
    },
    async close(deadlineMs = 10_000) {
      if (closing) return;
      closing = true;
      rt.beginShutdown();
      legacy.stopSweeping();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + deadlineMs;
      await rt.drain(deadlineMs);
      while (openPosts > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Every session held here, then the stream leases, then the 2026-07-28 lane's servers.
      await legacy.close();
      await modern.close().catch(() => {});
      server.closeAllConnections();
      await stopped;
      await rt.close();
      await Promise.allSettled([
        options.auth?.principalLimiter?.close(),
        options.auth?.toolLimiter?.close(),
        options.auth?.failureLimiter?.close(),
      ]);
    },
  };
}

/** The `route` label of a refusal: a closed set, whatever path a client or scanner sends. */
function routeOf(url: string | undefined): "mcp" | "metrics" | "well_known" | "probe" | "other" {
  const path = (url ?? "/").split("?")[0] ?? "/";
  if (path === MCP_PATH) return "mcp";
  if (path === "/metrics") return "metrics";
  if (isProbe(path)) return "probe";
  return path.startsWith("/.well-known/") ? "well_known" : "other";
}
