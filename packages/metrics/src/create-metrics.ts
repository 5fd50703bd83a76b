import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Buckets the OpenTelemetry MCP semantic conventions advise for operation durations (seconds). */
export const MCP_DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** How an operation ended; a closed set keeps label cardinality low. */
export type Outcome = "ok" | "error" | "cancelled" | "timeout";

export interface CreateMetricsOptions {
  /** Defaults to a new registry: one per server, so servers in one process do not collide. */
  registry?: Registry;
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Labels on every series, e.g. `{ server: "github" }`. */
  defaultLabels?: Record<string, string>;
}

export interface ToolshedMetrics {
  readonly registry: Registry;
  /** `mcp_server_operation_duration_seconds{method,tool,outcome}` */
  readonly operationDuration: Histogram<"method" | "tool" | "outcome">;
  /** `mcp_tool_calls_total{tool,outcome}` */
  readonly toolCalls: Counter<"tool" | "outcome">;
  /** `mcp_sessions_active` */
  readonly sessionsActive: Gauge;
  /** `toolshed_upstream_request_duration_seconds{upstream,method,status}` */
  readonly upstreamDuration: Histogram<"upstream" | "method" | "status">;
  /** Records one finished MCP operation; `tool` is "" for non-tool methods. */
  observeOperation(method: string, tool: string, outcome: Outcome, seconds: number): void;
  /** The Prometheus exposition text. */
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(options: CreateMetricsOptions = {}): ToolshedMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const operationDuration = new Histogram({
    name: "mcp_server_operation_duration_seconds",
    help: "Duration of MCP requests handled by the server, by JSON-RPC method, tool and outcome.",
    labelNames: ["method", "tool", "outcome"] as const,
    buckets: MCP_DURATION_BUCKETS,
    registers: [registry],
  });
  const toolCalls = new Counter({
    name: "mcp_tool_calls_total",
    help: "tools/call requests handled, by tool and outcome.",
    labelNames: ["tool", "outcome"] as const,
    registers: [registry],
  });
  const sessionsActive = new Gauge({
    name: "mcp_sessions_active",
    help: "Open MCP sessions (Streamable HTTP sessions and stdio connections).",
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: "toolshed_upstream_request_duration_seconds",
    help: "Duration of outbound requests to upstream services, by upstream, method and status.",
    labelNames: ["upstream", "method", "status"] as const,
    buckets: MCP_DURATION_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    operationDuration,
    toolCalls,
    sessionsActive,
    upstreamDuration,
    observeOperation(method, tool, outcome, seconds) {
      operationDuration.observe({ method, tool, outcome }, seconds);
      if (method === "tools/call") toolCalls.inc({ tool, outcome });
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
