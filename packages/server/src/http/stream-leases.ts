import { AsyncLocalStorage } from "node:async_hooks";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import type { Logger } from "@toolshed/logging";
import type { EventStore, SharedEventStore } from "./event-store.js";
import { sessionStreamPrefix } from "./session-events.js";

type RequestId = string | number;

/** The lease methods of a shared store that has them (RedisEventStore does). */
export type LeasingStore = Required<
  Pick<SharedEventStore, "leaseStream" | "renewStreamLeases" | "endStreamLease" | "streamLease">
>;

export function isLeasingStore(store: SharedEventStore): store is SharedEventStore & LeasingStore {
  return (
    typeof store.leaseStream === "function" &&
    typeof store.renewStreamLeases === "function" &&
    typeof store.endStreamLease === "function" &&
    typeof store.streamLease === "function"
  );
}

export const DEFAULT_STREAM_LEASE_MS = 5_000;

/** The SDK's name for a session's standalone GET stream: it carries no call, so it is never leased. */
const STANDALONE_STREAM = "_GET_stream";

/** The POST whose handling is running: its session, and the request ids its streams are leased with. */
const posting = new AsyncLocalStorage<{ sessionId: string; ids: readonly RequestId[] }>();

interface Held {
  sessionId: string;
  unanswered: Set<RequestId>;
  since: number;
}

/** What a follower learns when the lease of the stream it follows lapsed: the calls left unanswered. */
export interface LeaseWatch {
  /** Set once the lease lapsed: the request ids the stream was opened for. */
  readonly lapsed: readonly RequestId[] | undefined;
  stop(): void;
}

/**
 * Liveness of 2025 call streams across replicas. The replica running a call stream holds a lease on
 * it in the shared store, renewed while the call is in flight here; a replica following that stream
 * for a resuming client (shared-resume.ts) sees the lease lapse when the running replica died, and answers the
 * call with an error instead of waiting for a response that will never be stored.
 */
export class StreamLeases {
  readonly leaseMs: number;
  readonly #store: LeasingStore;
  readonly #running: (sessionId: string, id: RequestId) => boolean;
  readonly #logger: Logger;
  readonly #held = new Map<string, Held>();
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;
  #renewing = false;

  constructor(
    store: LeasingStore,
    leaseMs: number,
    running: (sessionId: string, id: RequestId) => boolean,
    logger: Logger,
  ) {
    this.#store = store;
    this.leaseMs = leaseMs;
    this.#running = running;
    this.#logger = logger;
    this.#everyMs = Math.max(25, Math.floor(leaseMs / 4));
  }

  /** Runs `fn` (a POST's handling in `sessionId`) so that the call streams it opens are leased for `ids`. */
  whilePosting<T>(sessionId: string, ids: readonly RequestId[], fn: () => T): T {
    return ids.length ? posting.run({ sessionId, ids }, fn) : fn();
  }

  /** A session's event store that leases each call stream from its first event to its response. */
  wrap(view: EventStore, sessionId: string): EventStore {
    return {
      ...view,
      storeEvent: async (streamId, message) => {
        const stored = sessionStreamPrefix(sessionId) + streamId;
        const post = posting.getStore();
        const ids = post?.sessionId === sessionId ? post.ids : undefined;
        const response = responseId(message);
        let leased: Promise<void> | undefined;
        if (ids && streamId !== STANDALONE_STREAM && response === undefined && !this.#held.has(stored)) {
          this.#held.set(stored, { sessionId, unanswered: new Set(ids), since: Date.now() });
          // Outside the POST's context: the timer outlives it.
          this.#timer ??= posting.exit(() => setInterval(() => void this.#renew(), this.#everyMs).unref());
          // Awaited beside the event: a client never holds an id of a stream without a lease.
          leased = this.#store
            .leaseStream(stored, ids, this.leaseMs)
            .catch((err: unknown) => this.#failed(err));
        }
        const [eventId] = await Promise.all([view.storeEvent(streamId, message), leased]);
        if (response !== undefined) this.#answered(stored, response);
        return eventId;
      },
    };
  }

  /** Whether this replica is writing the call stream `storedStreamId` (its call is still running here). */
  writes(storedStreamId: string): boolean {
    return this.#held.has(storedStreamId);
  }

  /** Stops renewing (the leases held lapse on their own, so followers learn this replica stopped). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#held.clear();
  }

  /**
   * Watches the lease of `storedStreamId` for a follower; `onLapse` runs once if it lapses. A stream
   * with no lease (written by a replica without leases, or already answered) is never reported.
   */
  watch(storedStreamId: string, onLapse: () => void): LeaseWatch {
    let lapsed: readonly RequestId[] | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const check = async () => {
      const lease = await this.#store.streamLease(storedStreamId).catch(() => undefined);
      if (stopped) return;
      if (lease && !lease.alive) {
        lapsed = lease.requestIds;
        onLapse();
        return;
      }
      timer = setTimeout(() => void check(), this.#everyMs);
      timer.unref();
    };
    posting.exit(() => void check());
    return {
      get lapsed() {
        return lapsed;
      },
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  #answered(stored: string, id: RequestId): void {
    const held = this.#held.get(stored);
    if (!held) return;
    held.unanswered.delete(id);
    if (held.unanswered.size > 0) return;
    this.#held.delete(stored);
    // After the response is stored: a follower that finds no lease keeps reading and gets it.
    void this.#store.endStreamLease(stored).catch((err: unknown) => this.#failed(err));
  }

  async #renew(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      const now = Date.now();
      const renew: string[] = [];
      for (const [stored, held] of this.#held) {
        // No longer running here (cancelled, or its session closed): the lease is left to lapse.
        // A stream just opened has not reached its handler yet, so it gets one round first.
        const running = [...held.unanswered].some((id) => this.#running(held.sessionId, id));
        if (!running && held.since < now - this.#everyMs) this.#held.delete(stored);
        else renew.push(stored);
      }
      if (renew.length) await this.#store.renewStreamLeases(renew, this.leaseMs);
      if (this.#held.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    } catch (err) {
      this.#failed(err);
    } finally {
      this.#renewing = false;
    }
  }

  #failed(err: unknown): void {
    this.#logger.warn({ err }, "could not write a call stream's lease; retrying at the next renewal");
  }
}

/** The error a follower sends for a call whose replica stopped before answering it. */
export function lapsedCallError(id: RequestId): JSONRPCMessage {
  return {
    jsonrpc: "2.0",
    id,
    error: {
      code: -32603,
      message:
        "the server instance running this call stopped before answering it; the call may or may not have taken effect: call again if that is safe",
    },
  };
}

/** The id of a JSON-RPC response (result or error), else undefined. */
export function responseId(message: JSONRPCMessage): RequestId | undefined {
  const m = message as { id?: unknown; result?: unknown; error?: unknown };
  if (!("result" in m) && !("error" in m)) return undefined;
  return typeof m.id === "string" || typeof m.id === "number" ? m.id : undefined;
}
