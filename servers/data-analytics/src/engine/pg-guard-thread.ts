import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ToolshedError, type ErrorCode } from "@toolshed/server";
import type { IndexColumns } from "./pg-index-candidates.js";

/** Longer than any honest statement takes to parse (a hostile 100 KB one: about 0.6 s). */
const CHECK_TIMEOUT_MS = 5_000;
/**
 * Longest a fresh worker may take to load the parser. Not part of a check's deadline: on a busy
 * machine (a pod starting beside others) loading takes seconds, which says nothing about the SQL.
 */
const START_TIMEOUT_MS = 60_000;

/** The built worker next to this module, or, when the sources run as TypeScript (tests), in dist. */
function workerEntry(): string {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const here = path.join(dir, "pg-guard-worker.js");
  return existsSync(here) ? here : path.join(dir, "..", "..", "dist", "engine", "pg-guard-worker.js");
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Runs checkPostgresSelect on a worker thread: PostgreSQL's parser (WebAssembly) and the tree walk
 * cost up to about half a second on a hostile statement, which must not stall every other session.
 * A check that outlasts its deadline ends the worker; the next check starts a fresh one. The
 * deadline runs from when the worker has loaded the parser, so a slow start is not the SQL's fault.
 */
export class PgGuardThread {
  private worker: Worker | undefined;
  /** Whether `worker` has loaded the parser (it says so once). */
  private ready = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly checkTimeoutMs = CHECK_TIMEOUT_MS) {}

  async check(sql: string): Promise<void> {
    await this.ask(sql);
  }

  /** Checks `sql` as check() does, then reads where an index could serve it (pg-index-candidates.ts). */
  async indexColumns(sql: string): Promise<IndexColumns> {
    return (await this.ask(sql, "columns")) as IndexColumns;
  }

  private ask(sql: string, op?: "columns"): Promise<unknown> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = this.ready
        ? this.deadline(id, worker)
        : setTimeout(() => this.restart(worker), START_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, sql, ...(op ? { op } : {}) });
    });
  }

  private deadline(id: number, worker: Worker): NodeJS.Timeout {
    return setTimeout(() => {
      this.settle(id, new ToolshedError("invalid_input", "the SQL took too long to check; simplify it"));
      this.restart(worker);
    }, this.checkTimeoutMs);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    // Its stdout is captured and dropped: on a stdio server the process's stdout carries the
    // protocol only, and the parser's runtime may print.
    const worker = new Worker(workerEntry(), { stdout: true });
    worker.stdout.resume();
    // An idle worker must not keep the process alive; a pending check's timer does meanwhile.
    worker.unref();
    this.ready = false;
    worker.on(
      "message",
      (answer: { id?: number; ready?: true; code?: ErrorCode; message?: string; value?: unknown }) => {
        if (answer.ready) {
          if (this.worker !== worker) return;
          // The checks waiting for the parser get their deadline now.
          this.ready = true;
          for (const [id, p] of this.pending) {
            clearTimeout(p.timer);
            p.timer = this.deadline(id, worker);
          }
          return;
        }
        if (answer.id === undefined) return;
        this.settle(
          answer.id,
          answer.message ? new ToolshedError(answer.code ?? "internal", answer.message) : undefined,
          answer.value,
        );
      },
    );
    worker.on("error", () => this.restart(worker));
    worker.on("exit", () => this.restart(worker));
    return worker;
  }

  private settle(id: number, error: Error | undefined, value?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  /** Ends `worker` and fails the checks it still held (they may be retried). */
  private restart(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    void worker.terminate();
    for (const id of [...this.pending.keys()]) {
      this.settle(id, new ToolshedError("upstream_unavailable", "the SQL checker restarted; retry the call"));
    }
  }
}
