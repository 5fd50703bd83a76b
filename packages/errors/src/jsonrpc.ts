import type { ErrorCode } from "./codes.js";
import { toToolshedError } from "./toolshed-error.js";

/** JSON-RPC error codes: the standard ones, MCP's resource-not-found, and server-defined ones. */
export const JSONRPC_ERROR_CODES: Readonly<Record<ErrorCode, number>> = {
  invalid_input: -32602,
  not_found: -32002,
  unauthenticated: -32001,
  forbidden: -32003,
  rate_limited: -32029,
  conflict: -32009,
  timeout: -32008,
  upstream_error: -32050,
  upstream_unavailable: -32053,
  internal: -32603,
};

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data: { type: ErrorCode; retryable: boolean; retryAfterMs?: number; details?: Record<string, unknown> };
}

/** The JSON-RPC `error` member for any thrown value (unknown errors hide their internals). */
export function toJsonRpcError(value: unknown): JsonRpcErrorObject {
  const err = toToolshedError(value);
  const { code, message, ...data } = err.toJSON();
  return { code: JSONRPC_ERROR_CODES[code], message, data: { type: code, ...data } };
}
