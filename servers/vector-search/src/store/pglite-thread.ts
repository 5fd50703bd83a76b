import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { PGliteOptions } from "./pglite-client.js";
import type { PGliteReply, PGliteRequest, PGliteWorkerData, WireError } from "./pglite-worker.js";
import { vectorBytes, type SqlClient, type VectorInput } from "./sql.js";

/** A PostgreSQL error from the database thread, with its SQLSTATE `code` like `pg`'s and PGlite's. */
export class PGliteThreadError extends Error {
  readonly code?: string;
  readonly detail?: string;
  readonly hint?: string;
  constructor(e: WireError) {
    super(e.message);
    this.name = "DatabaseError";
    this.code = e.code;
    this.detail = e.detail;
    this.hint = e.hint;
  }
}

interface Pending {
  resolve(rows: unknown[]): void;
  reject(e: unknown): void;
}

/**
 * Embedded PGlite on its own worker thread. One connection, as PGlite has: statements run one at a
 * time in the order sent, and a transaction holds the connection from BEGIN to COMMIT (others wait
 * their turn, first come first served). The event loop only posts messages.
 */
class PGliteThreadSql implements SqlClient {
  readonly kind = "pglite" as const;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The tail of the queue for the connection. */
  private turn: Promise<void> = Promise.resolve();
  private lost: Error | undefined;

  constructor(private readonly worker: Worker) {
    worker.on("message", (reply: PGliteReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ("error" in reply) p.reject(new PGliteThreadError(reply.error));
      else if ("rows" in reply) p.resolve(reply.rows);
    });
    const stop = (why: string) => {
      this.lost ??= new Error(`the database thread stopped (${why}); restart the server`);
      for (const p of this.pending.values()) p.reject(this.lost);
      this.pending.clear();
    };
    worker.on("error", (e) => stop(e.message));
    worker.on("exit", (code) => stop(`exit code ${code}`));
  }

  query<R>(text: string, params: unknown[] = []): Promise<R[]> {
    return this.exclusive(() => this.send<R>(text, params));
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.send("BEGIN");
      const tx: SqlClient = {
        kind: "pglite",
        query: (text, params) => this.send(text, params),
        transaction: (inner) => inner(tx),
        vectorParam: (v) => this.vectorParam(v),
        close: () => Promise.resolve(),
      };
      try {
        const out = await fn(tx);
        await this.send("COMMIT");
        return out;
      } catch (e) {
        await this.send("ROLLBACK").catch(() => undefined);
        throw e;
      }
    });
  }

  vectorParam(v: VectorInput): unknown {
    return vectorBytes(v);
  }

  async close(): Promise<void> {
    if (!this.lost) {
      await this.exclusive(() => this.request({ id: this.nextId++, op: "close" })).catch(() => undefined);
    }
    await this.worker.terminate();
  }

  /** Runs `fn` when the connection is free; the next waiter goes when it settles. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn);
    this.turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private send<R>(text: string, params: unknown[] = []): Promise<R[]> {
    return this.request({ id: this.nextId++, op: "query", text, params }) as Promise<R[]>;
  }

  private request(req: PGliteRequest): Promise<unknown[]> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.worker.ref(); // a statement in flight keeps the process alive; an idle database does not
      this.worker.postMessage(req);
    });
  }
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) with pgvector on its own worker thread, persisted in
 * `dataDir` (in memory when undefined).
 */
export async function openPGlite(
  dataDir: string | undefined,
  options: PGliteOptions = {},
): Promise<SqlClient> {
  // stdout of a stdio server carries protocol only: whatever the thread prints goes to stderr.
  const worker = new Worker(workerFile(), {
    workerData: { dataDir, options } satisfies PGliteWorkerData,
    stdout: true,
  });
  worker.stdout.pipe(process.stderr, { end: false });
  let settle: ((r: PGliteReply | Error) => void) | undefined;
  const onError = (e: Error) => settle?.(e);
  const onExit = (code: number) =>
    settle?.(new Error(`the database thread exited (code ${code}) while opening`));
  const opened = await new Promise<PGliteReply | Error>((resolve) => {
    settle = resolve;
    worker.once("message", resolve);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
  worker.off("error", onError);
  worker.off("exit", onExit);
  if (opened instanceof Error) {
    await worker.terminate();
    throw opened;
  }
  if ("error" in opened) {
    await worker.terminate();
    throw new PGliteThreadError(opened.error);
  }
  worker.unref();
  return new PGliteThreadSql(worker);
}

/** dist/store/pglite-worker.js, from the package or from src/ (tests run from source after a build). */
function workerFile(): URL {
  for (const rel of ["./pglite-worker.js", "../../dist/store/pglite-worker.js"]) {
    const file = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(file))) return file;
  }
  throw new Error("pglite-worker.js not found next to the store or in dist/; run the build first");
}
