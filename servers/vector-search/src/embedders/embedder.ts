/** Turns texts into vectors. `id` is recorded on each collection it fills. */
export interface Embedder {
  /** e.g. `offline:universal-sentence-encoder`, `openai-compatible:text-embedding-3-small`. */
  readonly id: string;
  /** Vector length; may be learned on the first call (an HTTP embedder without a configured size). */
  dimension(signal?: AbortSignal): Promise<number>;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]>;
  close?(): Promise<void>;
}
