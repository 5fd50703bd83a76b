import { z } from "@toolshed/server";
import { metadataProblem } from "../metadata.js";
import { filterSchema, MAX_DIMENSION } from "../store/index.js";

export const vectorSchema = z.array(z.number()).min(1).max(MAX_DIMENSION);

/** Text PostgreSQL can store: no NUL character. */
export function noNul<S extends z.ZodString>(schema: S, what: string) {
  return schema.refine((s) => !s.includes("\u0000"), {
    message: `${what} contains a NUL character (\\u0000), which PostgreSQL cannot store; remove it`,
  });
}

export const metadataSchema = z
  .record(z.string(), z.unknown())
  .superRefine((metadata, ctx) => {
    const problem = metadataProblem(metadata);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe('JSON metadata to filter on, e.g. { "source": "faq", "year": 2024 }.');

export const filterInput = filterSchema.describe(
  "Metadata filter: { field, op, value } with op eq, ne, gt, gte, lt, lte, in, nin or exists, combined with { and: [...] } / { or: [...] }. Example: { and: [{ field: 'year', op: 'gte', value: 2020 }, { field: 'tags', op: 'exists', value: true }] }.",
);

export const SNIPPET_CHARS = 240;

export function snippet(text: string | null): string | null {
  if (text === null) return null;
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
}

export function compactJson(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
