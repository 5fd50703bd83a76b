import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestClient } from "@toolshed/testing";
import server, { configSchema, type Deps } from "@toolshed/server-vector-search";
import usearch, { MetricKind, ScalarKind, type BatchMatches } from "usearch";
import { quantile, round } from "../lib/stats.js";
import { makeDataset, row, type Dataset } from "./data.js";
import { runTextIngest, textIngestFigures, type TextIngest } from "./text-ingest.js";

export type Mode = "full" | "quick" | "smoke";

export interface Plan {
  vectors: number;
  queries: number;
  dim: number;
  /** hnsw.ef_search values swept on the store; the server default is measured through tools/call too. */
  efSweep: number[];
  /** Vectors written into an indexed collection through the store and through tools/call (batches of 1,000). */
  liveIngest: number;
  /** Text documents (real MDN summaries) ingested with the default embedder, per pass. */
  textDocs: number;
  /** Passes of each way (main thread, pool), alternating. */
  textRounds: number;
  watchdogMs: number;
}

export const PLANS: Record<Mode, Plan> = {
  full: {
    vectors: 100_000,
    queries: 200,
    dim: 384,
    efSweep: [40, 100, 200, 400],
    liveIngest: 10_000,
    textDocs: 600,
    textRounds: 3,
    watchdogMs: 3_600_000,
  },
  quick: {
    vectors: 10_000,
    queries: 100,
    dim: 384,
    efSweep: [40, 100, 200],
    liveIngest: 4_000,
    textDocs: 300,
    textRounds: 2,
    watchdogMs: 600_000,
  },
  smoke: {
    vectors: 2_000,
    queries: 20,
    dim: 384,
    efSweep: [100],
    liveIngest: 1_000,
    textDocs: 60,
    textRounds: 1,
    watchdogMs: 240_000,
  },
};

export interface Latency {
  p50_ms: number;
  p99_ms: number;
  recall_at_10: number;
}

export interface Samples {
  vectors: number;
  ingest_s: number;
  index_build_s: number;
  rss_mb_before: number;
  rss_mb_after_ingest: number;
  rss_mb_after_index: number;
  store_by_ef: Record<string, Latency>;
  /** The store directly at the server's default ef_search (the sweep's entry for it). */
  store: Latency;
  tools_call: Latency;
  /** Median of the store's own time inside each tools/call, and of the time tools/call added to it. */
  store_in_tools_call_p50_ms: number;
  tools_call_added_p50_ms: number;
  usearch_exact: { p50_ms: number };
  usearch_hnsw: Latency & { build_s: number };
  tools_ms: number[];
  store_in_tools_ms: number[];
  /** Writes into collections with a live HNSW index, through the store and through tools/call. */
  live_ingest: { vectors: number; store_s: number; tools_call_s: number };
  /** Text embedded by the default embedder: on the main thread vs the server's pool. */
  text_ingest: TextIngest;
}

const K = 10;
/** The server's own defaults: what a user gets without flags. */
export const SERVER_DEFAULTS = configSchema.parse({});
export const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);

/**
 * A collection of the dataset's first `n` vectors with its HNSW index deferred, written through the
 * store in multi-row batches of 2,000 (binary vectors); resolves to the seconds the writes took.
 */
export async function ingestDeferred(
  store: Deps["store"],
  name: string,
  data: Dataset,
  log?: (done: number) => void,
): Promise<number> {
  const { n, dim } = data;
  await store.createCollection({ name, dimension: dim, metric: "cosine", embedder: "none", index: false });
  const BATCH = 2_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++)
      docs.push({ id: String(j), vector: row(data.vectors, j, dim), metadata: { c: j % 10 } });
    await store.upsert(name, docs);
    if ((i / BATCH) % 10 === 0) log?.(Math.min(n, i + BATCH));
  }
  return (performance.now() - t0) / 1000;
}

function summarize(ms: number[], found: string[][], truth: string[][]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  let hit = 0;
  found.forEach((ids, i) => {
    const t = new Set(truth[i]);
    hit += ids.filter((id) => t.has(id)).length;
  });
  return {
    p50_ms: round(quantile(sorted, 0.5), 3),
    p99_ms: round(quantile(sorted, 0.99), 3),
    recall_at_10: round(hit / (truth.length * K), 4),
  };
}

export async function runVector(plan: Plan, log: (line: string) => void): Promise<Samples> {
  const { dim, vectors: n, queries: q } = plan;
  log(`generating ${n} clustered ${dim}-dim vectors and ${q} queries`);
  const data = makeDataset(n, q, dim);

  // Exact ground truth (usearch brute force, cosine), and usearch HNSW as the reference engine.
  const exact = usearch.exactSearch(data.vectors, data.queries, dim, K, MetricKind.Cos) as BatchMatches;
  const truth = Array.from({ length: q }, (_, i) => [...exact.get(i).keys].map((k) => String(k)));
  const exactMs: number[] = [];
  for (let i = 0; i < Math.min(q, 50); i++) {
    const t0 = performance.now();
    usearch.exactSearch(data.vectors, row(data.queries, i, dim), dim, K, MetricKind.Cos, 1);
    exactMs.push(performance.now() - t0);
  }
  const idx = new usearch.Index({
    dimensions: dim,
    metric: MetricKind.Cos,
    quantization: ScalarKind.F32,
    connectivity: SERVER_DEFAULTS.hnswM,
    expansion_add: SERVER_DEFAULTS.hnswEfConstruction,
    expansion_search: SERVER_DEFAULTS.efSearch,
    multi: false,
  });
  let t0 = performance.now();
  idx.add(
    BigUint64Array.from({ length: n }, (_, i) => BigInt(i)),
    data.vectors,
    1,
  );
  const usearchBuild = (performance.now() - t0) / 1000;
  const uMs: number[] = [];
  const uFound: string[][] = [];
  for (let i = 0; i < q; i++) {
    t0 = performance.now();
    const m = idx.search(row(data.queries, i, dim), K, 1);
    uMs.push(performance.now() - t0);
    uFound.push([...m.keys].map((k) => String(k)));
  }
  log(`usearch: HNSW build ${usearchBuild.toFixed(1)} s (1 thread)`);

  const dir = mkdtempSync(join(tmpdir(), "toolshed-bench-vector-"));
  const rssBefore = rssMb();
  const t = await createTestClient(server, {
    config: configSchema.parse({ dataDir: dir }),
  });
  try {
    const { store } = (await t.runtime.deps()) as Deps;
    // Ingest through the store, index deferred, then built once.
    const ingest = await ingestDeferred(store, "bench", data, (done) => log(`ingested ${done} / ${n}`));
    const rssIngest = rssMb();
    log(`ingest ${ingest.toFixed(1)} s; building the HNSW index`);
    const build = (await store.buildIndex("bench")) / 1000;
    const rssIndex = rssMb();
    log(`index build ${build.toFixed(1)} s`);

    const storeSearch = async (i: number) => {
      const s = performance.now();
      const hits = await store.searchVector("bench", row(data.queries, i, dim), { topK: K });
      return { ms: performance.now() - s, ids: hits.map((h) => h.id) };
    };
    // The store's own time inside each tools/call, timed on the instance the server uses, so the
    // overhead is measured per call in one cache state. (Comparing separate runs is skewed: a query
    // run a second time finds its index pages cached and takes about half as long.)
    let storeMsInCall = 0;
    const searchVector = store.searchVector.bind(store);
    store.searchVector = async (...args) => {
      const s = performance.now();
      try {
        return await searchVector(...args);
      } finally {
        storeMsInCall = performance.now() - s;
      }
    };
    const toolSearch = async (i: number) => {
      const vector = Array.from(row(data.queries, i, dim));
      const s = performance.now();
      const r = (await t.client.callTool({
        name: "search",
        arguments: { collection: "bench", vector, top_k: K, mode: "vector" },
      })) as unknown as { structuredContent: { results: { id: string }[] } };
      return {
        ms: performance.now() - s,
        storeMs: storeMsInCall,
        ids: r.structuredContent.results.map((h) => h.id),
      };
    };

    const byEf: Record<string, Latency> = {};
    // The sweep always includes the server's default: it is the store figure.
    const sweep = [...new Set([...plan.efSweep, SERVER_DEFAULTS.efSearch])].sort((a, b) => a - b);
    for (const ef of sweep) {
      await store.sql.query(`SET hnsw.ef_search = ${Math.trunc(ef)}`);
      for (let i = 0; i < Math.min(q, 10); i++) await storeSearch(i); // warm-up
      const ms: number[] = [];
      const found: string[][] = [];
      for (let i = 0; i < q; i++) {
        const r = await storeSearch(i);
        ms.push(r.ms);
        found.push(r.ids);
      }
      byEf[String(ef)] = summarize(ms, found, truth);
      log(`store ef_search=${ef}: ${JSON.stringify(byEf[String(ef)])}`);
    }

    // The server's default through tools/call, each query once, as in the sweep above.
    await store.sql.query(`SET hnsw.ef_search = ${Math.trunc(SERVER_DEFAULTS.efSearch)}`);
    for (let i = 0; i < Math.min(q, 10); i++) await toolSearch(i);
    const tMs: number[] = [];
    const inMs: number[] = [];
    const tFound: string[][] = [];
    for (let i = 0; i < q; i++) {
      const r = await toolSearch(i);
      tMs.push(r.ms);
      inMs.push(r.storeMs);
      tFound.push(r.ids);
    }
    const median = (xs: number[]) =>
      quantile(
        [...xs].sort((x, y) => x - y),
        0.5,
      );
    const added = tMs.map((ms, i) => ms - inMs[i]!);
    // Writes as a client makes them: into a collection whose HNSW index is live, in batches of
    // 1,000, through the store and through tools/call upsert_documents, batch by batch alternating.
    const live = Math.min(plan.liveIngest, n);
    log(`live-index ingest: ${live} vectors through the store and through tools/call`);
    await store.createCollection({ name: "live_store", dimension: dim, metric: "cosine", embedder: "none" });
    const made = await t.client.callTool({
      name: "create_collection",
      arguments: { name: "live_tools", embedder: "none", dimension: dim, metric: "cosine" },
    });
    if (made.isError) throw new Error(`create_collection failed: ${JSON.stringify(made.content)}`);
    let liveStore = 0;
    let liveTools = 0;
    for (let i = 0; i < live; i += 1_000) {
      const ids = Array.from({ length: Math.min(1_000, live - i) }, (_, j) => i + j);
      const documents = ids.map((j) => ({ id: String(j), vector: Array.from(row(data.vectors, j, dim)) }));
      let s0 = performance.now();
      await store.upsert("live_store", documents);
      liveStore += performance.now() - s0;
      s0 = performance.now();
      const r = await t.client.callTool({
        name: "upsert_documents",
        arguments: { collection: "live_tools", documents },
      });
      liveTools += performance.now() - s0;
      if (r.isError) throw new Error(`upsert_documents failed: ${JSON.stringify(r.content)}`);
    }
    log(`text ingest: ${plan.textDocs} MDN summaries, ${plan.textRounds} rounds of main thread vs pool`);
    const textIngest = await runTextIngest(t, plan.textDocs, plan.textRounds, log);
    return {
      text_ingest: textIngest,
      vectors: n,
      ingest_s: round(ingest, 2),
      index_build_s: round(build, 2),
      rss_mb_before: rssBefore,
      rss_mb_after_ingest: rssIngest,
      rss_mb_after_index: rssIndex,
      store_by_ef: byEf,
      store: byEf[String(SERVER_DEFAULTS.efSearch)]!,
      tools_call: summarize(tMs, tFound, truth),
      store_in_tools_call_p50_ms: round(median(inMs), 3),
      tools_call_added_p50_ms: round(median(added), 3),
      usearch_exact: {
        p50_ms: round(
          quantile(
            [...exactMs].sort((a, b) => a - b),
            0.5,
          ),
          3,
        ),
      },
      usearch_hnsw: { ...summarize(uMs, uFound, truth), build_s: round(usearchBuild, 2) },
      tools_ms: tMs.map((x) => round(x, 3)),
      store_in_tools_ms: inMs.map((x) => round(x, 3)),
      live_ingest: {
        vectors: live,
        store_s: round(liveStore / 1000, 2),
        tools_call_s: round(liveTools / 1000, 2),
      },
    };
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function figuresOf(s: Samples): Record<string, number> {
  return {
    vectors: s.vectors,
    recall_at_10: s.store.recall_at_10,
    store_search_p50_ms: s.store.p50_ms,
    store_search_p99_ms: s.store.p99_ms,
    tools_call_search_p50_ms: s.tools_call.p50_ms,
    tools_call_search_p99_ms: s.tools_call.p99_ms,
    tools_call_added_p50_ms: s.tools_call_added_p50_ms,
    // What tools/call adds to the store's work, both timed in the same calls.
    tools_call_overhead_ratio: round(s.tools_call_added_p50_ms / s.store_in_tools_call_p50_ms, 3),
    ingest_vectors_per_s: Math.round(s.vectors / s.ingest_s),
    live_index_ingest_store_vectors_per_s: Math.round(s.live_ingest.vectors / s.live_ingest.store_s),
    live_index_ingest_tools_call_vectors_per_s: Math.round(
      s.live_ingest.vectors / s.live_ingest.tools_call_s,
    ),
    live_index_ingest_tools_call_overhead_ratio: round(
      (s.live_ingest.tools_call_s - s.live_ingest.store_s) / s.live_ingest.store_s,
      3,
    ),
    index_build_s: s.index_build_s,
    usearch_hnsw_recall_at_10: s.usearch_hnsw.recall_at_10,
    usearch_hnsw_p50_ms: s.usearch_hnsw.p50_ms,
    usearch_exact_p50_ms: s.usearch_exact.p50_ms,
    pglite_rss_mb: s.rss_mb_after_index - s.rss_mb_before,
    ...textIngestFigures(s.text_ingest),
  };
}
