/** Distance metrics, each with its pgvector operator, HNSW operator class and score. */
export const METRICS = ["cosine", "l2", "inner_product"] as const;
export type Metric = (typeof METRICS)[number];

export const METRIC_SQL: Record<Metric, { op: string; opclass: string; score: (d: string) => string }> = {
  // score: higher is better. cosine: similarity in [-1, 1]; inner product: the dot product;
  // l2: 1 / (1 + distance), in (0, 1].
  cosine: { op: "<=>", opclass: "vector_cosine_ops", score: (d) => `(1 - ${d})` },
  l2: { op: "<->", opclass: "vector_l2_ops", score: (d) => `(1 / (1 + ${d}))` },
  inner_product: { op: "<#>", opclass: "vector_ip_ops", score: (d) => `(-${d})` },
};
