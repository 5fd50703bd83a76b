import { missingScopes } from "@toolshed/auth";
import type { AnyServerDefinition, AnyTool } from "./define.js";

/**
 * The scopes a tool needs when auth is on: its own `scopes`, or by default `<server>:read` for a
 * read-only tool (annotations.readOnlyHint) and `<server>:write` for any other. Every tool has some,
 * so a key or token grants tools by scope; `*` and `<server>:*` grant them all.
 */
export function defaultToolScopes(serverName: string, tool: AnyTool): readonly string[] {
  if (tool.scopes?.length) return tool.scopes;
  return [`${serverName}:${tool.annotations.readOnlyHint === true ? "read" : "write"}`];
}

/** Every tool's scopes, by tool name. */
export function toolScopesOf(def: AnyServerDefinition): ReadonlyMap<string, readonly string[]> {
  return new Map(def.tools.map((t) => [t.name, defaultToolScopes(def.name, t)]));
}

/** Whether a principal's scopes allow every scope in `required`. */
export function allowsAll(held: { scopes: readonly string[] }, required: readonly string[]): boolean {
  return missingScopes({ id: "", scopes: held.scopes }, required).length === 0;
}
