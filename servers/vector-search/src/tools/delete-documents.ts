import { ToolshedError, z } from "@toolshed/server";
import { collectionNameSchema } from "../collections.js";
import { defineTool } from "../deps.js";
import { filterInput } from "./shared.js";

export const deleteDocumentsTool = defineTool({
  name: "delete_documents",
  title: "Delete documents",
  description:
    "Deletes documents by ids and/or a metadata filter (both: documents matching both). Returns how many were deleted. A chunked document's pieces match the filter { field: 'source_id', op: 'eq', value: '<id>' }.",
  input: z.object({
    collection: collectionNameSchema,
    ids: z
      .array(z.string().min(1, "an id is empty; give the ids of documents to delete"))
      .min(1, "ids is empty: give at least one id, or a filter, or delete_collection to remove all")
      .max(1000, "at most 1000 ids per call: split them over several calls, or use a filter")
      .optional()
      .describe("Delete these ids."),
    filter: filterInput.optional(),
  }),
  output: z.object({ collection: z.string(), deleted: z.number().int() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  render: (r) => `Deleted ${r.deleted} documents from ${r.collection}.`,
  handler: async ({ collection, ids, filter }, ctx) => {
    if (!ids && !filter)
      throw new ToolshedError("invalid_input", "give ids or a filter: which documents to delete");
    const { deleted } = await ctx.deps.store.delete(collection, { ids, filter });
    ctx.notifyResourceUpdated(`collection://${collection}`);
    return { collection, deleted };
  },
});
