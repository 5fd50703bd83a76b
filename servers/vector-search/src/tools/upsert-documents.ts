import { randomUUID } from "node:crypto";
import { ToolshedError, z } from "@toolshed/server";
import { chunkText, overlapProblem } from "../chunk.js";
import { checkMetadata, collectionNameSchema, embedderFor } from "../collections.js";
import { defineTool } from "../deps.js";
import type { Embedder } from "../embedders/index.js";
import type { NewDocument } from "../store/index.js";
import { PGLITE_INDEXED_BATCH_ROWS } from "../store/store.js";
import { metadataSchema, noNul, vectorSchema } from "./shared.js";

export const MAX_DOCUMENTS = 1000;
export const MAX_TEXT_CHARS = 100_000;
/** Calls with more documents than this send progress notifications. */
export const PROGRESS_THRESHOLD = 100;

const documentSchema = z
  .object({
    id: noNul(z.string().min(1).max(512), "id")
      .optional()
      .describe("Stable id; upserting the same id replaces it. Generated when omitted."),
    text: noNul(z.string().max(MAX_TEXT_CHARS), "text")
      .optional()
      .describe("The document text: embedded (unless vector is given) and keyword-indexed."),
    vector: vectorSchema
      .optional()
      .describe("Your own vector, of the collection's dimension; skips embedding."),
    metadata: metadataSchema.optional(),
  })
  .describe("One document: text and/or vector, optional id and metadata.");

export const upsertDocumentsTool = defineTool({
  name: "upsert_documents",
  title: "Add or replace documents",
  description: `Adds documents to a collection, or replaces those whose id exists (idempotent: the same call twice leaves the same state). Each document needs text (embedded by the collection's embedder) or a vector (yours). Long texts can be split with chunk: { size, overlap } (overlap under half the size) into documents '<id>#<n>' carrying metadata source_id and chunk; re-upserting the id replaces all its old chunks. At most ${MAX_DOCUMENTS} documents and ${MAX_TEXT_CHARS} characters of text each per call, and the server's caps on chunks per document and per call (1,000 and 2,000 by default; split a bigger call); calls over ${PROGRESS_THRESHOLD} documents report progress. Every document is checked before anything is written: one bad document fails the call and writes nothing. Writes into an embedded (PGlite) collection with a live index commit a few rows at a time, as their embeddings arrive, so searches go on meanwhile: a deadline, a cancellation or a failure keeps the documents written so far; repeat the call (it is idempotent).`,
  input: z.object({
    collection: collectionNameSchema,
    documents: z.array(documentSchema).min(1).max(MAX_DOCUMENTS).describe("The documents to write."),
    chunk: z
      .object({
        size: z.number().int().min(100).max(20_000).describe("Most characters per chunk."),
        overlap: z
          .number()
          .int()
          .min(0)
          .max(5_000)
          .default(0)
          .describe("Characters each chunk repeats from the previous one; less than half of size."),
      })
      .optional()
      .describe("Split texts longer than size into overlapping chunks, each its own document."),
  }),
  output: z.object({
    collection: z.string(),
    upserted: z.number().int().describe("Documents written, chunks counted one by one."),
    ids: z.array(z.string()).describe("Ids written, in order (the first 100)."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  task: "optional", // a bulk upsert with embedding runs as a task for clients of the tasks extension
  render: (r) =>
    `Upserted ${r.upserted} documents into ${r.collection}: ${r.ids.slice(0, 10).join(", ")}${r.ids.length > 10 ? ", …" : ""}`,
  handler: async ({ collection, documents, chunk }, ctx) => {
    const { store } = ctx.deps;
    const problem = chunk && overlapProblem(chunk.size, chunk.overlap);
    if (problem) throw new ToolshedError("invalid_input", problem);
    const { maxChunksPerDocument, maxChunksPerCall } = ctx.config;
    const info = await store.collection(collection);
    const progress = documents.length > PROGRESS_THRESHOLD;
    const total = documents.length * 2; // embedding, then writing
    if (progress) await ctx.progress(0, total, `upserting ${documents.length} documents into ${collection}`);

    // Expand documents into rows (chunking), remembering which need embedding.
    const rows: (Omit<NewDocument, "vector"> & { vector?: readonly number[] })[] = [];
    const chunkedSources: string[] = [];
    documents.forEach((d, i) => {
      if (d.text === undefined && d.vector === undefined) {
        throw new ToolshedError("invalid_input", `document ${i} has neither text nor vector; give one`);
      }
      const id = d.id ?? randomUUID();
      const metadata = d.metadata ?? {};
      checkMetadata(info.metadataSchema, id, metadata);
      if (chunk && d.text !== undefined && d.vector === undefined && d.text.length > chunk.size) {
        chunkedSources.push(id);
        const pieces = chunkText(d.text, chunk.size, chunk.overlap, maxChunksPerDocument);
        if (pieces.length > maxChunksPerDocument) {
          throw new ToolshedError(
            "invalid_input",
            `document ${i} ('${id}') would be cut into more than ${maxChunksPerDocument} chunks of ${chunk.size} characters (--max-chunks-per-document); use a larger chunk.size, a smaller overlap, split the text into several documents, or raise the flag (TOOLSHED_MAX_CHUNKS_PER_DOCUMENT)`,
          );
        }
        pieces.forEach((text, n) =>
          rows.push({ id: `${id}#${n}`, text, metadata: { ...metadata, source_id: id, chunk: n } }),
        );
      } else {
        rows.push({ id, text: d.text ?? null, metadata, vector: d.vector });
      }
      if (rows.length > maxChunksPerCall) {
        throw new ToolshedError(
          "invalid_input",
          `this call would write more than ${maxChunksPerCall} documents, chunks counted one by one (--max-chunks-per-call), by document ${i} of ${documents.length}; split it into calls of fewer documents, use a larger chunk.size, or raise the flag (TOOLSHED_MAX_CHUNKS_PER_CALL)`,
        );
      }
    });

    const toEmbed = rows.filter((r) => r.vector === undefined);
    const embedder = toEmbed.length > 0 ? await embedderFor(info, ctx.deps, ctx.signal) : undefined;
    const dropOldChunks = async () => {
      if (chunkedSources.length > 0) {
        await store.delete(collection, { filter: { field: "source_id", op: "in", value: chunkedSources } });
      }
    };
    let upserted: number;
    if (embedder && (await store.writesInSteps(collection))) {
      // Into a live index on embedded PGlite, whose writes commit a few rows at a time anyway, rows
      // are written as their vectors arrive: the database thread works while the model does.
      await store.checkVectors(collection, rows.filter((r) => r.vector !== undefined) as NewDocument[]);
      await writeAsEmbedded(
        rows,
        embedder,
        ctx.signal,
        dropOldChunks,
        async (segment, report) => {
          await store.upsert(collection, segment, async (written) => {
            ctx.signal.throwIfAborted();
            await report(written);
          });
        },
        progress
          ? (done, text) => ctx.progress(Math.round((done / rows.length) * documents.length), total, text)
          : undefined,
      );
      upserted = new Set(rows.map((r) => r.id)).size;
    } else {
      if (embedder) {
        const vectors = await embedder.embed(
          toEmbed.map((r) => r.text ?? ""),
          ctx.signal,
        );
        toEmbed.forEach((r, i) => (r.vector = vectors[i]));
      }
      if (progress) await ctx.progress(documents.length, total, `embedded ${toEmbed.length} texts`);

      // A deadline or cancellation that fired while embedding stops here, before anything is written;
      // one that fires while writing rolls the transaction back between batches.
      ctx.signal.throwIfAborted();
      await dropOldChunks();
      ({ upserted } = await store.upsert(collection, rows as NewDocument[], async (written) => {
        ctx.signal.throwIfAborted();
        if (progress) {
          await ctx.progress(
            documents.length + Math.round((written / rows.length) * documents.length),
            total,
            `wrote ${written} of ${rows.length}`,
          );
        }
      }));
    }
    ctx.notifyResourceUpdated(`collection://${collection}`);
    return { collection, upserted, ids: rows.slice(0, 100).map((r) => r.id) };
  },
});

type PendingRow = Omit<NewDocument, "vector"> & { vector?: readonly number[] };

/**
 * Embeds the rows without a vector and writes all rows in order, each run of at least
 * PGLITE_INDEXED_BATCH_ROWS rows whose vectors have all arrived as soon as the previous write is
 * done, while the embedder goes on with the rest. `progress` hears rows embedded plus rows written
 * (out of twice the rows). A failure on either side stops both.
 */
async function writeAsEmbedded(
  rows: PendingRow[],
  embedder: Embedder,
  signal: AbortSignal,
  beforeFirstWrite: () => Promise<void>,
  write: (segment: NewDocument[], report: (written: number) => Promise<void>) => Promise<void>,
  progress?: (done: number, text: string) => Promise<void>,
): Promise<void> {
  const at: number[] = [];
  rows.forEach((r, i) => r.vector === undefined && at.push(i));
  let embedded = rows.length - at.length;
  let failed: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const land = (start: number, vectors: readonly number[][]) => {
    vectors.forEach((v, j) => (rows[at[start + j]!]!.vector = v));
    embedded += vectors.length;
    wake?.();
  };
  const stop = new AbortController();
  const embedding = embedder
    .embed(
      at.map((i) => rows[i]!.text ?? ""),
      AbortSignal.any([signal, stop.signal]),
      land,
    )
    .then(
      (all) => {
        // An embedder that does not report batches hands everything over at the end.
        if (at.some((i) => rows[i]!.vector === undefined)) land(0, all);
      },
      (e: unknown) => {
        failed = { error: e };
        wake?.();
      },
    );
  try {
    let written = 0;
    while (written < rows.length) {
      if (failed) throw failed.error;
      let end = written;
      while (end < rows.length && rows[end]!.vector !== undefined) end++;
      // Whole statements of PGLITE_INDEXED_BATCH_ROWS until the last: as many commits as one write.
      if (end < rows.length)
        end = written + Math.floor((end - written) / PGLITE_INDEXED_BATCH_ROWS) * PGLITE_INDEXED_BATCH_ROWS;
      if (end - written >= PGLITE_INDEXED_BATCH_ROWS || (end === rows.length && end > written)) {
        signal.throwIfAborted();
        if (written === 0) await beforeFirstWrite();
        const from = written;
        await write(rows.slice(from, end) as NewDocument[], async (n) => {
          await progress?.(Math.min(embedded, rows.length) + from + n, `wrote ${from + n} of ${rows.length}`);
        });
        written = end;
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } catch (e) {
    stop.abort(e);
    throw e;
  }
  await embedding;
}
