import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ToolshedError } from "@toolshed/server";
import type { EmbedReply, EmbedRequest } from "./offline-worker.js";

export interface EmbedPoolOptions {
  /** The worker script (offline-worker.js). */
  file: URL;
  /** Worker threads; 0 picks one per core, at most 4. */
  size: number;
  /** Batches waiting for a thread before callers wait for room (backpressure). */
  maxQueued: number;
  /**
   * One more thread that runs only urgent batches (a search's query), so a query never waits for
   * a bulk batch to finish. Started on the first urgent batch.
   */
  queryLane?: boolean;
  /**
   * Niceness of the bulk threads (Linux sets it per thread): the event loop, the query lane and
   * the database thread run first when they have work, bulk embedding takes the rest.
   */
  bulkNice?: number;
}

/** What a pool's worker is started with. */
export interface EmbedWorkerData {
  nice: number;
}

interface Job {
  texts: string[];
  urgent: boolean;
  resolve(vectors: number[][]): void;
  reject(e: unknown): void;
  /** Detaches the abort listener. */
  settle(): void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  id: number;
}

/**
 * One thread per core, at most 4 (each holds the model, about 120 MB). Not one core less for the
 * event loop: it is idle while embedding and the OS gives it a core when it wakes (/healthz p99
 * 35 ms at a load of 10 on two cores), while one thread on two cores measured 10-25% under the old
 * in-thread embedder in some runs on this shared machine (within noise in others).
 */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Embedding batches on worker threads, so the model never runs on the event loop. Threads start on
 * first use and load the model once each. A full queue makes callers wait (abortably); small
 * (urgent) batches, such as a search's query, go ahead of bulk work. Aborting a batch that is
 * running stops its thread at once (a fresh one takes its place), so a deadline or a cancellation
 * frees the core instead of finishing work nobody will read.
 */
export class EmbedPool {
  readonly size: number;
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Job[] = [];
  private readonly roomWaiters = new Set<() => void>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: EmbedPoolOptions) {
    this.size = options.size > 0 ? options.size : defaultPoolSize();
    this.slots = Array.from({ length: this.size + (options.queryLane ? 1 : 0) }, () => undefined);
  }

  /** Embeds one batch. `urgent` batches skip the queue's back and never wait for room. */
  async run(texts: string[], signal?: AbortSignal, urgent = false): Promise<number[][]> {
    if (this.closed) throw new ToolshedError("internal", "the embedding pool is closed");
    signal?.throwIfAborted();
    while (!urgent && this.queue.length >= this.options.maxQueued) await this.waitForRoom(signal);
    return new Promise<number[][]>((resolve, reject) => {
      const onAbort = () => this.abort(job, signal?.reason);
      const job: Job = {
        texts,
        urgent,
        resolve,
        reject,
        settle: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (urgent) {
        const firstBulk = this.queue.findIndex((j) => !j.urgent);
        this.queue.splice(firstBulk === -1 ? this.queue.length : firstBulk, 0, job);
      } else {
        this.queue.push(job);
      }
      this.dispatch();
    });
  }

  /** Threads started, batches running on them and batches waiting for one. */
  stats(): { threads: number; running: number; queued: number } {
    const live = this.slots.filter((s) => s !== undefined);
    return { threads: live.length, running: live.filter((s) => s.job).length, queued: this.queue.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopped = new ToolshedError("internal", "the embedding pool was closed");
    for (const job of this.queue.splice(0)) this.fail(job, stopped);
    await Promise.all(
      this.slots.map(async (slot, i) => {
        if (!slot) return;
        this.slots[i] = undefined;
        if (slot.job) this.fail(slot.job, stopped);
        await slot.worker.terminate();
      }),
    );
  }

  private waitForRoom(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.roomWaiters.delete(done);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.roomWaiters.delete(done);
        reject(asError(signal?.reason));
      };
      this.roomWaiters.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private dispatch(): void {
    // The query lane (the last slot) first, for urgent batches only (they are at the queue's front).
    for (let n = 0; n < this.slots.length && this.queue.length > 0 && !this.closed; n++) {
      const i = (n + this.size) % this.slots.length;
      if (this.slots[i]?.job) continue;
      if (i === this.size && !this.queue[0]!.urgent) continue;
      const slot = (this.slots[i] ??= this.spawn(i));
      const job = this.queue.shift()!;
      slot.job = job;
      slot.id = this.nextId++;
      slot.worker.ref(); // a running batch keeps the process alive; an idle pool does not
      slot.worker.postMessage({ id: slot.id, texts: job.texts } satisfies EmbedRequest);
    }
    if (this.queue.length < this.options.maxQueued) for (const wake of [...this.roomWaiters]) wake();
  }

  private spawn(i: number): Slot {
    // stdout of a stdio server carries protocol only: whatever a worker prints goes to stderr.
    const nice = i < this.size ? (this.options.bulkNice ?? 0) : 0;
    const worker = new Worker(this.options.file, {
      stdout: true,
      workerData: { nice } satisfies EmbedWorkerData,
    });
    worker.stdout.pipe(process.stderr, { end: false });
    const slot: Slot = { worker, job: undefined, id: 0 };
    worker.unref();
    worker.on("message", (reply: EmbedReply) => {
      const job = slot.job;
      if (!job || reply.id !== slot.id) return; // a reply for a batch aborted meanwhile
      slot.job = undefined;
      worker.unref();
      if ("error" in reply) this.fail(job, new ToolshedError("internal", `embedding failed: ${reply.error}`));
      else {
        job.settle();
        job.resolve(reply.vectors);
      }
      this.dispatch();
    });
    const lost = (why: string) => {
      if (this.slots[i] !== slot) return; // already replaced (aborted or closed)
      this.slots[i] = undefined;
      if (slot.job) {
        this.fail(
          slot.job,
          new ToolshedError("internal", `the embedding worker stopped (${why}); retry`, { retryable: true }),
        );
      }
      this.dispatch();
    };
    worker.on("error", (e) => lost(e.message));
    worker.on("exit", (code) => lost(`exit code ${code}`));
    return slot;
  }

  private abort(job: Job, reason: unknown): void {
    const queued = this.queue.indexOf(job);
    if (queued !== -1) this.queue.splice(queued, 1);
    const i = this.slots.findIndex((s) => s?.job === job);
    const slot = this.slots[i];
    if (slot) {
      // The model cannot be interrupted mid-batch: stop the thread, a new one takes the next batch.
      this.slots[i] = undefined;
      void slot.worker.terminate();
    }
    this.fail(job, reason);
    this.dispatch();
  }

  private fail(job: Job, e: unknown): void {
    job.settle();
    job.reject(e);
  }
}

/** An abort reason as an Error (the kit aborts with a ToolshedError; others may not). */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new ToolshedError("timeout", "the call was cancelled");
}
