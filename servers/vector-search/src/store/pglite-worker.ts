/**
 * A worker thread that owns the embedded PGlite database, so no statement (an HNSW index build, a
 * write into a live index, a big scan) runs on the server's event loop. It answers each request in
 * the order sent; the server side (pglite-thread.ts) keeps a transaction's statements together.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openPGliteInProcess, type PGliteOptions } from "./pglite-client.js";
import type { SqlClient } from "./sql.js";

export interface PGliteWorkerData {
  dataDir: string | undefined;
  options: PGliteOptions;
}

export type PGliteRequest =
  { id: number; op: "query"; text: string; params: unknown[] } | { id: number; op: "close" };

/** A PostgreSQL error's fields, as far as a message can carry them. */
export interface WireError {
  message: string;
  code?: string;
  detail?: string;
  hint?: string;
}

export type PGliteReply =
  | { id: number; rows: unknown[] }
  | { id: number; error: WireError }
  | { id: 0; ready: true }
  | { id: 0; error: WireError };

const { dataDir, options } = workerData as PGliteWorkerData;
const port = parentPort!;

function wire(e: unknown): WireError {
  if (!(e instanceof Error)) return { message: String(e) };
  const { code, detail, hint } = e as Error & Partial<Record<"code" | "detail" | "hint", string>>;
  return { message: e.message, code, detail, hint };
}

let sql: SqlClient | undefined;
try {
  sql = await openPGliteInProcess(dataDir, options);
  port.postMessage({ id: 0, ready: true } satisfies PGliteReply);
} catch (e) {
  port.postMessage({ id: 0, error: wire(e) } satisfies PGliteReply);
}

port.on("message", (req: PGliteRequest) => {
  void (async (): Promise<PGliteReply> => {
    try {
      if (!sql) throw new Error("the database did not open");
      if (req.op === "close") {
        await sql.close();
        return { id: req.id, rows: [] };
      }
      return { id: req.id, rows: await sql.query(req.text, req.params) };
    } catch (e) {
      return { id: req.id, error: wire(e) };
    }
  })().then((reply) => port.postMessage(reply));
});
