import { ToolshedError, z } from "@toolshed/server";
import { collectionNameSchema, embedderFor } from "../collections.js";
import { defineTool } from "../deps.js";
import type { Hit } from "../store/index.js";
import { collectionMeant, compactJson, filterInput, snippet, vectorSchema } from "./shared.js";

export const MAX_TOP_K = 100;

export const searchTool = defineTool({
  name: "search",
  title: "Search a collection",
  description: `Finds the documents most like a query. mode 'vector' ranks by embedding similarity (meaning), 'keyword' by full-text match (English stemming, web-search syntax: "exact phrase", -exclude, or; ranked by how many of the query's words a document has), 'hybrid' (the default when you give text) fuses both by weighted reciprocal rank (weights), then scores the fused candidates again on both signals (rerank, on by default), and usually finds the most. Give query text, or your own vector for 'vector' mode. Narrow with a metadata filter; drop weak hits with min_score (cosine: similarity in [-1, 1]; keyword: score in [0, 1); hybrid: in [0, 1], or the fused sum of weight/(60 + rank) with rerank false). Returns id, score, a text snippet and metadata per hit, best first; top_k at most ${MAX_TOP_K}. An unknown collection resembling several: asks the user which one. Example: { collection: 'notes', query: 'how do I reset my password', top_k: 5 }.`,
  input: z.object({
    collection: collectionNameSchema,
    query: z.string().min(1).max(10_000).optional().describe("What to look for, in words."),
    vector: vectorSchema
      .optional()
      .describe("Search with your own vector instead (of the collection's dimension)."),
    mode: z
      .enum(["vector", "keyword", "hybrid"])
      .optional()
      .describe("vector, keyword or hybrid; default hybrid for query text, vector for a vector."),
    top_k: z.number().int().min(1).max(MAX_TOP_K).default(5).describe(`How many hits (1-${MAX_TOP_K}).`),
    filter: filterInput.optional(),
    min_score: z.number().optional().describe("Leave out hits scoring below this."),
    weights: z
      .object({
        vector: z.number().min(0).max(10).describe("Weight of the vector (meaning) list."),
        keyword: z.number().min(0).max(10).describe("Weight of the keyword (exact words) list."),
      })
      .optional()
      .describe(
        "hybrid only: how much each list counts in the fusion; default { vector: 1, keyword: 1 }. Raise keyword for names, codes and exact phrases, vector for loosely worded questions.",
      ),
    rerank: z
      .boolean()
      .default(true)
      .describe(
        "hybrid only: score the fused candidates again on both signals' own scores (exact similarity and keyword score, each scaled to [0, 1] over the candidates, weighted; candidates with the query's identifiers (camelCase, dotted.names, snake_case), quoted phrases or whole short query as one name ('KeyboardEvent code' as KeyboardEvent.code) verbatim first), so scores are in [0, 1]; false keeps the weighted reciprocal-rank order and scores.",
      ),
  }),
  output: z.object({
    collection: z.string(),
    mode: z.enum(["vector", "keyword", "hybrid"]),
    results: z.array(
      z.object({
        id: z.string(),
        score: z.number(),
        snippet: z.string().nullable(),
        metadata: z.record(z.string(), z.unknown()),
      }),
    ),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    r.results.length === 0
      ? `No matches in ${r.collection} (${r.mode}).`
      : [
          `${r.results.length} hits in ${r.collection} (${r.mode}):`,
          ...r.results.map(
            (h, i) =>
              `${i + 1}. ${h.id} (${h.score.toFixed(4)}) ${h.snippet ?? ""}${Object.keys(h.metadata).length ? ` ${compactJson(h.metadata)}` : ""}`,
          ),
        ].join("\n"),
  handler: async (input, ctx) => {
    const { store } = ctx.deps;
    const { query, top_k: topK, filter } = input;
    if (query === undefined && input.vector === undefined) {
      throw new ToolshedError("invalid_input", "give query text or a vector to search with");
    }
    const mode = input.mode ?? (query !== undefined ? "hybrid" : "vector");
    if (mode !== "hybrid" && input.weights) {
      throw new ToolshedError(
        "invalid_input",
        `weights apply to mode 'hybrid' only; drop them or use mode 'hybrid' (this search is '${mode}')`,
      );
    }
    if ((mode === "keyword" || mode === "hybrid") && query === undefined) {
      throw new ToolshedError(
        "invalid_input",
        `mode '${mode}' needs query text; use mode 'vector' with only a vector`,
      );
    }
    const collection = await collectionMeant(ctx, input.collection);
    const queryVector = async () => {
      if (input.vector) return input.vector;
      // Only text needs the collection's embedder; a caller's vector is checked by the store.
      const embedder = await embedderFor(await store.collection(collection), ctx.deps, ctx.signal);
      const [v] = await embedder.embed([query ?? ""], ctx.signal);
      return v ?? [];
    };
    let hits: Hit[];
    if (mode === "keyword") hits = await store.searchKeyword(collection, query ?? "", { topK, filter });
    else if (mode === "vector")
      hits = await store.searchVector(collection, await queryVector(), { topK, filter });
    else {
      hits = await store.searchHybrid(collection, query ?? "", await queryVector(), {
        topK,
        filter,
        weights: input.weights,
        rerank: input.rerank,
      });
    }
    const min = input.min_score;
    return {
      collection,
      mode,
      results: hits
        .filter((h) => min === undefined || h.score >= min)
        .map((h) => ({ id: h.id, score: h.score, snippet: snippet(h.text), metadata: h.metadata })),
    };
  },
});
