import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** The longest delay a marker may ask for. */
const MAX_DELAY_MS = 30_000;

/**
 * Makes a loopback upstream slow on request: a request whose URL (path or query) carries
 * `slow-<ms>`, e.g. `/search?query=slow-1500` or `/repos/o/slow-1500/issues/3`, waits that many
 * milliseconds (at most 30 s) before the server's own handler answers it. Everything else is
 * untouched. For the fault suites' `slowCall`: a real call through the real server that takes about
 * `ms` and then succeeds.
 */
export function delayMarkedRequests(server: Server): void {
  const handlers = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const answer = () => {
      for (const handler of handlers) handler.call(server, req, res);
    };
    const ms = Math.min(Number(/slow-(\d{1,6})/.exec(req.url ?? "")?.[1] ?? 0), MAX_DELAY_MS);
    if (ms > 0) setTimeout(answer, ms);
    else answer();
  });
}
