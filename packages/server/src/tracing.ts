import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";

// Through @opentelemetry/api only: without a registered SDK every call here is a no-op, and an
// embedding application's provider (or the OTLP one in otlp.ts) receives the spans.
const tracer = trace.getTracer("@toolshed/server");

const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

export interface RequestSpan {
  span: Span;
  /** The context to run the request's handler in, so outbound calls become child spans. */
  context: Context;
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
  const span = tracer.startSpan(
    target ? `${method} ${name}` : method,
    {
      kind: SpanKind.SERVER,
      attributes,
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * Ends a request span. `errorType` is a JSON-RPC error code, "tool_error" or "cancelled";
 * `rpcStatus` the JSON-RPC error code of an error response (`rpc.response.status_code`).
 */
export function endRequestSpan(
  span: Span,
  end: { errorType?: string; toolErrorCode?: string; rpcStatus?: string } = {},
): void {
  if (end.rpcStatus) span.setAttribute("rpc.response.status_code", end.rpcStatus);
  if (end.errorType) {
    span.setAttribute("error.type", end.errorType);
    if (end.toolErrorCode) span.setAttribute("toolshed.error.code", end.toolErrorCode);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Runs `fn` in `ctx` (the request span's context). */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** Fields for a log line written inside a traced request: `trace_id` and `span_id`. */
export function traceLogFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
