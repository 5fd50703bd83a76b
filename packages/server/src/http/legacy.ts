import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { NodeStreamableHTTPServerTransport as StreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { isInitializeRequest } from "@modelcontextprotocol/server";
import { connect, type Connection } from "../connection.js";
import type { Runtime } from "../runtime.js";
import type { EventStore, SharedEventStore } from "./event-store.js";
import { sweepIdleSessions } from "./idle-sweep.js";
import { json, rpcError } from "./replies.js";
import { STANDALONE_STREAM, ownStream, sessionEventStore } from "./session-events.js";
import type { SessionLimits } from "./session-limits.js";
import { resumeFromSharedStore } from "./shared-resume.js";
import { SharedSessions, type AdoptionRefused, type LocalSession } from "./shared-sessions.js";
import { DEFAULT_STREAM_LEASE_MS, StreamLeases, isLeasingStore } from "./stream-leases.js";

/**
 * The 2025 lanes of /mcp, for every request the 2026-07-28 lane (modern.ts) leaves to them: with
 * `stateless`, a fresh server per POST; otherwise 2025-11-25 sessions (initialize, Mcp-Session-Id,
 * GET streams, DELETE), held here, closed when idle, and with a shared store usable from every
 * replica (shared-sessions.ts) with call streams leased (stream-leases.ts) and resumable anywhere
 * (shared-resume.ts); idle-sweep.ts closes idle ones. app.ts has admitted the request and parsed its body.
 */
export interface LegacyLane {
  /** A POST the modern lane left here; `owner` is the principal's key with auth, else undefined. */
  post(req: IncomingMessage, res: ServerResponse, body: unknown, owner: string | undefined): Promise<void>;
  /** A GET (the standalone stream, or resuming one) or a DELETE. */
  sessionRequest(req: IncomingMessage, res: ServerResponse, owner: string | undefined): Promise<void>;
  /** Number of open sessions. */
  readonly sessions: number;
  /** Stops the idle sweep (shutdown begins). */
  stopSweeping(): void;
  /** Closes every session held here and the stream leases. */
  close(): Promise<void>;
}

export interface LegacyLaneOptions {
  stateless: boolean;
  jsonResponse: boolean;
  maxBodyBytes: number;
  maxSessions: number;
  perPrincipal: SessionLimits;
  idleMs: number;
  eventStore: EventStore;
  /** `eventStore` when it is shared by replicas. */
  shared: SharedEventStore | undefined;
  streamLeaseMs: number | undefined;
}

type Session = LocalSession;

export function createLegacyLane(rt: Runtime, o: LegacyLaneOptions): LegacyLane {
  const { eventStore, shared, idleMs, maxSessions, perPrincipal } = o;
  const sessions = new Map<string, Session>();
  // Renewed 4 times per lease length while a call runs here; no lease writes without a shared store.
  const leases =
    shared && isLeasingStore(shared)
      ? new StreamLeases(
          shared,
          o.streamLeaseMs ?? DEFAULT_STREAM_LEASE_MS,
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
      jsonResponse: o.jsonResponse,
      maxBodyBytes: o.maxBodyBytes,
      ...(leases ? { leases } : {}),
    });

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    owner: string | undefined,
  ): Promise<void> {
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
    if (o.stateless) {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: o.jsonResponse,
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
        maxMessageBytes: o.maxBodyBytes,
        stateless: true,
        jsonResponse: o.jsonResponse,
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
      enableJsonResponse: o.jsonResponse,
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
      maxMessageBytes: o.maxBodyBytes,
      jsonResponse: o.jsonResponse,
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
    if (o.stateless) {
      res.setHeader("allow", "POST");
      return rpcError(res, 405, -32000, "this server is stateless: only POST is supported");
    }
    const id = header(req, "mcp-session-id");
    if (id === undefined) return rpcError(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    const lastEventId = header(req, "last-event-id");
    if (shared && req.method === "GET" && lastEventId) {
      if (!sessions.has(id)) return resumeFromSharedStore(rt, leases, res, shared, id, owner, lastEventId);
      // This replica's copy of the session can replay a call stream another replica is writing, but
      // the SDK's transport then closes it: follow it from the shared store instead.
      const local = sessions.get(id)!;
      if (local.owner === owner && (await writtenElsewhere(id, lastEventId))) {
        track(id, local, res);
        return resumeFromSharedStore(rt, leases, res, shared, id, owner, lastEventId);
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

  function logStoreError(err: unknown): void {
    rt.logger.warn({ err }, "shared event store failed");
  }

  const stopSweeping = sweepIdleSessions(sessions, {
    idleMs,
    logger: rt.logger,
    ...(everywhere ? { keepAlive: (sid: string) => everywhere.keepAlive(sid) } : {}),
  });

  return {
    post,
    sessionRequest,
    get sessions() {
      return sessions.size;
    },
    stopSweeping,
    async close() {
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
      leases?.close();
    },
  };
}

function refuseAdoption(res: ServerResponse, refused: AdoptionRefused, id: string | number | null): void {
  res.setHeader("retry-after", String(refused.retryAfterSeconds));
  rpcError(res, refused.status, -32000, refused.message, id);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
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
