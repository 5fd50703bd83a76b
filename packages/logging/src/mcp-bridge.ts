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

/**
 * One level of a handler's logger, in pino's order: `log.info("loaded")` or
 * `log.info({ rows: 42 }, "loaded")` — the fields first, as the server's own logger
 * (`SetupContext.log`) takes them.
 */
export interface ToolLogFn {
  (message: string): void;
  (fields: Record<string, unknown>, message: string): void;
}

/** The logger a handler gets: server log (stderr) and, when the client asked for it, the MCP client. */
export interface ToolLogger {
  debug: ToolLogFn;
  info: ToolLogFn;
  warn: ToolLogFn;
  error: ToolLogFn;
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
  const at =
    (pinoLevel: "debug" | "info" | "warn" | "error"): ToolLogFn =>
    (first: string | Record<string, unknown>, second?: unknown) => {
      if (typeof first !== "string") return emit(pinoLevel, typeof second === "string" ? second : "", first);
      // The order before 0.2 (message, fields), from untyped code: its fields are kept, not dropped.
      if (second !== null && typeof second === "object") return emit(pinoLevel, first, second);
      emit(pinoLevel, first);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
