import { z } from "@toolshed/server";
import { defineTool } from "../deps.js";

export const embedTextTool = defineTool({
  name: "embed_text",
  title: "Embed text",
  description:
    "Returns the vectors this server's embedder makes for up to 32 texts, with the embedder id and dimension. Useful to compare texts or to feed a collection created with embedder 'none'; search and upsert_documents embed for you.",
  input: z.object({
    texts: z
      .array(z.string().min(1).max(10_000))
      .min(1)
      .max(32)
      .describe("The texts (1-32, each up to 10,000 characters)."),
  }),
  output: z.object({
    embedder: z.string(),
    dimension: z.number().int(),
    vectors: z.array(z.array(z.number())),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    `${r.vectors.length} vectors of ${r.dimension} dimensions from ${r.embedder}: ${r.vectors
      .map(
        (v) =>
          `[${v
            .slice(0, 4)
            .map((x) => x.toFixed(4))
            .join(", ")}, …]`,
      )
      .join(" ")}`,
  handler: async ({ texts }, ctx) => {
    const vectors = await ctx.deps.embedder.embed(texts, ctx.signal);
    return { embedder: ctx.deps.embedder.id, dimension: vectors[0]?.length ?? 0, vectors };
  },
});
