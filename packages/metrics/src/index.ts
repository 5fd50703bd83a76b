export {
  createMetrics,
  MCP_DURATION_BUCKETS,
  DEFAULT_METRICS_DELAY_MS,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from "./create-metrics.js";
export type {
  ToolshedMetrics,
  CreateMetricsOptions,
  Outcome,
  ErrorClass,
  OperationLabels,
} from "./create-metrics.js";
export { openTelemetry } from "./open-telemetry.js";
