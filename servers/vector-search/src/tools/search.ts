import { ToolshedError, z } from "@toolshed/server";
import { collectionNameSchema, embedderFor } from "../collections.js";
import { defineVectorTool } from "../deps.js";
import type { Hit } from "../store/index.js";
import { compactJson, filterInput, snippet, vectorSchema } from "./shared.js";

export const MAX_TOP_K = 100;

export const searchTool = defineVectorTool({
  name: "search",
  title: "Search a collection",
  description: `Finds the documents most like a query. mode 'vector' ranks by embedding similarity (meaning), 'keyword' by full-text match (exact words, English stemming), 'hybrid' (the default when you give text) fuses both by reciprocal rank and usually finds the most. Give query text, or your own vector for 'vector' mode. Narrow with a metadata filter; drop weak hits with min_score (cosine: similarity in [-1, 1]; keyword: rank in [0, 1); hybrid: fused score, at most 2/61 ≈ 0.033). Returns id, score, a text snippet and metadata per hit, best first; top_k at most ${MAX_TOP_K}. Example: { collection: 'notes', query: 'how do I reset my password', top_k: 5 }.`,
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
    const { collection, query, top_k: topK, filter } = input;
    if (query === undefined && input.vector === undefined) {
      throw new ToolshedError("invalid_input", "give query text or a vector to search with");
    }
    const mode = input.mode ?? (query !== undefined ? "hybrid" : "vector");
    if ((mode === "keyword" || mode === "hybrid") && query === undefined) {
      throw new ToolshedError(
        "invalid_input",
        `mode '${mode}' needs query text; use mode 'vector' with only a vector`,
      );
    }
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
    else hits = await store.searchHybrid(collection, query ?? "", await queryVector(), { topK, filter });
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
