import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { OfflineEmbedder, OFFLINE_DIMENSION, OFFLINE_EMBEDDER_ID } from "../src/embedders/offline.js";
import { openPGlite, VectorStore, type Hit } from "../src/store/index.js";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

interface Labeled {
  documents: { id: string; text: string }[];
  queries: { query: string; relevant: string[] }[];
}
const set = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "labeled.json"), "utf8"),
) as Labeled;
const embedder = new OfflineEmbedder();
let store: VectorStore;
let queryVectors: number[][];

beforeAll(async () => {
  store = await VectorStore.open(await openPGlite(undefined));
  await store.createCollection({
    name: "help",
    dimension: OFFLINE_DIMENSION,
    metric: "cosine",
    embedder: OFFLINE_EMBEDDER_ID,
  });
  const vectors = await embedder.embed(set.documents.map((d) => d.text));
  await store.upsert(
    "help",
    set.documents.map((d, i) => ({ id: d.id, text: d.text, vector: vectors[i]! })),
  );
  queryVectors = await embedder.embed(set.queries.map((q) => q.query));
});
afterAll(() => store.close());

/** Share of each query's relevant documents found in the top 5, averaged over queries. */
async function recallAt5(search: (q: string, v: number[]) => Promise<Hit[]>): Promise<number> {
  let sum = 0;
  for (const [i, q] of set.queries.entries()) {
    const got = new Set((await search(q.query, queryVectors[i]!)).map((h) => h.id));
    sum += q.relevant.filter((id) => got.has(id)).length / q.relevant.length;
  }
  return sum / set.queries.length;
}

it("offline embedder: recall@5 on the labeled help-centre set; hybrid at least as good as vector", async () => {
  const vector = await recallAt5((_q, v) => store.searchVector("help", v, { topK: 5 }));
  const hybrid = await recallAt5((q, v) => store.searchHybrid("help", q, v, { topK: 5 }));
  const keyword = await recallAt5((q) => store.searchKeyword("help", q, { topK: 5 }));
  process.stderr.write(
    `[quality] ${set.queries.length} queries, ${set.documents.length} documents: recall@5 vector ${vector.toFixed(3)}, hybrid ${hybrid.toFixed(3)}, keyword ${keyword.toFixed(3)}\n`,
  );
  expect(vector).toBeGreaterThanOrEqual(0.8);
  expect(hybrid).toBeGreaterThanOrEqual(vector);
});
