import type { EventStore } from "./event-store.js";

/** The SDK's name for a session's standalone GET stream. */
export const STANDALONE_STREAM = "_GET_stream";

/**
 * Stream ids in a shared store are prefixed with the session that owns them: the SDK names every
 * session's standalone GET stream `_GET_stream`, so without the prefix one session could replay
 * another's notifications with `Last-Event-ID: _GET_stream_0`.
 */
export function sessionStreamPrefix(sessionId: string): string {
  return `${sessionId}.`;
}

/** The session a stored stream id belongs to, or undefined for a stream stored without one. */
export function sessionOfStream(storedStreamId: string): string | undefined {
  const cut = storedStreamId.indexOf(".");
  return cut > 0 ? storedStreamId.slice(0, cut) : undefined;
}

/** The session's own name for a stored stream id, or undefined when the stream is another session's. */
export function ownStream(sessionId: string, storedStreamId: string): string | undefined {
  const prefix = sessionStreamPrefix(sessionId);
  return storedStreamId.startsWith(prefix) ? storedStreamId.slice(prefix.length) : undefined;
}

/** The view of `store` one session's transport gets: it stores and replays only that session's streams. */
export function sessionEventStore(store: EventStore, sessionId: string): EventStore {
  const prefix = sessionStreamPrefix(sessionId);
  const unknown = (id: string) => new Error(`unknown event id '${id.slice(0, 200)}'`);
  return {
    storeEvent: (streamId, message) => store.storeEvent(prefix + streamId, message),
    async getStreamIdForEventId(eventId) {
      if (!eventId.startsWith(prefix)) return undefined;
      const stored = await store.getStreamIdForEventId?.(eventId);
      return stored === undefined ? undefined : ownStream(sessionId, stored);
    },
    async replayEventsAfter(lastEventId, handlers) {
      if (!lastEventId.startsWith(prefix)) throw unknown(lastEventId);
      const stored = await store.replayEventsAfter(lastEventId, handlers);
      const own = ownStream(sessionId, stored);
      if (own === undefined) throw unknown(lastEventId);
      return own;
    },
  };
}
