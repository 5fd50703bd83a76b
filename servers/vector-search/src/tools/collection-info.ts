import { z } from "@toolshed/server";
import { collectionInfoSchema, collectionNameSchema, renderCollection } from "../collections.js";
import { defineTool } from "../deps.js";
import { collectionMeant } from "./shared.js";

export const collectionInfoTool = defineTool({
  name: "collection_info",
  title: "Describe a collection",
  description:
    "Shows one collection: document count, dimension, metric, embedder, metadata schema and index state. A name that matches none but resembles several: asks the user which one.",
  input: z.object({ name: collectionNameSchema }),
  output: collectionInfoSchema,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: renderCollection,
  handler: async ({ name }, ctx) => ctx.deps.store.collectionInfo(await collectionMeant(ctx, name)),
});
