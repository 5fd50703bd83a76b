import type { TestClient } from "@toolshed/testing";
import type { Deps } from "@toolshed/server-vector-search";
import { loadUseModel, OFFLINE_BATCH } from "@toolshed/server-vector-search/embedders";
import { median, round } from "../lib/stats.js";
import { domCorpus, type CorpusDoc } from "./corpus.js";

/** Documents per upsert_documents call, as a client loading a corpus would send them. */
const CALL = 100;

export interface TextIngest {
  docs: number;
  avg_chars: number;
  /** Seconds per pass, alternating: the model on the event loop, then the server's pool. */
  main_thread_s: number[];
  pool_s: number[];
  /**
   * The process's CPU seconds (all threads) per pass: what each way costs, whatever share of the
   * machine other work leaves it (this machine's 2 cores are shared; wall-clock rates are not).
   */
  main_thread_cpu_s: number[];
  pool_cpu_s: number[];
}

/**
 * Text documents embedded by the default (offline) embedder and written into a collection with a
 * live index, two ways in the same run, passes alternating (main, pool, main, pool): the model on
 * the main thread in batches of OFFLINE_BATCH as the server embedded before the pool (then the same
 * store writes), and the server as it is, through tools/call upsert_documents.
 */
export async function runTextIngest(
  t: TestClient,
  n: number,
  rounds: number,
  log: (line: string) => void,
): Promise<TextIngest> {
  const all = domCorpus();
  const step = Math.max(1, Math.floor(all.length / n));
  const docs: CorpusDoc[] = all.filter((_, i) => i % step === 0).slice(0, n);
  const { store, embedder } = (await t.runtime.deps()) as Deps;
  const dim = await embedder.dimension();
  const model = await loadUseModel();
  await model.embed(["warm up"]);
  // The pool's threads load the model on first use: warm them outside the timing.
  await t.client.callTool({ name: "create_collection", arguments: { name: "text_warm" } });
  await t.client.callTool({
    name: "upsert_documents",
    arguments: { collection: "text_warm", documents: docs.slice(0, 16) },
  });

  const mainPass = async (name: string) => {
    await store.createCollection({ name, dimension: dim, metric: "cosine", embedder: embedder.id });
    const start = performance.now();
    for (let i = 0; i < docs.length; i += CALL) {
      const chunk = docs.slice(i, i + CALL);
      const vectors: number[][] = [];
      for (let b = 0; b < chunk.length; b += OFFLINE_BATCH) {
        vectors.push(...(await model.embed(chunk.slice(b, b + OFFLINE_BATCH).map((d) => d.text))));
      }
      await store.upsert(
        name,
        chunk.map((d, j) => ({ id: d.id, text: d.text, vector: vectors[j]! })),
      );
    }
    return (performance.now() - start) / 1000;
  };
  const poolPass = async (name: string) => {
    await t.client.callTool({ name: "create_collection", arguments: { name } });
    const start = performance.now();
    for (let i = 0; i < docs.length; i += CALL) {
      const r = await t.client.callTool({
        name: "upsert_documents",
        arguments: { collection: name, documents: docs.slice(i, i + CALL) },
      });
      if (r.isError) throw new Error(`upsert_documents failed: ${JSON.stringify(r.content)}`);
    }
    return (performance.now() - start) / 1000;
  };

  const cpuOf = async (pass: () => Promise<number>, cpu: number[]) => {
    const before = process.cpuUsage();
    const s = await pass();
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1e6);
    return s;
  };
  const main: number[] = [];
  const pool: number[] = [];
  const mainCpu: number[] = [];
  const poolCpu: number[] = [];
  const line = (way: string, s: number, cpu: number) =>
    `text ingest round ${main.length}: ${way} ${(docs.length / s).toFixed(1)} docs/s, ${(cpu / s).toFixed(2)} cores busy`;
  for (let r = 0; r < rounds; r++) {
    main.push(await cpuOf(() => mainPass(`text_main_${r}`), mainCpu));
    log(line("main thread", main.at(-1)!, mainCpu.at(-1)!));
    pool.push(await cpuOf(() => poolPass(`text_pool_${r}`), poolCpu));
    log(line("pool", pool.at(-1)!, poolCpu.at(-1)!));
  }
  return {
    docs: docs.length,
    avg_chars: Math.round(docs.reduce((a, d) => a + d.text.length, 0) / docs.length),
    main_thread_s: main.map((s) => round(s, 2)),
    pool_s: pool.map((s) => round(s, 2)),
    main_thread_cpu_s: mainCpu.map((s) => round(s, 2)),
    pool_cpu_s: poolCpu.map((s) => round(s, 2)),
  };
}

export function textIngestFigures(s: TextIngest): Record<string, number> {
  const pool = s.docs / median(s.pool_s);
  const main = s.docs / median(s.main_thread_s);
  return {
    ingest_text_docs_per_s: round(pool, 1),
    ingest_text_main_thread_docs_per_s: round(main, 1),
    ingest_speedup_vs_main_thread: round(pool / main, 2),
    // CPU per document of the pool's way over the main thread's (1 = the pool costs nothing extra),
    // and the cores each way kept busy: with 2 free cores, the speedup is about cores over cost.
    ingest_pool_cpu_per_doc_vs_main_thread: round(median(s.pool_cpu_s) / median(s.main_thread_cpu_s), 2),
    ingest_pool_cores_busy: round(median(s.pool_cpu_s.map((c, i) => c / s.pool_s[i]!)), 2),
    ingest_main_thread_cores_busy: round(
      median(s.main_thread_cpu_s.map((c, i) => c / s.main_thread_s[i]!)),
      2,
    ),
  };
}
