/**
 * A worker thread that embeds with the offline model, so the server's event loop never runs the
 * model: it answers { id, vectors } or { id, error } to each { id, texts } it is sent, in order.
 */
import { parentPort } from "node:worker_threads";
import { loadUseModel, type UseModel } from "./use-model.js";

export interface EmbedRequest {
  id: number;
  texts: string[];
}

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
