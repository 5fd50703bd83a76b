import { ToolshedError } from "@toolshed/server";
import { createHttpClient, type HttpClient } from "@toolshed/http-client";
import { z } from "zod";
import type { Embedder } from "./embedder.js";

const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int(), embedding: z.array(z.number()) })),
});

export interface OpenAICompatibleOptions {
  /** Base URL of the API, e.g. https://api.openai.com/v1 or http://localhost:11434/v1. */
  url: string;
  model: string;
  apiKey?: string;
  /** Known vector length; otherwise learned from the first response. */
  dimension?: number;
  /** Texts per request. */
  batchSize: number;
  /** Allow loopback and private-network addresses (a local Ollama, vLLM, TEI or LM Studio). */
  allowPrivateNetwork: boolean;
  timeoutMs: number;
}

/**
 * Any server that speaks OpenAI's `POST /embeddings` (OpenAI, Ollama, vLLM, TEI, LM Studio), through
 * the shared HTTP client: batched, retried with backoff (embedding is idempotent), breaker, SSRF guard.
 */
export class OpenAICompatibleEmbedder implements Embedder {
  readonly id: string;
  private readonly http: HttpClient;
  private dim: number | undefined;

  constructor(private readonly options: OpenAICompatibleOptions) {
    this.id = `openai-compatible:${options.model}`;
    this.dim = options.dimension;
    const base = options.url.endsWith("/") ? options.url : `${options.url}/`;
    this.http = createHttpClient({
      name: "embeddings",
      baseUrl: base,
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      allowPrivateNetwork: options.allowPrivateNetwork,
      timeouts: { totalMs: options.timeoutMs },
      retry: { attempts: 4 },
    });
  }

  async dimension(signal?: AbortSignal): Promise<number> {
    if (this.dim === undefined) await this.embed(["dimension probe"], signal);
    return this.dim ?? 0;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.options.batchSize) {
      const batch = texts.slice(i, i + this.options.batchSize);
      const res = await this.http.post("embeddings", {
        json: { model: this.options.model, input: batch },
        expect: responseSchema,
        idempotent: true,
        signal,
      });
      const vectors = [...res.data.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== batch.length) {
        throw new ToolshedError(
          "upstream_error",
          `embeddings: asked for ${batch.length} vectors, got ${vectors.length}`,
        );
      }
      for (const v of vectors) {
        this.dim ??= v.length;
        if (v.length !== this.dim) {
          throw new ToolshedError(
            "upstream_error",
            `embeddings: model '${this.options.model}' returned a ${v.length}-dimension vector, expected ${this.dim}`,
          );
        }
      }
      out.push(...vectors);
    }
    return out;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
