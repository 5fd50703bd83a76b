import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { sessionStreamPrefix } from "./session-events.js";

/**
 * Where a resumable Streamable HTTP stream keeps its events so a client that lost its connection can
 * replay what it missed (`Last-Event-ID`). The shape is the SDK's; a Redis store implements the same
 * interface so that replicas share streams.
 */
export interface EventStore {
  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string>;
  getStreamIdForEventId?(eventId: string): Promise<string | undefined>;
  replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string>;
  /** Drops what the store keeps for a closed session (its streams, its owner record). */
  forgetSession?(sessionId: string): Promise<void>;
}

/**
 * A store shared by replicas (Redis) can also vouch for sessions opened elsewhere and follow a
 * stream another replica is still writing, so a client can resume on any replica.
 */
export interface SharedEventStore extends EventStore {
  /** Resolves to a reason when the store cannot be used now (for /readyz). */
  check(): Promise<string | undefined>;
  /** Records that `sessionId` exists and who owns it ("" when there is no auth). */
  registerSession(sessionId: string, owner: string): Promise<void>;
  forgetSession(sessionId: string): Promise<void>;
  /** The owner of a session opened on any replica, or undefined when no replica has it. */
  sessionOwner(sessionId: string): Promise<string | undefined>;
  /** Keeps what a replica needs to rebuild a 2025 session (JSON), expiring after `ttlMs` unused. */
  saveSessionRecord(sessionId: string, record: string, ttlMs: number): Promise<void>;
  /** The record saved for a session, or undefined when it was deleted or expired. */
  sessionRecord(sessionId: string): Promise<string | undefined>;
  /** Pushes the record's expiry `ttlMs` out; false when there is no record any more. */
  touchSessionRecord(sessionId: string, ttlMs: number): Promise<boolean>;
  /**
   * Sends every event after `lastEventId`, then new ones as they are stored, until `send` returns
   * true (the stream is complete) or `signal` aborts.
   */
  follow(
    lastEventId: string,
    send: (eventId: string, message: JSONRPCMessage) => Promise<boolean>,
    signal: AbortSignal,
  ): Promise<void>;
  /**
   * Call-stream leases (optional; without them a follower waits for a response however long it
   * takes). The replica running the call writes one when the stream opens, naming its request ids:
   * renewed for `ttlMs` at a time while the call runs, ended once it is answered.
   */
  leaseStream?(streamId: string, requestIds: readonly (string | number)[], ttlMs: number): Promise<void>;
  renewStreamLeases?(streamIds: readonly string[], ttlMs: number): Promise<void>;
  endStreamLease?(streamId: string): Promise<void>;
  /** The stream's lease: undefined when there is none (never written, or ended); `alive` false once it lapsed. */
  streamLease?(streamId: string): Promise<{ requestIds: (string | number)[]; alive: boolean } | undefined>;
}

export function isSharedEventStore(store: EventStore): store is SharedEventStore {
  return typeof (store as Partial<SharedEventStore>).follow === "function";
}

export interface MemoryEventStoreOptions {
  /** Events kept per stream; older ones are dropped first. Default 1000. */
  maxEventsPerStream?: number;
  /** Streams kept; the least recently written is dropped first. Default 10,000. */
  maxStreams?: number;
  /** Bytes of messages (as JSON) kept in all; the oldest events of the least recently written stream go first. Default 64 MiB. */
  maxBytes?: number;
}

interface Stream {
  next: number;
  events: { seq: number; message: JSONRPCMessage; bytes: number }[];
  bytes: number;
}

export const DEFAULT_EVENT_STORE_MAX_BYTES = 64 * 1024 * 1024;

/** A bounded in-memory event store: resumption within one process, memory that cannot grow without limit. */
export class MemoryEventStore implements EventStore {
  readonly #streams = new Map<string, Stream>();
  readonly #maxEvents: number;
  readonly #maxStreams: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#maxEvents = options.maxEventsPerStream ?? 1000;
    this.#maxStreams = options.maxStreams ?? 10_000;
    this.#maxBytes = options.maxBytes ?? DEFAULT_EVENT_STORE_MAX_BYTES;
  }

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    let stream = this.#streams.get(streamId);
    if (stream) {
      // Re-insert so Map order is least-recently-written first.
      this.#streams.delete(streamId);
    } else {
      stream = { next: 1, events: [], bytes: 0 };
      if (this.#streams.size >= this.#maxStreams) {
        const oldest = this.#streams.keys().next().value;
        if (oldest !== undefined) this.#drop(oldest);
      }
    }
    this.#streams.set(streamId, stream);
    const seq = stream.next++;
    const bytes = JSON.stringify(message).length * 2; // UTF-16 in memory: a fair upper bound
    stream.events.push({ seq, message, bytes });
    stream.bytes += bytes;
    this.#bytes += bytes;
    if (stream.events.length > this.#maxEvents) this.#shift(stream);
    this.#trimToBytes(streamId);
    return Promise.resolve(eventId(streamId, seq));
  }

  /** Drops every stream of a closed session. */
  forgetSession(sessionId: string): Promise<void> {
    const prefix = sessionStreamPrefix(sessionId);
    for (const id of [...this.#streams.keys()]) if (id.startsWith(prefix)) this.#drop(id);
    return Promise.resolve();
  }

  /** Bytes held (for tests and metrics). */
  get bytes(): number {
    return this.#bytes;
  }

  #shift(stream: Stream): void {
    const gone = stream.events.shift();
    if (gone) {
      stream.bytes -= gone.bytes;
      this.#bytes -= gone.bytes;
    }
  }

  #drop(streamId: string): void {
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    this.#bytes -= stream.bytes;
    this.#streams.delete(streamId);
  }

  /** Over the byte cap: oldest events of the least recently written streams go first; the newest event stays. */
  #trimToBytes(newest: string): void {
    for (const [id, stream] of this.#streams) {
      if (this.#bytes <= this.#maxBytes) return;
      if (id === newest) {
        while (this.#bytes > this.#maxBytes && stream.events.length > 1) this.#shift(stream);
        return;
      }
      // An emptied stream keeps its counter, so its event ids are never handed out twice.
      while (this.#bytes > this.#maxBytes && stream.events.length) this.#shift(stream);
    }
  }

  getStreamIdForEventId(id: string): Promise<string | undefined> {
    const parsed = parseEventId(id);
    return Promise.resolve(parsed && this.#streams.has(parsed.streamId) ? parsed.streamId : undefined);
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const parsed = parseEventId(lastEventId);
    const stream = parsed && this.#streams.get(parsed.streamId);
    if (!parsed || !stream) throw new Error(`unknown event id '${lastEventId}'`);
    for (const event of stream.events) {
      if (event.seq > parsed.seq) await send(eventId(parsed.streamId, event.seq), event.message);
    }
    return parsed.streamId;
  }

  /** Number of streams held (for tests and metrics). */
  get size(): number {
    return this.#streams.size;
  }
}

// Stream ids may contain "_" (the SDK's standalone GET stream is "_GET_stream"), so split on the last one.
function eventId(streamId: string, seq: number): string {
  return `${streamId}_${seq}`;
}

function parseEventId(id: string): { streamId: string; seq: number } | undefined {
  const cut = id.lastIndexOf("_");
  if (cut <= 0) return undefined;
  const seq = Number(id.slice(cut + 1));
  return Number.isSafeInteger(seq) ? { streamId: id.slice(0, cut), seq } : undefined;
}
