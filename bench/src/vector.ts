#!/usr/bin/env node
/**
 * pnpm bench:vector [--quick | --smoke] [--out <dir>]
 *
 * The vector-search server's embedded engine (PGlite + pgvector HNSW) on clustered 384-dimension
 * vectors (100,000; quick 10,000): ingest rate, HNSW build time, search p50/p99 and recall@10
 * against exact search, through the store directly and through tools/call (real SDK client, same
 * process, same collection, alternating), with usearch exact and HNSW as the reference, one run.
 * Writes <out>/results/vector.json and the vector section of <out>/RESULTS.md.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import {
  figuresOf,
  PLANS,
  runVector,
  SERVER_DEFAULTS,
  type Mode,
  type Plan,
  type Samples,
} from "./vector/run.js";

const met = (ok: boolean) => (ok ? "met" : "missed");

function section({ figures, samples, plan, mode, date, machine }: Report<Plan, Samples>): string {
  const f = figures;
  return [
    "## vector: vector-search store and tools/call vs usearch",
    "",
    `\`pnpm bench:vector\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
      `and ${machine.loadavg_1m_end} at end.`,
    "",
    `${plan.vectors.toLocaleString("en")} clustered ${plan.dim}-dimension vectors (100 topics × 10 sub-topics, ` +
      `5% unclustered noise) and ${plan.queries} held-out queries from the same distribution. Ingest goes ` +
      "through the store (multi-row INSERTs of 2,000, binary vectors) into embedded PGlite with the index " +
      `deferred, then one HNSW build (m ${SERVER_DEFAULTS.hnswM}, ef_construction ${SERVER_DEFAULTS.hnswEfConstruction}, cosine). Ground truth is usearch's exact ` +
      "search. Each query runs once per pass: through the store directly for each swept " +
      `\`hnsw.ef_search\` (the server default, ${SERVER_DEFAULTS.efSearch}, gives the store figures), then ` +
      "through `tools/call` `search` at the default (the real SDK client over in-memory transports, same " +
      "process and collection), with the store's own time inside each call timed too: the overhead is " +
      "what each call added to its own store time, so both sides share one cache state.",
    "",
    markdownTable(
      ["figure", "value", "target"],
      [
        ["`recall_at_10`", String(f.recall_at_10), `>= 0.95: ${met(f.recall_at_10! >= 0.95)}`],
        ["`store_search_p50_ms`", String(f.store_search_p50_ms), `<= 5: ${met(f.store_search_p50_ms! <= 5)}`],
        ["`store_search_p99_ms`", String(f.store_search_p99_ms), ""],
        ["`tools_call_search_p50_ms`", String(f.tools_call_search_p50_ms), ""],
        [
          "`tools_call_added_p50_ms`",
          String(f.tools_call_added_p50_ms),
          "tools/call minus the store's time inside it",
        ],
        [
          "`tools_call_overhead_ratio`",
          String(f.tools_call_overhead_ratio),
          `added p50 / store-inside-the-call p50 <= 0.20: ${met(f.tools_call_overhead_ratio! <= 0.2)}`,
        ],
        ["`ingest_vectors_per_s`", String(f.ingest_vectors_per_s), "store upserts, index deferred"],
        ["`index_build_s`", String(f.index_build_s), "one HNSW build, single-threaded WebAssembly"],
        [
          "`live_index_ingest_store_vectors_per_s`",
          String(f.live_index_ingest_store_vectors_per_s),
          `${samples.live_ingest.vectors.toLocaleString("en")} vectors into an indexed collection, batches of 1,000`,
        ],
        [
          "`live_index_ingest_tools_call_vectors_per_s`",
          String(f.live_index_ingest_tools_call_vectors_per_s),
          "the same through `tools/call` `upsert_documents`, batch by batch alternating",
        ],
        [
          "`live_index_ingest_tools_call_overhead_ratio`",
          String(f.live_index_ingest_tools_call_overhead_ratio),
          "(tools/call time − store time) / store time",
        ],
        [
          "`ingest_text_docs_per_s`",
          String(f.ingest_text_docs_per_s),
          `${samples.text_ingest.docs} MDN summaries (${samples.text_ingest.avg_chars} characters on average, from typescript's lib.dom.d.ts), default embedder, tools/call upsert_documents of 100, live index`,
        ],
        [
          "`ingest_text_main_thread_docs_per_s`",
          String(f.ingest_text_main_thread_docs_per_s),
          "the same documents, the model on the main thread (batches of 4) then the same store writes",
        ],
        [
          "`ingest_speedup_vs_main_thread`",
          String(f.ingest_speedup_vs_main_thread),
          `median rates, ${samples.text_ingest.pool_s.length} passes each, alternating; >= 1.8: ${met(f.ingest_speedup_vs_main_thread! >= 1.8)}`,
        ],
        [
          "`ingest_pool_cpu_per_doc_vs_main_thread`",
          String(f.ingest_pool_cpu_per_doc_vs_main_thread),
          "process CPU seconds (all threads) per document, pool over main thread: what the pool costs beyond the model",
        ],
        [
          "`ingest_pool_cores_busy`",
          String(f.ingest_pool_cores_busy),
          `process CPU over wall time in the pool's passes (main thread's: ${f.ingest_main_thread_cores_busy}); under 2 where other work holds the cores`,
        ],
        ["`pglite_rss_mb`", String(f.pglite_rss_mb), "process RSS growth from opening PGlite to index built"],
        ["`usearch_hnsw_recall_at_10`", String(f.usearch_hnsw_recall_at_10), "reference, same m/ef"],
        [
          "`usearch_hnsw_p50_ms`",
          String(f.usearch_hnsw_p50_ms),
          `reference (build ${samples.usearch_hnsw.build_s} s)`,
        ],
        ["`usearch_exact_p50_ms`", String(f.usearch_exact_p50_ms), "brute force, 1 thread"],
      ],
    ),
    "",
    markdownTable(
      ["ef_search", "store p50 ms", "store p99 ms", "recall@10"],
      Object.entries(samples.store_by_ef).map(([ef, l]) => [
        ef,
        String(l.p50_ms),
        String(l.p99_ms),
        String(l.recall_at_10),
      ]),
    ),
    "",
    "Raw numbers: `results/vector.json`.",
  ].join("\n");
}

function summary(f: Record<string, number>, mode: Mode): string {
  return (
    [
      `vector benchmark (${mode}; ${f.vectors} vectors)`,
      `  recall_at_10 ${f.recall_at_10}, store_search_p50_ms ${f.store_search_p50_ms} (p99 ${f.store_search_p99_ms})`,
      `  tools/call p50 ${f.tools_call_search_p50_ms} ms, adding ${f.tools_call_added_p50_ms} ms: tools_call_overhead_ratio ${f.tools_call_overhead_ratio}`,
      `  ingest_vectors_per_s ${f.ingest_vectors_per_s}, index_build_s ${f.index_build_s}, pglite_rss_mb ${f.pglite_rss_mb}`,
      `  live-index ingest: store ${f.live_index_ingest_store_vectors_per_s} vec/s, tools/call ${f.live_index_ingest_tools_call_vectors_per_s} vec/s (overhead ${f.live_index_ingest_tools_call_overhead_ratio})`,
      `  text ingest: ${f.ingest_text_docs_per_s} docs/s (main thread ${f.ingest_text_main_thread_docs_per_s}): ingest_speedup_vs_main_thread ${f.ingest_speedup_vs_main_thread} (CPU per doc ${f.ingest_pool_cpu_per_doc_vs_main_thread}x, cores busy ${f.ingest_pool_cores_busy} vs ${f.ingest_main_thread_cores_busy})`,
      `  usearch HNSW recall ${f.usearch_hnsw_recall_at_10} p50 ${f.usearch_hnsw_p50_ms} ms; exact p50 ${f.usearch_exact_p50_ms} ms`,
    ].join("\n") + "\n"
  );
}

runBenchmark({ name: "vector", plans: PLANS, run: runVector, figures: figuresOf, section, summary });
