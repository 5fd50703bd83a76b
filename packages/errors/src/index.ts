export { ToolshedError, isToolshedError, toToolshedError } from "./toolshed-error.js";
export type { ErrorCode, ToolshedErrorOptions, ToolshedErrorJSON } from "./toolshed-error.js";
export { ERROR_CODES } from "./codes.js";
export { fromHttpStatus } from "./http.js";
export { toJsonRpcError, JSONRPC_ERROR_CODES } from "./jsonrpc.js";
export type { JsonRpcErrorObject } from "./jsonrpc.js";
export { toToolResult } from "./tool-result.js";
export type { ErrorToolResult } from "./tool-result.js";
