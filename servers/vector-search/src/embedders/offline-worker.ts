/**
 * A worker thread that embeds with the offline model, so the server's event loop never runs the
 * model: it answers { id, vectors } or { id, error } to each { id, texts } it is sent, in order.
 */
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import type { EmbedWorkerData } from "./pool.js";
import { loadUseModel, type UseModel } from "./use-model.js";

const { nice } = (workerData ?? { nice: 0 }) as EmbedWorkerData;
if (nice > 0) {
  try {
    setPriority(nice); // this thread only, on Linux
  } catch {
    // not permitted here: run at the process's priority
  }
}

export interface EmbedRequest {
  id: number;
  texts: string[];
}

/**
 * Vectors come back as plain arrays (structured clone). A round trip of a batch of 4 costs about
 * 0.1 ms of CPU on both threads together, against about 120 ms to embed the 4; sending them as a
 * transferred Float32Array buffer measured no cheaper once turned back into arrays (2026-12-07).
 */
export type EmbedReply = { id: number; vectors: number[][] } | { id: number; error: string };

let model: Promise<UseModel> | undefined;

parentPort?.on("message", (req: EmbedRequest) => {
  void (async (): Promise<EmbedReply> => {
    try {
      model ??= loadUseModel().catch((e: unknown) => {
        model = undefined; // the next request tries again
        throw e;
      });
      // An empty text has no tokens; the model wants at least one.
      const vectors = await (await model).embed(req.texts.map((t) => t || " "));
      return { id: req.id, vectors };
    } catch (e) {
      return { id: req.id, error: e instanceof Error ? e.message : String(e) };
    }
  })().then((reply) => parentPort?.postMessage(reply));
});
