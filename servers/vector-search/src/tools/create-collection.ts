import { ToolshedError, z } from "@toolshed/server";
import {
  collectionInfoSchema,
  collectionNameSchema,
  metadataSchemaSchema,
  NO_EMBEDDER,
  renderCollection,
} from "../collections.js";
import { defineTool } from "../deps.js";
import { MAX_DIMENSION, METRICS } from "../store/index.js";

export const createCollectionTool = defineTool({
  name: "create_collection",
  title: "Create a collection",
  description:
    "Creates an empty collection of documents with vectors, an HNSW index and full-text search. With embedder 'server' (the default) text is embedded by this server's embedder and the dimension follows from it; with embedder 'none' you supply vectors of the given dimension. The embedder and dimension are recorded and enforced. For a bulk load pass index 'deferred', upsert everything, then call build_index. Example: { name: 'notes' } or { name: 'images', embedder: 'none', dimension: 768, metric: 'cosine' }.",
  input: z.object({
    name: collectionNameSchema,
    embedder: z
      .enum(["server", "none"])
      .default("server")
      .describe("'server': embed text with this server's embedder; 'none': callers supply every vector."),
    dimension: z
      .number()
      .int()
      .min(1)
      .max(MAX_DIMENSION)
      .optional()
      .describe("Vector length; required with embedder 'none', checked against the embedder otherwise."),
    metric: z
      .enum(METRICS)
      .default("cosine")
      .describe(
        "Distance: cosine (score = similarity), l2 (score = 1/(1+distance)) or inner_product (score = dot product).",
      ),
    metadata_schema: metadataSchemaSchema.optional(),
    description: z.string().max(1000).optional().describe("What the collection holds, shown in listings."),
    index: z
      .enum(["hnsw", "deferred"])
      .default("hnsw")
      .describe(
        "'hnsw' (default): build the vector index now and keep it live on every write. 'deferred': no vector index until build_index, for a bulk load (writes many times faster; searches scan every row until then).",
      ),
  }),
  output: collectionInfoSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  render: (c) => `Created ${renderCollection(c)}`,
  handler: async (input, ctx) => {
    let embedder = NO_EMBEDDER;
    let dimension = input.dimension;
    if (input.embedder === "server") {
      embedder = ctx.deps.embedder.id;
      const dim = await ctx.deps.embedder.dimension(ctx.signal);
      if (dimension !== undefined && dimension !== dim) {
        throw new ToolshedError(
          "invalid_input",
          `dimension ${dimension} does not match the server's embedder ${embedder} (${dim} dimensions); leave dimension out, or use embedder 'none' to supply your own vectors`,
        );
      }
      dimension = dim;
    } else if (dimension === undefined) {
      throw new ToolshedError(
        "invalid_input",
        "embedder 'none' needs a dimension: the length of the vectors you will supply",
      );
    }
    const created = await ctx.deps.store.createCollection({
      name: input.name,
      dimension,
      metric: input.metric,
      embedder,
      metadataSchema: input.metadata_schema,
      description: input.description,
      index: input.index === "hnsw",
    });
    ctx.notify.resourceListChanged();
    return created;
  },
});
