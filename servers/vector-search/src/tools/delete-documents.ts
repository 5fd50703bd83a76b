import { ToolshedError, z } from "@toolshed/server";
import { collectionNameSchema } from "../collections.js";
import { defineTool } from "../deps.js";
import { collectionMeant, compactJson, filterInput, notConfirmed } from "./shared.js";

export const deleteDocumentsTool = defineTool({
  name: "delete_documents",
  title: "Delete documents",
  description:
    "Deletes documents by ids and/or a metadata filter (both: documents matching both). Returns how many were deleted. A chunked document's pieces match the filter { field: 'source_id', op: 'eq', value: '<id>' }. With a filter, asks the user to confirm first (collection, filter and match count).",
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
  output: z.object({
    collection: z.string(),
    deleted: z.number().int(),
    declined: z.string().optional().describe("Set when the user did not confirm: nothing was deleted."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  render: (r) => r.declined ?? `Deleted ${r.deleted} documents from ${r.collection}.`,
  handler: async ({ ids, filter, ...input }, ctx) => {
    if (!ids && !filter)
      throw new ToolshedError("invalid_input", "give ids or a filter: which documents to delete");
    const collection = await collectionMeant(ctx, input.collection);
    if (filter) {
      // A filter may match far more than the model expects: a person confirms with the count.
      const { total } = await ctx.deps.store.get(collection, { ids, filter, limit: 0, offset: 0 });
      if (total === 0) return { collection, deleted: 0 };
      const what = `deleting ${total} documents of '${collection}' matching ${compactJson(filter)}`;
      if (
        !(await ctx.confirm(
          `Delete ${total} documents of collection '${collection}' matching ${compactJson(filter)}${ids ? ` (among ${ids.length} given ids)` : ""}? There is no undo.`,
        ))
      )
        return { collection, deleted: 0, declined: notConfirmed(what) };
    }
    const { deleted } = await ctx.deps.store.delete(collection, { ids, filter });
    ctx.notifyResourceUpdated(`collection://${collection}`);
    return { collection, deleted };
  },
});
