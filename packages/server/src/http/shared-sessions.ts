import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  WebStandardStreamableHTTPServerTransport,
  isInitializeRequest,
  type AuthInfo,
  type McpServer,
} from "@modelcontextprotocol/server";
import { connect } from "../connection.js";
import type { Runtime } from "../runtime.js";
import type { EventStore, SharedEventStore } from "./event-store.js";
import { sessionEventStore, sessionStreamPrefix } from "./session-events.js";
import type { SessionLimits } from "./session-limits.js";
import type { StreamLeases } from "./stream-leases.js";

/** What legacy.ts needs of a session's transport: the SDK's Node transport, or a rebuilt one. */
export interface SessionTransport {
  handleRequest(
    req: IncomingMessage & { auth?: AuthInfo },
    res: ServerResponse,
    parsedBody?: unknown,
  ): Promise<void>;
  close(): Promise<void>;
}

/** A 2025 session held by this replica (opened here, or rebuilt from its shared record). */
export interface LocalSession {
  transport: SessionTransport;
  mcp: McpServer;
  /** When a request on it last started or ended; the idle sweep measures from here. */
  lastSeen: number;
  /** Requests on it still open (a POST awaiting its answer, a GET resuming a call's stream). */
  inFlight: number;
  /** The principal that opened it; no one else may use it. */
  owner: string | undefined;
  /** Whether a request id is still being answered in this session. */
  isPending(id: string | number): boolean;
}

/** What every replica needs to rebuild a session: who owns it and how it was initialized. */
interface SessionRecord {
  owner: string;
  /** The version the client asked for; replaying the same initialize negotiates the same one. */
  protocolVersion: string;
  clientInfo: unknown;
  capabilities: unknown;
  /** The client's initialize request as it was sent, replayed into a fresh transport. */
  initialize: unknown;
}

/** Why a session this replica does not hold cannot be taken up here now (its caps are reached). */
export interface AdoptionRefused {
  status: 429 | 503;
  retryAfterSeconds: number;
  message: string;
}

export interface SharedSessionsOptions {
  store: SharedEventStore;
  sessions: Map<string, LocalSession>;
  idleMs: number;
  maxSessions: number;
  perPrincipal: SessionLimits;
  jsonResponse: boolean;
  maxBodyBytes: number;
  /** Leases on the call streams of rebuilt sessions too (see stream-leases.ts). */
  leases?: StreamLeases;
}

/**
 * 2025 sessions usable from any replica: at initialize the session's record goes to the shared store
 * (expiring when idle); a replica that gets a request for a session it does not hold, from the
 * principal that owns it, rebuilds the session by replaying the stored initialize into a fresh SDK
 * transport that carries the same session id. DELETE on any replica deletes the record; the other
 * replicas drop their copy when they next see the id (every request refreshes the record and finds
 * it gone). Server-to-client requests in flight stay on the replica that sent them.
 */
export class SharedSessions {
  readonly #rt: Runtime;
  readonly #o: SharedSessionsOptions;
  /** Sessions whose record could not be saved: they stay usable here, like before Redis. */
  readonly #localOnly = new Set<string>();
  readonly #adopting = new Map<string, Promise<LocalSession | AdoptionRefused | undefined>>();

  constructor(rt: Runtime, options: SharedSessionsOptions) {
    this.#rt = rt;
    this.#o = options;
    // Copies of sessions deleted on another replica go without waiting for a request to find out,
    // so mcp_sessions_active and the caps count live sessions.
    const prune = setInterval(() => void this.#prune(), Math.min(options.idleMs / 2, 10_000));
    prune.unref();
  }

  /** Saves the record of a session initialized here (awaited before the client learns its id). */
  async record(sessionId: string, owner: string | undefined, initialize: unknown): Promise<void> {
    if (!isInitializeRequest(initialize)) return;
    const { params } = initialize;
    const record: SessionRecord = {
      owner: owner ?? "",
      protocolVersion: params.protocolVersion,
      clientInfo: params.clientInfo,
      capabilities: params.capabilities,
      initialize,
    };
    try {
      await this.#o.store.saveSessionRecord(sessionId, JSON.stringify(record), this.#o.idleMs);
    } catch (err) {
      this.#localOnly.add(sessionId);
      this.#rt.logger.warn(
        { err, session: sessionId },
        "shared store failed; the session stays on this replica",
      );
    }
  }

  /**
   * The session `sessionId` for `owner`: this replica's copy while the shared record lives, else a
   * copy rebuilt from the record; undefined when there is none or another principal owns it.
   */
  async find(
    sessionId: string,
    owner: string | undefined,
  ): Promise<LocalSession | AdoptionRefused | undefined> {
    const local = this.#o.sessions.get(sessionId);
    if (local) {
      if (local.owner !== owner) return undefined;
      if (!(await this.#stillOpen(sessionId))) {
        // Deleted on another replica (or expired there): this copy goes too.
        void local.transport.close();
        return undefined;
      }
      return local;
    }
    let pending = this.#adopting.get(sessionId);
    if (!pending) {
      pending = this.#adopt(sessionId, owner).finally(() => this.#adopting.delete(sessionId));
      this.#adopting.set(sessionId, pending);
    }
    const found = await pending;
    // Two concurrent requests for one id: only the owner's may use what the first one rebuilt.
    return found && "transport" in found && found.owner !== owner ? undefined : found;
  }

  /** DELETE ended the session: its record and streams go, for every replica. */
  async end(sessionId: string): Promise<void> {
    this.#localOnly.delete(sessionId);
    await this.#o.store.forgetSession(sessionId).catch((err: unknown) => this.#storeFailed(err));
  }

  /** Keeps the shared record of a session busy here from expiring while its requests run. */
  keepAlive(sessionId: string): void {
    void this.#stillOpen(sessionId);
  }

  /** A local copy closed (idle, shutdown): only this replica's part goes. */
  closed(sessionId: string): void {
    this.#localOnly.delete(sessionId);
  }

  async #prune(): Promise<void> {
    for (const [sessionId, session] of this.#o.sessions) {
      if (this.#localOnly.has(sessionId) || session.inFlight > 0) continue;
      const record = await this.#o.store.sessionRecord(sessionId).catch(() => "unknown: the store failed");
      if (record === undefined) void session.transport.close();
    }
  }

  async #stillOpen(sessionId: string): Promise<boolean> {
    if (this.#localOnly.has(sessionId)) return true;
    try {
      return await this.#o.store.touchSessionRecord(sessionId, this.#o.idleMs);
    } catch (err) {
      // The store is down: keep serving the copy held here rather than fail every session.
      this.#storeFailed(err);
      return true;
    }
  }

  async #adopt(
    sessionId: string,
    owner: string | undefined,
  ): Promise<LocalSession | AdoptionRefused | undefined> {
    const raw = await this.#o.store.sessionRecord(sessionId).catch((err: unknown) => {
      this.#storeFailed(err);
      return undefined;
    });
    const record = raw === undefined ? undefined : parseRecord(raw);
    // Another principal's session answers as if it did not exist: never rebuilt for them.
    if (!record || record.owner !== (owner ?? "")) return undefined;
    const { sessions, maxSessions, perPrincipal } = this.#o;
    if (sessions.size >= maxSessions) {
      return {
        status: 503,
        retryAfterSeconds: 5,
        message: `too many open sessions (${maxSessions}); retry later or close idle sessions`,
      };
    }
    const release = owner === undefined ? () => {} : perPrincipal.reserve(owner);
    if (!release) return { status: 429, retryAfterSeconds: 30, message: perPrincipal.message() };
    try {
      return await this.#rebuild(sessionId, record, owner, release);
    } catch (err) {
      release();
      this.#rt.logger.warn({ err, session: sessionId }, "could not rebuild a session from its shared record");
      return undefined;
    }
  }

  async #rebuild(
    sessionId: string,
    record: SessionRecord,
    owner: string | undefined,
    release: () => void,
  ): Promise<LocalSession> {
    const rt = this.#rt;
    // The replayed answers are discarded, so they are not stored for resumption either.
    let replaying = true;
    const own = sessionEventStore(this.#o.store, sessionId);
    const view = this.#o.leases ? this.#o.leases.wrap(own, sessionId) : own;
    const eventStore: EventStore = {
      ...view,
      storeEvent: (streamId, message) =>
        replaying
          ? Promise.resolve(`${sessionStreamPrefix(sessionId)}replayed_0`)
          : view.storeEvent(streamId, message),
    };
    const web = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      enableJsonResponse: this.#o.jsonResponse,
      eventStore,
      onsessionclosed: (sid) => this.end(sid),
    });
    const { mcp, isPending } = await connect(rt, web, {
      network: "tcp",
      maxMessageBytes: this.#o.maxBodyBytes,
      jsonResponse: this.#o.jsonResponse,
      // Replay the handshake: the server learns the client's capabilities and info, the transport
      // its session id and initialized state, exactly as on the replica that opened it. Before the
      // instrumentation, so the replayed requests are not counted as this replica's.
      beforeInstrument: async () => {
        const init = await web.handleRequest(replayed(record.initialize));
        await init.text();
        const ack = await web.handleRequest(
          replayed({ jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": sessionId }),
        );
        await ack.text();
        if (init.status !== 200 || ack.status !== 202) {
          await web.close();
          throw new Error(`replaying the handshake answered ${init.status} and ${ack.status}`);
        }
        replaying = false;
      },
    });
    const node = toNodeHandler(
      { fetch: (request, options) => web.handleRequest(request, options) },
      { maxRequestBodySize: this.#o.maxBodyBytes },
    );
    const session: LocalSession = {
      transport: { handleRequest: (req, res, body) => node(req, res, body), close: () => web.close() },
      mcp,
      lastSeen: Date.now(),
      inFlight: 0,
      owner,
      isPending,
    };
    const onclose = web.onclose;
    web.onclose = () => {
      onclose?.();
      release();
      this.closed(sessionId);
      if (this.#o.sessions.get(sessionId) === session) {
        this.#o.sessions.delete(sessionId);
        rt.metrics.sessionsActive.dec();
      }
    };
    this.#o.sessions.set(sessionId, session);
    rt.metrics.sessionsActive.inc();
    rt.logger.info({ session: sessionId }, "took up a session opened on another replica");
    return session;
  }

  #storeFailed(err: unknown): void {
    this.#rt.logger.warn({ err }, "shared event store failed");
  }
}

function replayed(message: unknown, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/mcp", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify(message),
  });
}

function parseRecord(raw: string): SessionRecord | undefined {
  try {
    const r = JSON.parse(raw) as Partial<SessionRecord>;
    return typeof r.owner === "string" && isInitializeRequest(r.initialize)
      ? (r as SessionRecord)
      : undefined;
  } catch {
    return undefined;
  }
}
