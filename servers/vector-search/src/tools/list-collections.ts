import { z } from "@toolshed/server";
import { collectionInfoSchema, renderCollection } from "../collections.js";
import { defineTool } from "../deps.js";

export const listCollectionsTool = defineTool({
  name: "list_collections",
  title: "List collections",
  description:
    "Lists the vector collections with their document count, dimension, metric and embedder. Call it first to find collection names for search and upsert_documents.",
  input: z.object({}),
  output: z.object({ collections: z.array(collectionInfoSchema) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: ({ collections }) =>
    collections.length === 0
      ? "No collections yet; make one with create_collection."
      : collections.map(renderCollection).join("\n"),
  handler: async (_input, ctx) => ({ collections: await ctx.deps.store.listCollections() }),
});
