import { missingScopes } from "@toolshed/auth";
import { resolveDefinition, type AnyServerDefinition, type AnyTool } from "./define.js";

/**
 * The scopes a tool needs when auth is on: its own `scopes`, or by default `<server>:read` for a
 * read-only tool (annotations.readOnlyHint) and `<server>:write` for any other. Every tool has some,
 * so a key or token grants tools by scope; `*` and `<server>:*` grant them all.
 */
export function defaultToolScopes(serverName: string, tool: AnyTool): readonly string[] {
  if (tool.scopes?.length) return tool.scopes;
  return [`${serverName}:${tool.annotations.readOnlyHint === true ? "read" : "write"}`];
}

/** Every tool's scopes, by tool name (of the tools for `config`, or for the default config). */
export function toolScopesOf(
  def: AnyServerDefinition,
  config?: unknown,
): ReadonlyMap<string, readonly string[]> {
  return new Map(resolveDefinition(def, config).tools.map((t) => [t.name, defaultToolScopes(def.name, t)]));
}

/** Whether a principal's scopes allow every scope in `required`. */
export function allowsAll(held: { scopes: readonly string[] }, required: readonly string[]): boolean {
  return missingScopes({ id: "", scopes: held.scopes }, required).length === 0;
}
