import { similarNames, ToolshedError, z, type HandlerContext } from "@toolshed/server";
import type { Deps } from "../deps.js";
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

/**
 * The collection the caller meant: `name` when it exists; otherwise, when collections with similar
 * names exist and a person can be asked, the one they pick. Without a pick, the not-found error names
 * the candidates.
 */
export async function collectionMeant(
  ctx: Pick<HandlerContext<unknown, Deps>, "deps" | "choose">,
  name: string,
): Promise<string> {
  const { store } = ctx.deps;
  try {
    await store.collection(name);
    return name;
  } catch (err) {
    if (!(err instanceof ToolshedError && err.code === "not_found")) throw err;
    const candidates = similarNames(name, await store.collectionNames());
    if (candidates.length === 0) throw err;
    const pick = await ctx.choose(`There is no collection '${name}'. Which one did you mean?`, candidates);
    if (pick.action === "accept") return pick.value;
    throw new ToolshedError(
      "not_found",
      `collection '${name}' not found; did you mean ${candidates.map((c) => `'${c}'`).join(", ")}?`,
    );
  }
}

/** The tool result when a person did not confirm: nothing happened, and the model should not retry. */
export function notConfirmed(what: string): string {
  return `Nothing was done: the user did not confirm ${what}. Do not retry unless the user asks again.`;
}
