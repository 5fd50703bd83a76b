import type { Logger } from "@toolshed/logging";

/** What the sweep reads of a 2025 session held on this replica. */
export interface SweptSession {
  /** When a request on it last started or ended. */
  lastSeen: number;
  /** Requests on it still open; a busy session is never idle. */
  inFlight: number;
  transport: { close(): Promise<void> };
}

export interface IdleSweepOptions {
  /** A session with no request for this long is closed. */
  idleMs: number;
  logger: Logger;
  /** Keeps a busy session's shared record alive (with a shared store; see shared-sessions.ts). */
  keepAlive?: (sessionId: string) => void;
}

/** Ticks at most half the idle time apart, so a busy session's shared record is touched before it expires. */
export function sweepInterval(idleMs: number): number {
  return Math.max(250, Math.min(idleMs / 2, 60_000));
}

/**
 * Closes the sessions of `sessions` that have been idle for `idleMs`, on a timer that does not keep
 * the process alive; returns the function that stops it (shutdown begins). A session with requests
 * in flight is busy, not idle, however long its call takes.
 */
export function sweepIdleSessions(
  sessions: ReadonlyMap<string, SweptSession>,
  o: IdleSweepOptions,
): () => void {
  const every = sweepInterval(o.idleMs);
  let lastSweep = Date.now();
  const sweeper = setInterval(() => {
    const now = Date.now();
    const late = now - lastSweep > 2 * every;
    lastSweep = now;
    for (const [sid, s] of sessions) {
      if (s.inFlight > 0) {
        // Busy, not idle: its shared record must not expire under the call either.
        o.keepAlive?.(sid);
        continue;
      }
      // A late tick means the event loop was stalled: requests may be waiting unread in the sockets,
      // and timers run before them. Closing now would answer those with "Session not found".
      if (!late && s.lastSeen < now - o.idleMs) {
        o.logger.info({ session: sid }, "closing idle session");
        void s.transport.close();
      }
    }
  }, every);
  sweeper.unref();
  return () => clearInterval(sweeper);
}
