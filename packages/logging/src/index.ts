export { createLogger, LOG_LEVELS, isLogLevel } from "./create-logger.js";
export type { Logger, LogLevel, CreateLoggerOptions } from "./create-logger.js";
export { REDACTED, SECRET_KEYS, redactKeys, scrubSecrets } from "./redact.js";
export { createMcpLogBridge, toMcpLevel, MCP_LOG_LEVELS } from "./mcp-bridge.js";
export type { McpLogLevel, McpLogSink, ToolLogFn, ToolLogger } from "./mcp-bridge.js";
