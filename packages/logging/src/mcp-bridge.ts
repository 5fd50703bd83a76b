import type { Logger } from "./create-logger.js";

/** RFC 5424 levels, as MCP's `logging/setLevel` and `notifications/message` use them. */
export const MCP_LOG_LEVELS = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
] as const;
export type McpLogLevel = (typeof MCP_LOG_LEVELS)[number];

const SEVERITY = new Map<string, number>(MCP_LOG_LEVELS.map((l, i) => [l, i]));

/** pino level name -> MCP level. */
export function toMcpLevel(level: "trace" | "debug" | "info" | "warn" | "error" | "fatal"): McpLogLevel {
  switch (level) {
    case "trace":
    case "debug":
      return "debug";
    case "info":
      return "info";
    case "warn":
      return "warning";
    case "error":
      return "error";
    case "fatal":
      return "critical";
  }
}

export interface McpLogSink {
  /** The level the client asked for with `logging/setLevel`, or undefined when it asked for none. */
  level(): McpLogLevel | undefined;
  /** Sends one `notifications/message`; failures are the sink's to swallow. */
  send(params: { level: McpLogLevel; logger: string; data: unknown }): void;
}

/** The logger a handler gets: server log (stderr) and, when the client asked for it, the MCP client. */
export interface ToolLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Bridges a handler's log calls to the server log and to MCP `notifications/message`. Lines reach the
 * client only at or above the level it set with `logging/setLevel` (`warning` when it set none), so a
 * client that did not ask is not flooded.
 */
export function createMcpLogBridge(logger: Logger, sink: McpLogSink, loggerName: string): ToolLogger {
  const emit = (pinoLevel: "debug" | "info" | "warn" | "error", message: string, fields?: object) => {
    if (fields) logger[pinoLevel](fields, message);
    else logger[pinoLevel](message);
    const level = toMcpLevel(pinoLevel);
    const wanted = SEVERITY.get(sink.level() ?? "warning") ?? 0;
    if ((SEVERITY.get(level) ?? 0) >= wanted) {
      sink.send({ level, logger: loggerName, data: fields ? { message, ...fields } : message });
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
