import { ToolshedError, z } from "@toolshed/server";
import type { Deps } from "./deps.js";
import type { CollectionInfo } from "./store/index.js";
import { METRICS } from "./store/index.js";

export const NO_EMBEDDER = "none";

export const collectionNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    "1-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
  )
  .describe("Collection name: 1-63 letters, digits, '_', '.' or '-'.");

export const collectionInfoSchema = z.object({
  name: z.string(),
  dimension: z.number().int(),
  metric: z.enum(METRICS),
  embedder: z
    .string()
    .describe("What made the vectors: an embedder id, or 'none' for caller-supplied vectors."),
  metadataSchema: z.record(z.string(), z.unknown()).nullable(),
  description: z.string().nullable(),
  count: z.number().int(),
  index: z.enum(["hnsw", "none"]),
  createdAt: z.string(),
});

export function renderCollection(c: CollectionInfo): string {
  return `${c.name}: ${c.count} documents, ${c.dimension} dims, ${c.metric}, embedder ${c.embedder}, index ${c.index}${c.description ? ` — ${c.description}` : ""}`;
}

/**
 * The server's embedder, after checking it is the one that filled this collection: vectors from
 * different models (or sizes) are not comparable, so a mismatch is refused, naming both.
 */
export async function embedderFor(
  c: Pick<CollectionInfo, "name" | "embedder" | "dimension">,
  deps: Deps,
  signal?: AbortSignal,
) {
  if (c.embedder === NO_EMBEDDER) {
    throw new ToolshedError(
      "invalid_input",
      `collection '${c.name}' holds caller-supplied ${c.dimension}-dimension vectors (embedder none), so it cannot embed text; pass 'vector', or create a collection with an embedder`,
    );
  }
  const dim = await deps.embedder.dimension(signal);
  if (c.embedder !== deps.embedder.id || c.dimension !== dim) {
    throw new ToolshedError(
      "conflict",
      `collection '${c.name}' was embedded with ${c.embedder} (${c.dimension} dimensions) but this server embeds with ${deps.embedder.id} (${dim} dimensions); run the server with the collection's embedder, or pass 'vector' values of ${c.dimension} dimensions`,
    );
  }
  return deps.embedder;
}

/** A metadata schema: key -> expected JSON type, with `required` keys. Checked on upsert. */
export const metadataSchemaSchema = z
  .object({
    fields: z
      .record(z.string(), z.enum(["string", "number", "boolean", "array", "object"]))
      .describe('Expected JSON type of each metadata key, e.g. { "year": "number", "tags": "array" }.'),
    required: z.array(z.string()).default([]).describe("Keys every document must have."),
  })
  .describe(
    "Optional: the metadata keys documents carry and their types; upserts that break it are refused.",
  );

export type MetadataSchema = z.output<typeof metadataSchemaSchema>;

export function checkMetadata(
  schema: Record<string, unknown> | null,
  id: string,
  metadata: Record<string, unknown>,
): void {
  if (!schema) return;
  const parsed = metadataSchemaSchema.safeParse(schema);
  if (!parsed.success) return;
  const { fields, required } = parsed.data;
  for (const key of required) {
    if (!(key in metadata)) {
      throw new ToolshedError("invalid_input", `document '${id}': metadata lacks required key '${key}'`);
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    const want = fields[key];
    if (!want || value === null) continue;
    const got = Array.isArray(value) ? "array" : typeof value;
    if (got !== want) {
      throw new ToolshedError(
        "invalid_input",
        `document '${id}': metadata '${key}' should be ${want}, got ${got}`,
      );
    }
  }
}
