import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ToolshedError, type ErrorCode } from "@toolshed/server";
import type { TaskRequest, TaskResult } from "./worker-tasks.js";

/** The built worker next to this module, or, when the sources run as TypeScript (tests), in dist. */
function workerEntry(): string {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const here = path.join(dir, "analytics-worker.js");
  return existsSync(here) ? here : path.join(dir, "..", "dist", "analytics-worker.js");
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  cleanup(): void;
}

/**
 * Runs CPU-heavy work (scanning a file's shape, rendering a chart) on a worker thread started on
 * first use, so no session waits on another's parse or render. A task past its deadline, or
 * cancelled, ends the worker (there is no other way to stop a synchronous loop); the next task
 * starts a fresh one.
 */
export class TaskThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly what: string) {}

  run<K extends TaskRequest["op"]>(
    request: Extract<TaskRequest, { op: K }>,
    options: { timeoutMs: number; signal?: AbortSignal | undefined },
  ): Promise<TaskResult[K]> {
    if (options.signal?.aborted)
      return Promise.reject(new ToolshedError("timeout", `${this.what} cancelled`));
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<TaskResult[K]>((resolve, reject) => {
      const stop = (error: ToolshedError) => {
        this.settle(id, error);
        this.restart(worker);
      };
      const onAbort = () => stop(new ToolshedError("timeout", `${this.what} cancelled`));
      const timer = setTimeout(
        () =>
          stop(
            new ToolshedError("timeout", `${this.what} took longer than ${options.timeoutMs} ms; stopped`),
          ),
        options.timeoutMs,
      );
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve,
        reject,
        timer,
        cleanup: () => options.signal?.removeEventListener("abort", onAbort),
      });
      worker.postMessage({ ...request, id });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    // Its stdout is captured and dropped: on a stdio server the process's stdout carries the protocol only.
    const worker = new Worker(workerEntry(), { stdout: true });
    worker.stdout.resume();
    // An idle worker must not keep the process alive; a pending task's timer does meanwhile.
    worker.unref();
    worker.on("message", (answer: { id: number; value?: unknown; code?: ErrorCode; message?: string }) => {
      this.settle(
        answer.id,
        answer.message === undefined
          ? undefined
          : new ToolshedError(answer.code ?? "internal", answer.message),
        answer.value,
      );
    });
    worker.on("error", () => this.restart(worker));
    worker.on("exit", () => this.restart(worker));
    return worker;
  }

  private settle(id: number, error: Error | undefined, value?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.cleanup();
    if (error) p.reject(error);
    else p.resolve(value);
  }

  /** Ends `worker` and fails the tasks it still held (they may be retried). */
  private restart(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    void worker.terminate();
    for (const id of [...this.pending.keys()]) {
      this.settle(
        id,
        new ToolshedError("upstream_unavailable", `the ${this.what} worker restarted; retry the call`),
      );
    }
  }
}
