import type { Context, Span, TextMapGetter } from "@opentelemetry/api";
import { openTelemetry } from "@toolshed/metrics";

// Through @opentelemetry/api only, loaded once an application (or the OTLP exporter in otlp.ts)
// has registered OpenTelemetry: until then no request has a span and nothing here costs a thing.
// SpanKind.SERVER and SpanStatusCode.ERROR, as numbers: the API's enums would load it.
const SERVER = 1;
const ERROR = 2;

const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

export interface RequestSpan {
  /** Undefined while OpenTelemetry is not set up. */
  span: Span | undefined;
  /** The context to run the request's handler in, so outbound calls become child spans. */
  context: Context | undefined;
}

/**
 * A SERVER span for one MCP request, named `<method> <target>` with the OpenTelemetry MCP
 * attributes; its parent comes from `params._meta.traceparent` when the client sent one.
 */
export function startRequestSpan(
  method: string,
  id: string | number,
  params: Record<string, unknown> | undefined,
  sessionId: string | undefined,
  network: "pipe" | "tcp" | "inproc",
  protocolVersion?: string,
  options: { knownTarget?: boolean } = {},
): RequestSpan {
  const api = openTelemetry();
  if (!api) return { span: undefined, context: undefined };
  const { context, propagation, trace } = api;
  const meta = params?._meta;
  const parent =
    meta && typeof meta === "object"
      ? propagation.extract(context.active(), meta as Record<string, unknown>, metaGetter)
      : context.active();
  const name = typeof params?.name === "string" ? params.name : undefined;
  const attributes: Record<string, string> = {
    "mcp.method.name": method,
    "jsonrpc.request.id": String(id),
    "network.transport": network,
  };
  // Streamable HTTP is the only MCP transport on TCP here.
  if (network === "tcp") attributes["network.protocol.name"] = "http";
  if (sessionId) attributes["mcp.session.id"] = sessionId;
  if (protocolVersion) attributes["mcp.protocol.version"] = protocolVersion;
  if (method === "tools/call" && name) {
    attributes["gen_ai.tool.name"] = name;
    attributes["gen_ai.operation.name"] = "execute_tool";
  } else if (method === "prompts/get" && name) {
    attributes["gen_ai.prompt.name"] = name;
  } else if (method.startsWith("resources/") && typeof params?.uri === "string") {
    attributes["mcp.resource.uri"] = params.uri;
  }
  // The span name carries the target only when it is one of the server's own (a made-up tool name
  // would make a new span name per request); the attribute above still records what was asked.
  const target = name && method !== "resources/read" && options.knownTarget !== false;
  const span = trace
    .getTracer("@toolshed/server")
    .startSpan(target ? `${method} ${name}` : method, { kind: SERVER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * Ends a request span. `errorType` is a JSON-RPC error code, "tool_error" or "cancelled";
 * `rpcStatus` the JSON-RPC error code of an error response (`rpc.response.status_code`).
 */
export function endRequestSpan(
  span: Span | undefined,
  end: { errorType?: string; toolErrorCode?: string; rpcStatus?: string } = {},
): void {
  if (!span) return;
  if (end.rpcStatus) span.setAttribute("rpc.response.status_code", end.rpcStatus);
  if (end.errorType) {
    span.setAttribute("error.type", end.errorType);
    if (end.toolErrorCode) span.setAttribute("toolshed.error.code", end.toolErrorCode);
    span.setStatus({ code: ERROR });
  }
  span.end();
}

/** Runs `fn` in `ctx` (the request span's context). */
export function runInContext<T>(ctx: Context | undefined, fn: () => T): T {
  const api = ctx && openTelemetry();
  return api ? api.context.with(ctx, fn) : fn();
}

/** Fields for a log line written inside a traced request: `trace_id` and `span_id`. */
export function traceLogFields(): Record<string, string> {
  const trace = openTelemetry()?.trace;
  const spanContext = trace?.getActiveSpan()?.spanContext();
  if (!spanContext || !trace!.isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
