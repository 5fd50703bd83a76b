export { createMetrics, MCP_DURATION_BUCKETS } from "./create-metrics.js";
export type {
  ToolshedMetrics,
  CreateMetricsOptions,
  Outcome,
  ErrorClass,
  OperationLabels,
} from "./create-metrics.js";
export { openTelemetry } from "./open-telemetry.js";
