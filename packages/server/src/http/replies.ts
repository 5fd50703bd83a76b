import type { ServerResponse } from "node:http";

/** A JSON answer: probes, routing errors and every JSON-RPC error the HTTP layer writes itself. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** `id` is the request's when the body was read and held one request; null only when it is unknowable. */
export function rpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: string | number | null = null,
): void {
  json(res, status, { jsonrpc: "2.0", error: { code, message }, id });
}
