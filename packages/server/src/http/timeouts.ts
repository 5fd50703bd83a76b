import type { IncomingMessage, Server, ServerResponse } from "node:http";

export interface HttpTimeouts {
  /** Longest wait for a request's headers. Default 10 s. */
  headersMs: number;
  /** Longest wait for a request's body once its headers are in. Default 30 s. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, bodyMs: 30_000 };

/** How often node:http looks for requests past their deadline (its default is 30 s). */
export const CONNECTIONS_CHECK_MS = 1_000;

/**
 * Slowloris defence at the socket: headers must arrive within `headersMs`, the whole request within
 * headers + body. node:http counts only the request, so SSE responses may stay open.
 */
export function applyServerTimeouts(server: Server, timeouts: HttpTimeouts): void {
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.headersMs + timeouts.bodyMs;
}

/**
 * For answers given before the body is read (auth refusals, rate limits): `Connection: close`, and
 * the socket is destroyed once the answer is out, so a client trickling a body holds nothing.
 */
export function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader("connection", "close");
  res.once("finish", () => req.socket.destroy());
}
