import { z } from "@toolshed/server";
import { collectionNameSchema } from "../collections.js";
import { defineTool } from "../deps.js";
import { collectionMeant, notConfirmed } from "./shared.js";

export const deleteCollectionTool = defineTool({
  name: "delete_collection",
  title: "Delete a collection",
  description:
    "Deletes a collection and every document in it, permanently; there is no undo. Asks the user to confirm first (name and document count).",
  input: z.object({ name: collectionNameSchema }),
  output: z.object({
    name: z.string(),
    deletedDocuments: z.number().int(),
    declined: z.string().optional().describe("Set when the user did not confirm: nothing was deleted."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  render: (r) => r.declined ?? `Deleted collection ${r.name} and its ${r.deletedDocuments} documents.`,
  handler: async (input, ctx) => {
    const name = await collectionMeant(ctx, input.name);
    const { count } = await ctx.deps.store.collectionInfo(name);
    const what = `deleting collection '${name}' and its ${count} documents`;
    if (
      !(await ctx.confirm(`Delete collection '${name}' and all ${count} of its documents? There is no undo.`))
    )
      return { name, deletedDocuments: 0, declined: notConfirmed(what) };
    const { deleted } = await ctx.deps.store.deleteCollection(name);
    ctx.notify.resourceUpdated(`collection://${name}`);
    ctx.notify.resourceListChanged();
    return { name, deletedDocuments: deleted };
  },
});
