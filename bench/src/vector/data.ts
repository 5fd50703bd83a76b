/**
 * Clustered vectors, not uniform noise: 100 topics, each with 10 sub-topics, points scattered around
 * their sub-topic, plus 5% unclustered noise points. Deterministic from the seed.
 */
export interface Dataset {
  dim: number;
  n: number;
  vectors: Float32Array; // n * dim, row-major
  queries: Float32Array; // q * dim
  q: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeDataset(n: number, q: number, dim: number, seed = 7): Dataset {
  const rand = mulberry32(seed);
  const gauss = () => {
    const u = rand() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const TOPICS = 100;
  const SUB = 10;
  const topics = Array.from({ length: TOPICS }, () => Float32Array.from({ length: dim }, gauss));
  const subs = topics.map((t) =>
    Array.from({ length: SUB }, () => Float32Array.from(t, (x) => x + 0.6 * gauss())),
  );
  const point = (out: Float32Array, offset: number) => {
    if (rand() < 0.05) {
      for (let j = 0; j < dim; j++) out[offset + j] = gauss();
      return;
    }
    const s = subs[Math.floor(rand() * TOPICS)]![Math.floor(rand() * SUB)]!;
    for (let j = 0; j < dim; j++) out[offset + j] = s[j]! + 0.35 * gauss();
  };
  const vectors = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) point(vectors, i * dim);
  const queries = new Float32Array(q * dim);
  for (let i = 0; i < q; i++) point(queries, i * dim);
  return { dim, n, vectors, queries, q };
}

export function row(m: Float32Array, i: number, dim: number): Float32Array {
  return m.subarray(i * dim, (i + 1) * dim);
}
