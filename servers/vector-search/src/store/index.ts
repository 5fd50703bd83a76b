export {
  VectorStore,
  fuse,
  DEFAULT_HNSW,
  DEFAULT_HYBRID_WEIGHTS,
  MAX_DIMENSION,
  RRF_K,
  WRITE_BATCH_ROWS,
} from "./store.js";
export type {
  CollectionInfo,
  Document,
  Hit,
  HnswOptions,
  HybridOptions,
  HybridWeights,
  NewCollection,
  NewDocument,
  SearchOptions,
} from "./store.js";
export { compileFilter, filterSchema, fieldPath, COMPARISONS } from "./filter.js";
export type { Comparison, Condition, Filter } from "./filter.js";
export { METRICS, METRIC_SQL } from "./metric.js";
export type { Metric } from "./metric.js";
export { openPGlite } from "./pglite-thread.js";
export { openPGliteInProcess } from "./pglite-client.js";
export type { PGliteOptions } from "./pglite-client.js";
export { openPostgres } from "./pg-client.js";
export type { PgOptions } from "./pg-client.js";
export { encodeVector } from "./sql.js";
export type { SqlClient, VectorInput } from "./sql.js";
