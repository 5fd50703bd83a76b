import type { ServerResponse } from "node:http";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import type { Runtime } from "../runtime.js";
import type { SharedEventStore } from "./event-store.js";
import { rpcError } from "./replies.js";
import { STANDALONE_STREAM, ownStream } from "./session-events.js";
import { lapsedCallError, responseId, type LeaseWatch, type StreamLeases } from "./stream-leases.js";

/**
 * A 2025 client resuming here a stream another replica is writing: the shared store vouches for the
 * session and its owner, then replays and follows the stream until its response has been sent.
 * When the writing replica's lease on a call stream lapses first (it died), the call is answered
 * with an error rather than left to the client's timeout.
 */
export async function resumeFromSharedStore(
  rt: Runtime,
  leases: StreamLeases | undefined,
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
  const logStoreError = (err: unknown) => rt.logger.warn({ err }, "shared event store failed");
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
