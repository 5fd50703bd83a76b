/** Turns texts into vectors. `id` is recorded on each collection it fills. */
export interface Embedder {
  /** e.g. `offline:universal-sentence-encoder`, `openai-compatible:text-embedding-3-small`. */
  readonly id: string;
  /** Vector length; may be learned on the first call (an HTTP embedder without a configured size). */
  dimension(signal?: AbortSignal): Promise<number>;
  /**
   * `onBatch`, when the embedder works in batches, hears each batch's vectors as it finishes
   * (`start` is the index of its first text), so a caller can write them while the rest embed.
   */
  embed(
    texts: readonly string[],
    signal?: AbortSignal,
    onBatch?: (start: number, vectors: number[][]) => void,
  ): Promise<number[][]>;
  close?(): Promise<void>;
}
