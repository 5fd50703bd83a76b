import { z } from "zod";
import { isAppResourceUri, MCP_APP_MIME_TYPE } from "./apps.js";
import { resolveDefinition, type AnyServerDefinition, type AnyTool } from "./define.js";

const TOOL_NAME = /^[a-z0-9][a-z0-9_]{0,63}$/;
const HINTS = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const;

/**
 * Every problem with a server's metadata, so one start-up shows them all. A server whose tools lack a
 * title, descriptions, annotations or an output schema does not start.
 */
export function definitionProblems(server: AnyServerDefinition, config?: unknown): string[] {
  const def = resolveDefinition(server, config);
  const problems: string[] = [];
  if (!/^[a-z0-9][a-z0-9-]*$/.test(def.name)) problems.push(`server name '${def.name}' must be kebab-case`);
  if (!def.version) problems.push("server version is missing");
  const seen = new Set<string>();
  for (const tool of def.tools) {
    const at = `tool '${tool.name}'`;
    if (seen.has(tool.name)) problems.push(`${at} is defined twice`);
    seen.add(tool.name);
    if (!TOOL_NAME.test(tool.name)) problems.push(`${at}: name must be snake_case, 1-64 of [a-z0-9_]`);
    if (tool.toolset !== undefined && !TOOL_NAME.test(tool.toolset)) {
      problems.push(`${at}: toolset '${tool.toolset}' must be snake_case, 1-64 of [a-z0-9_]`);
    }
    if (!tool.title?.trim()) problems.push(`${at}: title is missing`);
    if (!tool.description?.trim() || tool.description.trim().length < 20) {
      problems.push(`${at}: description is missing or shorter than 20 characters`);
    }
    problems.push(...schemaProblems(at, "input", tool.input, true));
    problems.push(...schemaProblems(at, "output", tool.output, false));
    for (const hint of HINTS) {
      if (typeof tool.annotations?.[hint] !== "boolean")
        problems.push(`${at}: annotations.${hint} must be set`);
    }
    if (tool.annotations?.readOnlyHint && tool.annotations.destructiveHint) {
      problems.push(`${at}: a read-only tool cannot be destructive`);
    }
    if (typeof tool.handler !== "function") problems.push(`${at}: handler is missing`);
    if (tool.task !== undefined && tool.task !== "optional" && tool.task !== "required") {
      problems.push(
        `${at}: task must be "optional" or "required" (or left out for a tool that never runs as a task)`,
      );
    }
  }
  for (const tool of def.tools.filter((t) => t.ui)) {
    const uri = tool.ui!.resourceUri;
    const page = def.resources?.find((r) => "uri" in r && r.uri === uri);
    if (!isAppResourceUri(uri) || page?.mimeType !== MCP_APP_MIME_TYPE) {
      problems.push(
        `tool '${tool.name}': ui.resourceUri '${uri}' must be a ui:// resource of this server with mimeType ${MCP_APP_MIME_TYPE}`,
      );
    }
  }
  const declared = def.notifications ?? {};
  // A forwarding server's resources and prompts come through `forward`.
  const hasResources = Boolean(def.resources?.length || def.forward?.resources);
  const hasPrompts = Boolean(def.prompts?.length || def.forward?.prompts);
  if ((declared.resourceUpdated || declared.resourceListChanged) && !hasResources) {
    problems.push("notifications declare resource changes but the server has no resources");
  }
  if (def.tools.some((t) => t.hidden) && !declared.toolListChanged) {
    problems.push(
      "hidden tools are listed only once shown, which changes the tool list: declare notifications.toolListChanged",
    );
  }
  if (declared.promptListChanged && !hasPrompts) {
    problems.push("notifications.promptListChanged is declared but the server has no prompts");
  }
  problems.push(
    ...namedProblems("resource", def.resources ?? [], (r, at) => [
      ...(r.mimeType?.trim() ? [] : [`${at}: mimeType is missing`]),
      ...cacheHintProblems(at, r.cacheHint),
    ]),
    ...cacheHintProblems("server", def.cacheHint),
    ...(def.forward && (def.resources?.length || def.prompts?.length)
      ? [
          "a server with `forward` serves its resources and prompts through it; drop `resources` and `prompts`",
        ]
      : []),
    ...namedProblems("prompt", def.prompts ?? [], (p, at) => schemaProblems(at, "args", p.args, true)),
  );
  return problems;
}

/** Unique names, a title and a description for each item, plus the kind's own checks. */
function namedProblems<T extends { name: string; title: string; description: string }>(
  kind: string,
  items: readonly T[],
  own: (item: T, at: string) => string[],
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const at = `${kind} '${item.name}'`;
    if (seen.has(item.name)) problems.push(`${at} is defined twice`);
    seen.add(item.name);
    if (!item.title?.trim()) problems.push(`${at}: title is missing`);
    if (!item.description?.trim()) problems.push(`${at}: description is missing`);
    problems.push(...own(item, at));
  }
  return problems;
}

function schemaProblems(at: string, what: string, schema: unknown, describeFields: boolean): string[] {
  if (!(schema instanceof z.ZodObject)) return [`${at}: ${what} must be a z.object(...)`];
  if (!describeFields) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>)
    .filter(([, field]) => !fieldDescription(field) && !isSelfDescribing(field))
    .map(([key]) => `${at}: ${what} field '${key}' has no .describe(...) (or selfDescribing(...))`);
}

const SELF_DESCRIBING = new WeakSet<z.ZodType>();

/**
 * An input field whose name, type, enum and bounds already say what a description would (`owner`, a
 * `page` from 1, a `sort` enum): it is listed without one. Every tool repeats such fields in
 * tools/list, where "Repo owner" on `owner` costs each conversation bytes and tells a model nothing.
 */
export function selfDescribing<T extends z.ZodType>(field: T): T {
  SELF_DESCRIBING.add(field);
  return field;
}

/** Whether a field, or what an optional/default/nullable wrapper holds, was marked selfDescribing. */
export function isSelfDescribing(field: z.ZodType): boolean {
  return innerTypes(field).some((f) => SELF_DESCRIBING.has(f));
}

/** The description of a field, looking through optional/default/nullable wrappers. */
function fieldDescription(field: z.ZodType): string | undefined {
  return innerTypes(field).find((f) => f.description)?.description;
}

/** A field and what its optional/default/nullable wrappers hold, outermost first. */
function innerTypes(field: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [];
  let current: z.ZodType | undefined = field;
  for (let depth = 0; current && depth < 8; depth++) {
    out.push(current);
    const inner: unknown = (current.def as { innerType?: unknown }).innerType;
    current = inner instanceof z.ZodType ? inner : undefined;
  }
  return out;
}

export function assertValidTool(tool: AnyTool): void {
  const problems = definitionProblems({ name: "x", version: "0", tools: [tool] });
  if (problems.length) throw new Error(problems.join("\n"));
}

function cacheHintProblems(
  at: string,
  hint: { ttlMs?: unknown; cacheScope?: unknown } | undefined,
): string[] {
  if (hint === undefined) return [];
  const problems: string[] = [];
  if (!Number.isSafeInteger(hint.ttlMs) || (hint.ttlMs as number) < 0) {
    problems.push(`${at}: cacheHint.ttlMs must be a whole number of milliseconds, 0 or more`);
  }
  if (hint.cacheScope !== undefined && hint.cacheScope !== "public" && hint.cacheScope !== "private") {
    problems.push(`${at}: cacheHint.cacheScope must be "public" or "private"`);
  }
  return problems;
}
