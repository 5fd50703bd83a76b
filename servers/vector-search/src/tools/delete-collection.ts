import { z } from "@toolshed/server";
import { collectionNameSchema } from "../collections.js";
import { defineTool } from "../deps.js";

export const deleteCollectionTool = defineTool({
  name: "delete_collection",
  title: "Delete a collection",
  description:
    "Deletes a collection and every document in it, permanently. Ask the user first; there is no undo.",
  input: z.object({ name: collectionNameSchema }),
  output: z.object({ name: z.string(), deletedDocuments: z.number().int() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  render: (r) => `Deleted collection ${r.name} and its ${r.deletedDocuments} documents.`,
  handler: async ({ name }, ctx) => {
    const { deleted } = await ctx.deps.store.deleteCollection(name);
    ctx.notifyResourceUpdated(`collection://${name}`);
    return { name, deletedDocuments: deleted };
  },
});
