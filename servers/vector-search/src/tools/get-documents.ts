import { z } from "@toolshed/server";
import { collectionNameSchema } from "../collections.js";
import { defineTool } from "../deps.js";
import { compactJson, filterInput, snippet } from "./shared.js";

export const getDocumentsTool = defineTool({
  name: "get_documents",
  title: "Get documents",
  description:
    "Fetches documents by ids, or those matching a metadata filter, or all, ordered by id and paged with limit/offset (at most 100 per page). Returns full text and metadata; vectors only when include_vectors is true. total says how many match.",
  input: z.object({
    collection: collectionNameSchema,
    ids: z
      .array(z.string())
      .min(1)
      .max(1000)
      .optional()
      .describe("Fetch these ids (missing ones are skipped)."),
    filter: filterInput.optional(),
    limit: z.number().int().min(1).max(100).default(20).describe("Documents per page (max 100)."),
    offset: z.number().int().min(0).default(0).describe("Documents to skip, for paging."),
    include_vectors: z.boolean().default(false).describe("Also return each document's vector."),
  }),
  output: z.object({
    collection: z.string(),
    total: z.number().int(),
    offset: z.number().int(),
    documents: z.array(
      z.object({
        id: z.string(),
        text: z.string().nullable(),
        metadata: z.record(z.string(), z.unknown()),
        vector: z.array(z.number()).optional(),
      }),
    ),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    [
      `${r.documents.length} of ${r.total} documents in ${r.collection} (from ${r.offset})${r.offset + r.documents.length < r.total ? `; next page: offset ${r.offset + r.documents.length}` : ""}`,
      ...r.documents.map((d) => `- ${d.id}: ${snippet(d.text) ?? "(no text)"} ${compactJson(d.metadata)}`),
    ].join("\n"),
  handler: async (input, ctx) => {
    const r = await ctx.deps.store.get(input.collection, {
      ids: input.ids,
      filter: input.filter,
      limit: input.limit,
      offset: input.offset,
      includeVectors: input.include_vectors,
    });
    return { collection: input.collection, total: r.total, offset: input.offset, documents: r.documents };
  },
});
