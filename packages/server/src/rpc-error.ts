import { toJsonRpcError } from "@toolshed/errors";

/**
 * An error the SDK's protocol layer turns into a JSON-RPC error as is (it reads `code`, `message` and
 * `data`). Unlike the SDK's McpError it does not prefix the message with "MCP error <code>:".
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }

  /** Any thrown value as a JSON-RPC error; unknown errors hide their internals. */
  static from(value: unknown): RpcError {
    if (value instanceof RpcError) return value;
    const { code, message, data } = toJsonRpcError(value);
    return new RpcError(code, message, data);
  }
}
