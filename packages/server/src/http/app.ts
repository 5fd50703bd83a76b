import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { NodeStreamableHTTPServerTransport as StreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { isInitializeRequest, type JSONRPCMessage } from "@modelcontextprotocol/server";
import { connect, type Connection } from "../connection.js";
import type { Runtime } from "../runtime.js";
import { authenticateOrRefuse } from "./admission.js";
import { BodyTimeout, BodyTooLarge, readBody } from "./body.js";
import {
  MemoryEventStore,
  isSharedEventStore,
  type EventStore,
  type SharedEventStore,
} from "./event-store.js";
import { originPolicy, refusal, type OriginPolicy } from "./guards.js";
import { createModernLane } from "./modern.js";
import { principalFromAuthInfo } from "../principal.js";
import { authInfoFor, metadataPaths, principalKey, refuse, scopeRefusal, type HttpAuth } from "./auth.js";
import { ownStream, sessionEventStore } from "./session-events.js";
import { SessionLimits } from "./session-limits.js";
import { SharedSessions, type AdoptionRefused, type LocalSession } from "./shared-sessions.js";
import {
  DEFAULT_STREAM_LEASE_MS,
  StreamLeases,
  isLeasingStore,
  lapsedCallError,
  responseId,
  type LeaseWatch,
} from "./stream-leases.js";
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

type Session = LocalSession;

const MCP_PATH = "/mcp";
/** How long a /metrics scrape waits for readiness before reporting not ready. */
const SCRAPE_READINESS_MS = 1_000;
/** The SDK's name for a session's standalone GET stream. */
const STANDALONE_STREAM = "_GET_stream";

/** Streamable HTTP on node:http, with health, readiness and metrics endpoints beside it. */
export async function serveHttp(rt: Runtime, options: HttpOptions): Promise<HttpHandle> {
  const policy: OriginPolicy = originPolicy(options.host, options.allowedHosts, options.allowedOrigins);
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxSessions = options.maxSessions ?? 1000;
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const eventStore =
    options.eventStore ??
    new MemoryEventStore(options.eventStoreMaxBytes ? { maxBytes: options.eventStoreMaxBytes } : {});
  const perPrincipal = new SessionLimits(options.maxSessionsPerPrincipal ?? 100);
  const timeouts: HttpTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const shared = isSharedEventStore(eventStore) ? eventStore : undefined;
  if (shared) rt.addReadinessCheck(() => shared.check());
  // A scrape does not wait for a slow setup (a database seeding) or a hung check: toolshed_ready
  // reads 0 until readiness answers within the bound, and /metrics itself answers at once.
  rt.metrics.setReadinessCheck(async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), SCRAPE_READINESS_MS);
    });
    const verdict = rt.readiness().then((r) => r.ready);
    return Promise.race([verdict, late]).finally(() => clearTimeout(timer));
  });
  rt.toolLimiter = options.auth?.toolLimiter;
  const sessions = new Map<string, Session>();
  // Renewed 4 times per lease length while a call runs here; no lease writes without a shared store.
  const leases =
    shared && isLeasingStore(shared)
      ? new StreamLeases(
          shared,
          options.streamLeaseMs ?? DEFAULT_STREAM_LEASE_MS,
          (sid, rid) => sessions.get(sid)?.isPending(rid) ?? false,
          rt.logger,
        )
      : undefined;
  // With a shared store, a 2025 session is usable from every replica (shared-sessions.ts).
  const everywhere =
    shared &&
    new SharedSessions(rt, {
      store: shared,
      sessions,
      idleMs,
      maxSessions,
      perPrincipal,
      jsonResponse: options.jsonResponse ?? false,
      maxBodyBytes: maxBody,
      ...(leases ? { leases } : {}),
    });
  const modern = createModernLane(rt, maxBody);
  let openPosts = 0;
  let closing = false;

  const server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECK_MS }, (req, res) => {
    // Every 4xx/5xx answer is counted by status (401, 404, 413, 429, 503, …), whoever wrote it: the
    // guards here, the auth layer or the SDK's transports. Probes report through /readyz itself.
    res.once("close", () => {
      if (res.headersSent && res.statusCode >= 400) {
        const route = routeOf(req.url);
        if (route !== "probe") rt.metrics.countRefusal(res.statusCode, route);
      }
    });
    handle(req, res).catch((err: unknown) => {
      rt.logger.error({ err }, "http request failed");
      if (!res.headersSent) rpcError(res, 500, -32603, "internal error; the server log has the details");
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  applyServerTimeouts(server, timeouts);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const r = await rt.readiness();
      return json(
        res,
        r.ready ? 200 : 503,
        r.ready ? { status: "ready" } : { status: "not ready", reason: r.reason },
      );
    }
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
      if (auth && !options.publicMetrics && !(await authenticateOrRefuse(req, res, auth, rt.logger, path)))
        return;
      const text = await rt.metrics.render();
      res.writeHead(200, { "content-type": rt.metrics.contentType }).end(text);
      return;
    }
    if (path !== MCP_PATH)
      return json(res, 404, { error: `no route ${path.slice(0, 100)}; the MCP endpoint is ${MCP_PATH}` });
    if (closing) {
      res.setHeader("retry-after", "1");
      return rpcError(res, 503, -32000, "the server is shutting down; retry on another instance");
    }
    let owner: string | undefined;
    if (auth) {
      const outcome = await authenticateOrRefuse(req, res, auth, rt.logger, path);
      if (!outcome) return;
      req.auth = authInfoFor(outcome.principal, outcome.expiresAt);
      owner = principalKey(outcome.principal);
      if (auth.principalLimiter) {
        const taken = await auth.principalLimiter.take(owner);
        if (taken.degraded) rt.logger.warn("rate-limit store degraded; request allowed");
        if (!taken.allowed) {
          closeAfterResponse(req, res);
          res.setHeader("retry-after", String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))));
          return rpcError(
            res,
            429,
            -32029,
            `rate limit reached; retry in ${Math.ceil(taken.retryAfterMs / 1000)}s`,
          );
        }
      }
    }
    switch (req.method) {
      case "POST":
        openPosts++;
        res.once("close", () => openPosts--);
        return post(req, res, owner);
      case "GET":
      case "DELETE":
        return sessionRequest(req, res, owner);
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
    if (options.auth && req.auth) {
      // Scope step-up (MCP authorization): refuse before the call runs, naming the scope to request.
      const principal = principalFromAuthInfo(req.auth);
      const refusedScope = await scopeRefusal(body, principal, (name) => rt.toolScopesFor(name, principal));
      if (refusedScope) return refuse(res, options.auth, refusedScope);
    }
    // A 2026-07-28 request carries its protocol version in its own _meta: no session, any replica.
    if (!modern.isLegacy(req, body)) return modern.serve(req, res, body);
    if (Array.isArray(body)) {
      // JSON-RPC batches left MCP in 2025-06-18, and initialize was never allowed in one.
      const version = header(req, "mcp-protocol-version");
      if ((version !== undefined && version >= "2025-06-18") || body.some((m) => isInitializeRequest(m))) {
        return rpcError(
          res,
          400,
          -32600,
          `JSON-RPC batches are not supported${version ? ` in protocol version ${version}` : " for initialize"}; send one message per request`,
        );
      }
    }
    if (options.stateless) {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: options.jsonResponse ?? false,
      });
      let connection: Connection | undefined = undefined;
      let closed = false;
      res.once("close", () => {
        closed = true;
        void transport.close();
        void connection?.mcp.close();
      });
      connection = await connect(rt, transport, {
        network: "tcp",
        stateless: true,
        jsonResponse: options.jsonResponse ?? false,
      });
      // The client left while the server was being connected: close it here, as the listener could not.
      if (closed) return void connection.mcp.close();
      return transport.handleRequest(req, res, body);
    }
    const id = header(req, "mcp-session-id");
    if (id !== undefined) {
      const session = everywhere ? await everywhere.find(id, owner) : sessions.get(id);
      if (session && "status" in session) return refuseAdoption(res, session, requestIdOf(body));
      // Another principal's session answers as if it did not exist: ids are not to be probed.
      if (!session || session.owner !== owner) {
        return rpcError(res, 404, -32001, "Session not found; initialize a new session", requestIdOf(body));
      }
      track(id, session, res);
      // A reused id would be matched to the wrong stream by the SDK and leave a POST open for good.
      const reused = requestIds(body).find((rid) => session.isPending(rid));
      if (reused !== undefined) {
        return json(res, 409, {
          jsonrpc: "2.0",
          error: {
            code: -32600,
            message: `request id ${JSON.stringify(reused)} is already in flight in this session; use a new id`,
          },
          id: reused,
        });
      }
      const ids = requestIds(body);
      if (leases) return leases.whilePosting(id, ids, () => session.transport.handleRequest(req, res, body));
      return session.transport.handleRequest(req, res, body);
    }
    if (!isInitializeRequest(body)) {
      return rpcError(
        res,
        400,
        -32000,
        "Bad Request: Mcp-Session-Id header is required; send initialize first",
        requestIdOf(body),
      );
    }
    if (sessions.size >= maxSessions) {
      res.setHeader("retry-after", "5");
      return rpcError(
        res,
        503,
        -32000,
        `too many open sessions (${maxSessions}); retry later or close idle sessions`,
        requestIdOf(body),
      );
    }
    const release = owner === undefined ? () => {} : perPrincipal.reserve(owner);
    if (!release) {
      res.setHeader("retry-after", "30");
      return rpcError(res, 429, -32000, perPrincipal.message());
    }
    // Until the session exists, the slot goes back when this request ends; after, when it closes.
    let initialized = false;
    res.once("close", () => {
      if (!initialized) release();
    });
    let connection: Connection | undefined = undefined;
    const newId = randomUUID();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => newId,
      enableJsonResponse: options.jsonResponse ?? false,
      // Each session replays only its own streams (Last-Event-ID cannot reach another session's).
      eventStore: leases
        ? leases.wrap(sessionEventStore(eventStore, newId), newId)
        : sessionEventStore(eventStore, newId),
      onsessioninitialized: (sid) => {
        initialized = true;
        // Called inside handleRequest, so after connect() below has returned.
        const { mcp, isPending } = connection!;
        sessions.set(sid, { transport, mcp, lastSeen: Date.now(), inFlight: 0, owner, isPending });
        if (shared) void shared.registerSession(sid, owner ?? "").catch(logStoreError);
        rt.metrics.sessionsActive.inc();
        return everywhere?.record(sid, owner, body);
      },
      onsessionclosed: everywhere ? (sid) => everywhere.end(sid) : undefined,
    });
    connection = await connect(rt, transport, {
      network: "tcp",
      jsonResponse: options.jsonResponse ?? false,
    });
    const onclose = transport.onclose;
    transport.onclose = () => {
      onclose?.();
      const sid = transport.sessionId;
      if (initialized) release();
      if (sid && sessions.delete(sid)) {
        rt.metrics.sessionsActive.dec();
        // Shared: closing this copy (idle, shutdown) leaves the session to the other replicas.
        if (everywhere) everywhere.closed(sid);
        else void eventStore.forgetSession?.(sid).catch(logStoreError);
      }
    };
    return transport.handleRequest(req, res, body);
  }

  async function sessionRequest(
    req: IncomingMessage,
    res: ServerResponse,
    owner: string | undefined,
  ): Promise<void> {
    if (options.stateless) {
      res.setHeader("allow", "POST");
      return rpcError(res, 405, -32000, "this server is stateless: only POST is supported");
    }
    const id = header(req, "mcp-session-id");
    if (id === undefined) return rpcError(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    const lastEventId = header(req, "last-event-id");
    if (shared && req.method === "GET" && lastEventId) {
      if (!sessions.has(id)) return resumeFromSharedStore(req, res, shared, id, owner, lastEventId);
      // This replica's copy of the session can replay a call stream another replica is writing, but
      // the SDK's transport then closes it: follow it from the shared store instead.
      const local = sessions.get(id)!;
      if (local.owner === owner && (await writtenElsewhere(id, lastEventId))) {
        track(id, local, res);
        return resumeFromSharedStore(req, res, shared, id, owner, lastEventId);
      }
    }
    const session = everywhere ? await everywhere.find(id, owner) : sessions.get(id);
    if (session && "status" in session) return refuseAdoption(res, session, null);
    if (!session || session.owner !== owner) {
      return rpcError(res, 404, -32001, "Session not found; initialize a new session");
    }
    if (req.method === "GET" && lastEventId && (await resumesCall(id, lastEventId))) track(id, session, res);
    else touch(session, res);
    return session.transport.handleRequest(req, res);
  }

  /**
   * Counts a request against its session until its response closes (answered or dropped: 'close'
   * fires either way, so the count cannot leak). The idle sweep never closes a session with
   * requests in flight, so a call longer than the idle time keeps its session.
   */
  function track(sessionId: string, session: Session, res: ServerResponse): void {
    const started = Date.now();
    session.lastSeen = started;
    if (res.closed) return;
    session.inFlight++;
    res.once("close", () => {
      session.inFlight--;
      session.lastSeen = Date.now();
      // The sweep kept the shared record alive meanwhile; its idle time starts again now too.
      if (everywhere && session.lastSeen - started > idleMs / 4) everywhere.keepAlive(sessionId);
    });
  }

  /** Whether a Last-Event-ID names a call stream of the session that this replica is not writing. */
  async function writtenElsewhere(sessionId: string, lastEventId: string): Promise<boolean> {
    if (!leases) return false;
    const stream = await callStream(sessionId, lastEventId);
    return stream !== undefined && !leases.writes(stream);
  }

  /** Whether a Last-Event-ID names one of the session's call streams, not its standalone GET stream. */
  async function resumesCall(sessionId: string, lastEventId: string): Promise<boolean> {
    return (await callStream(sessionId, lastEventId)) !== undefined;
  }

  /** The stored stream a Last-Event-ID names, when it is one of the session's call streams. */
  async function callStream(sessionId: string, lastEventId: string): Promise<string | undefined> {
    const stored = await eventStore.getStreamIdForEventId?.(lastEventId).catch(() => undefined);
    const own = stored === undefined ? undefined : ownStream(sessionId, stored);
    return own !== undefined && own !== STANDALONE_STREAM ? stored : undefined;
  }

  /**
   * A request that does not keep its session busy: the standalone GET stream, which every SDK
   * client holds open for the session's whole life (counting it, a connected but idle client, or a
   * half-open socket, would hold a session for good), and DELETE. Its start and end still count as seen.
   */
  function touch(session: Session, res: ServerResponse): void {
    session.lastSeen = Date.now();
    res.once("close", () => {
      session.lastSeen = Date.now();
    });
  }

  /**
   * A client resuming here a stream another replica is writing: the shared store vouches for the
   * session and its owner, then replays and follows the stream until its response has been sent.
   * When the writing replica's lease on a call stream lapses first (it died), the call is answered
   * with an error rather than left to the client's timeout.
   */
  async function resumeFromSharedStore(
    req: IncomingMessage,
    res: ServerResponse,
    store: SharedEventStore,
    sessionId: string,
    owner: string | undefined,
    lastEventId: string,
  ): Promise<void> {
    const sessionOwner = await store.sessionOwner(sessionId).catch(() => undefined);
    if (sessionOwner === undefined || sessionOwner !== (owner ?? "")) {
      return rpcError(res, 404, -32001, "Session not found; initialize a new session");
    }
    const stored = await store.getStreamIdForEventId?.(lastEventId).catch(() => undefined);
    // Only this session's streams: an event id of another session's stream is unknown here.
    const streamId = stored === undefined ? undefined : ownStream(sessionId, stored);
    if (!streamId) return rpcError(res, 404, -32001, "unknown Last-Event-ID; the stream has expired");
    const gone = new AbortController();
    const stop = new AbortController();
    res.once("close", () => {
      gone.abort();
      stop.abort();
    });
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    rt.logger.info({ session: sessionId }, "resuming a stream written by another replica");
    // A POST's stream ends with its response; the standalone GET stream runs until the client leaves.
    const endsWithResponse = streamId !== STANDALONE_STREAM;
    let cursor = lastEventId;
    let complete = false;
    const answered = new Set<string | number>();
    const send = async (eventId: string, message: JSONRPCMessage): Promise<boolean> => {
      if (complete) return true;
      if (!res.write(`event: message\nid: ${eventId}\ndata: ${JSON.stringify(message)}\n\n`)) {
        await new Promise((resolve) => res.once("drain", resolve));
      }
      cursor = eventId;
      const id = responseId(message);
      if (id !== undefined) answered.add(id);
      complete = endsWithResponse && id !== undefined;
      return complete;
    };
    const lease: LeaseWatch | undefined =
      endsWithResponse && leases ? leases.watch(stored!, () => stop.abort()) : undefined;
    try {
      await store.follow(lastEventId, send, stop.signal);
    } catch (err) {
      logStoreError(err);
    } finally {
      lease?.stop();
    }
    const lapsed = lease?.lapsed;
    if (lapsed && !complete && !gone.signal.aborted) {
      // What was stored before the lease lapsed (the response itself, just in time) goes first.
      await store
        .replayEventsAfter(cursor, { send: async (eventId, message) => void (await send(eventId, message)) })
        .catch(logStoreError);
      const unanswered = lapsed.filter((id) => !answered.has(id));
      if (!complete && unanswered.length) {
        rt.logger.warn(
          { session: sessionId, requests: unanswered },
          "the replica running a resumed call stopped before answering it; answering the call with an error",
        );
        for (const id of unanswered)
          res.write(`event: message\ndata: ${JSON.stringify(lapsedCallError(id))}\n\n`);
      }
    }
    res.end();
  }

  function logStoreError(err: unknown): void {
    rt.logger.warn({ err }, "shared event store failed");
  }

  // At most half the idle time apart, so a busy session's shared record is touched before it expires.
  const sweepEveryMs = Math.max(250, Math.min(idleMs / 2, 60_000));
  let lastSweep = Date.now();
  const sweeper = setInterval(() => {
    const now = Date.now();
    const late = now - lastSweep > 2 * sweepEveryMs;
    lastSweep = now;
    for (const [sid, s] of sessions) {
      if (s.inFlight > 0) {
        // Busy, not idle: its shared record must not expire under the call either.
        everywhere?.keepAlive(sid);
        continue;
      }
      // A late tick means the event loop was stalled: requests may be waiting unread in the sockets,
      // and timers run before them. Closing now would answer those with "Session not found".
      if (!late && s.lastSeen < now - idleMs) {
        rt.logger.info({ session: sid }, "closing idle session");
        void s.transport.close();
      }
    }
  }, sweepEveryMs);
  sweeper.unref();

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
      return sessions.size;
    },
    async close(deadlineMs = 10_000) {
      if (closing) return;
      closing = true;
      rt.beginShutdown();
      clearInterval(sweeper);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + deadlineMs;
      await rt.drain(deadlineMs);
      while (openPosts > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
      leases?.close();
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
  if (path === "/healthz" || path === "/readyz") return "probe";
  return path.startsWith("/.well-known/") ? "well_known" : "other";
}

function refuseAdoption(res: ServerResponse, refused: AdoptionRefused, id: string | number | null): void {
  res.setHeader("retry-after", String(refused.retryAfterSeconds));
  rpcError(res, refused.status, -32000, refused.message, id);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** `id` is the request's when the body was read and held one request; null only when it is unknowable. */
function rpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: string | number | null = null,
): void {
  json(res, status, { jsonrpc: "2.0", error: { code, message }, id });
}

/** The id of a POST body that is one JSON-RPC request, else null (a batch, a notification, junk). */
function requestIdOf(body: unknown): string | number | null {
  const ids = Array.isArray(body) ? [] : requestIds(body);
  return ids[0] ?? null;
}

/** The ids of the JSON-RPC requests in a POST body (a message or a batch). */
function requestIds(body: unknown): (string | number)[] {
  const messages = Array.isArray(body) ? (body as unknown[]) : [body];
  const ids: (string | number)[] = [];
  for (const m of messages) {
    const msg = m as { id?: unknown; method?: unknown } | null;
    if (msg && typeof msg.method === "string" && (typeof msg.id === "string" || typeof msg.id === "number")) {
      ids.push(msg.id);
    }
  }
  return ids;
}
