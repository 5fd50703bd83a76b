import { z } from "@toolshed/server";
import { collectionNameSchema } from "../collections.js";
import { defineTool } from "../deps.js";

/** Seconds between progress notifications while an index builds. */
export const BUILD_PROGRESS_INTERVAL_MS = 1000;

export const buildIndexTool = defineTool({
  name: "build_index",
  title: "Build a collection's vector index",
  description:
    "Builds (or rebuilds) the HNSW vector index of a collection: after a bulk load into one created with index 'deferred', or to apply new --hnsw-m / --hnsw-ef-construction settings. Reports progress while it builds (tens of seconds for 100,000 documents; more than --maintenance-work-mem-mb makes it far slower). Searches and writes wait while it runs on the embedded database; the server stays responsive.",
  input: z.object({ collection: collectionNameSchema }),
  output: z.object({
    collection: z.string(),
    documents: z.number().int(),
    index: z.literal("hnsw"),
    seconds: z.number().describe("How long the build took."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  task: "optional", // building a big index runs as a task for clients of the tasks extension
  render: (r) => `Built the HNSW index of ${r.collection} over ${r.documents} documents in ${r.seconds} s.`,
  handler: async ({ collection }, ctx) => {
    const { store } = ctx.deps;
    const { count } = await store.collectionInfo(collection);
    const started = Date.now();
    await ctx.progress(0, undefined, `building the HNSW index of ${collection} over ${count} documents`);
    // The build is one statement with no progress of its own to read on PGlite's one connection:
    // a heartbeat tells the client it is alive, and how long it has run.
    let beats = 0; // progress only ever increases
    const beat = setInterval(() => {
      const s = Math.round((Date.now() - started) / 1000);
      ctx.progress(++beats, undefined, `building the index: ${s} s`).catch(() => undefined);
    }, BUILD_PROGRESS_INTERVAL_MS);
    try {
      await store.buildIndex(collection);
    } finally {
      clearInterval(beat);
    }
    const seconds = +((Date.now() - started) / 1000).toFixed(1);
    await ctx.progress(beats + 1, beats + 1, `index built in ${seconds} s`);
    ctx.notifyResourceUpdated(`collection://${collection}`);
    return { collection, documents: count, index: "hnsw" as const, seconds };
  },
});
