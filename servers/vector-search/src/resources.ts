import { defineResource } from "./deps.js";

export const collectionResource = defineResource({
  name: "collection",
  title: "Collection",
  description:
    "One collection as JSON: its settings and count, and its first 20 documents (id, text, metadata).",
  mimeType: "application/json",
  uriTemplate: "collection://{name}",
  list: async (ctx) =>
    (await ctx.deps.store.listCollections()).map((c) => ({
      uri: `collection://${c.name}`,
      name: c.name,
      description: `${c.count} documents, ${c.dimension} dims, ${c.embedder}`,
      mimeType: "application/json",
    })),
  read: async (uri, variables, ctx) => {
    const name = String(variables.name);
    const info = await ctx.deps.store.collectionInfo(name);
    const sample = await ctx.deps.store.get(name, { limit: 20, offset: 0 });
    return [
      {
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify({ ...info, sample: sample.documents }, null, 2),
      },
    ];
  },
});
