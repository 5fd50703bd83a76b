import { createRequire } from "node:module";
import type * as Prom from "prom-client";

/**
 * prom-client's classes, each from its own module: the package's index also loads its default
 * (process) collectors, which load @opentelemetry/api, Pushgateway and the cluster aggregator —
 * about a tenth of a second of every server's cold start on a busy machine (measured 170-275 ms for
 * the index against 14-23 ms for these four, load 5). The collectors are loaded when registered
 * (see `createMetrics`).
 */
const load = createRequire(import.meta.url);
export const Counter = load("prom-client/lib/counter") as typeof Prom.Counter;
export const Gauge = load("prom-client/lib/gauge") as typeof Prom.Gauge;
export const Histogram = load("prom-client/lib/histogram") as typeof Prom.Histogram;
export const Registry = load("prom-client/lib/registry") as typeof Prom.Registry;
export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export type Registry = Prom.Registry;

/**
 * When the Node process metrics (CPU, memory, event loop lag, GC) are registered: this long after
 * start, off the path to the first answer, or at the first scrape if that comes sooner.
 */
export const DEFAULT_METRICS_DELAY_MS = 1_000;

/** Buckets the OpenTelemetry MCP semantic conventions advise for operation durations (seconds). */
export const MCP_DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** How an operation ended; a closed set keeps label cardinality low. */
export type Outcome = "ok" | "error" | "cancelled" | "timeout";

/**
 * Why an operation failed, for alerting: a Toolshed error code (`invalid_input`, `not_found`,
 * `forbidden`, `rate_limited`, `timeout`, `upstream_error`, `internal`, …) or `cancelled`; "" when
 * it succeeded. The caller maps to this closed set, so the label stays low-cardinality.
 */
export type ErrorClass = string;

/** Optional labels of one finished operation. */
export interface OperationLabels {
  /** See {@link ErrorClass}; "" (the default) for a success. */
  errorClass?: ErrorClass;
  /** The MCP revision the request spoke (`mcp.protocol.version`), clamped to known ones by the caller. */
  protocolVersion?: string;
}

export interface CreateMetricsOptions {
  /** Defaults to a new registry: one per server, so servers in one process do not collide. */
  registry?: Registry;
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Labels on every series, e.g. `{ server: "github" }`. */
  defaultLabels?: Record<string, string>;
}

type OperationLabel = "method" | "tool" | "outcome" | "error_class" | "mcp_protocol_version";

export interface ToolshedMetrics {
  readonly registry: Registry;
  /** `mcp_server_operation_duration_seconds{method,tool,outcome,error_class,mcp_protocol_version}` */
  readonly operationDuration: Histogram<OperationLabel>;
  /** `mcp_tool_calls_total{tool,outcome,error_class,mcp_protocol_version}` */
  readonly toolCalls: Counter<Exclude<OperationLabel, "method">>;
  /** `mcp_sessions_active` */
  readonly sessionsActive: Gauge;
  /** `toolshed_upstream_request_duration_seconds{upstream,method,status}` */
  readonly upstreamDuration: Histogram<"upstream" | "method" | "status">;
  /** `toolshed_http_refusals_total{status,route}`: HTTP requests answered 4xx/5xx before or instead of MCP. */
  readonly httpRefusals: Counter<"status" | "route">;
  /** Records one finished MCP operation; `tool` is "" for non-tool methods. */
  observeOperation(
    method: string,
    tool: string,
    outcome: Outcome,
    seconds: number,
    labels?: OperationLabels,
  ): void;
  /** `toolshed_ready`: 1 when the readiness check passes at scrape time, else 0 (absent until one is set). */
  readonly ready: Gauge;
  /** The check `toolshed_ready` runs on every scrape (the one /readyz answers with). */
  setReadinessCheck(check: () => Promise<boolean>): void;
  /** Counts one refused HTTP request; `route` is a closed set chosen by the caller (mcp, metrics, …). */
  countRefusal(status: number, route: string): void;
  /** The Prometheus exposition text. */
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(options: CreateMetricsOptions = {}): ToolshedMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  let registerDefaults = () => {};
  if (options.defaultMetrics ?? true) {
    let registered = false;
    registerDefaults = () => {
      if (registered) return;
      registered = true;
      clearTimeout(timer);
      const collect = load("prom-client/lib/defaultMetrics") as typeof Prom.collectDefaultMetrics;
      collect({ register: registry });
    };
    const timer = setTimeout(registerDefaults, DEFAULT_METRICS_DELAY_MS);
    timer.unref();
  }

  const operationDuration = new Histogram({
    name: "mcp_server_operation_duration_seconds",
    help: "Duration of MCP requests handled by the server, by JSON-RPC method, tool, outcome, error class and MCP protocol version.",
    labelNames: ["method", "tool", "outcome", "error_class", "mcp_protocol_version"] as const,
    buckets: MCP_DURATION_BUCKETS,
    registers: [registry],
  });
  const toolCalls = new Counter({
    name: "mcp_tool_calls_total",
    help: "tools/call requests handled, by tool, outcome, error class (invalid_input, not_found, forbidden, rate_limited, timeout, upstream_error, internal, …) and MCP protocol version.",
    labelNames: ["tool", "outcome", "error_class", "mcp_protocol_version"] as const,
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
  const httpRefusals = new Counter({
    name: "toolshed_http_refusals_total",
    help: "HTTP requests refused (answered 4xx or 5xx: 401 unauthenticated, 403 host/origin/scope, 404 unknown session or route, 413 body too large, 429 rate limited, 503 overloaded or shutting down, …), by status and route.",
    labelNames: ["status", "route"] as const,
    registers: [registry],
  });

  let readinessCheck: (() => Promise<boolean>) | undefined;
  const ready = new Gauge({
    name: "toolshed_ready",
    help: "1 when the server's dependencies are ready (what /readyz answers), 0 when not; evaluated at scrape time.",
    registers: [registry],
    async collect() {
      if (readinessCheck) this.set((await readinessCheck().catch(() => false)) ? 1 : 0);
    },
  });

  return {
    registry,
    ready,
    setReadinessCheck(check) {
      readinessCheck = check;
    },
    operationDuration,
    toolCalls,
    sessionsActive,
    upstreamDuration,
    httpRefusals,
    observeOperation(method, tool, outcome, seconds, labels = {}) {
      const error_class = labels.errorClass ?? "";
      const mcp_protocol_version = labels.protocolVersion ?? "";
      operationDuration.observe({ method, tool, outcome, error_class, mcp_protocol_version }, seconds);
      if (method === "tools/call") toolCalls.inc({ tool, outcome, error_class, mcp_protocol_version });
    },
    countRefusal(status, route) {
      httpRefusals.inc({ status: String(status), route });
    },
    render: () => {
      registerDefaults();
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}
