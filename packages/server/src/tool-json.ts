import { ToolshedError } from "@toolshed/errors";
import { z } from "zod";
import type { AnyTool, ToolAnnotations } from "./define.js";

/**
 * The `tools/list` entry of a tool, computed once per process rather than on every list call. It says
 * nothing a client would assume anyway (see `wireAnnotations` and `wireOutputSchema`): every byte of a
 * list is paid in a model's context on every conversation.
 */
export function toolListEntry(tool: AnyTool): Record<string, unknown> {
  const annotations = wireAnnotations(tool.annotations);
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: wireSchema(jsonSchema(tool.input, "input")),
    outputSchema: wireOutputSchema(jsonSchema(tool.output, "output")),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
}

/**
 * The hints that differ from what MCP assumes when one is absent (readOnlyHint false, destructiveHint
 * true, idempotentHint false, openWorldHint true); destructiveHint and idempotentHint mean something only
 * on a tool that is not read-only, so a read-only tool leaves them out. `annotations.title` is left out
 * too: `Tool.title` carries the same name and takes precedence. Every tool still states all four hints
 * in its definition; a client reading the list by the spec's defaults gets all four back unchanged.
 */
export function wireAnnotations(hints: ToolAnnotations): Partial<ToolAnnotations> {
  const wire: Partial<ToolAnnotations> = {};
  if (hints.readOnlyHint) wire.readOnlyHint = true;
  else {
    if (!hints.destructiveHint) wire.destructiveHint = false;
    if (hints.idempotentHint) wire.idempotentHint = true;
  }
  if (!hints.openWorldHint) wire.openWorldHint = false;
  return wire;
}

/** What MCP assumes of an absent hint: the inverse of `wireAnnotations`, for clients and tests. */
export function hintsOf(wire: Partial<ToolAnnotations> | undefined): ToolAnnotations {
  const readOnlyHint = wire?.readOnlyHint ?? false;
  return {
    readOnlyHint,
    destructiveHint: readOnlyHint ? false : (wire?.destructiveHint ?? true),
    idempotentHint: readOnlyHint ? true : (wire?.idempotentHint ?? false),
    openWorldHint: wire?.openWorldHint ?? true,
  };
}

/**
 * An output schema without zod's `additionalProperties: false` on every object: zod writes it for any
 * parsed output object, not because a client must refuse other keys, and it cost github 1.2 KB of its
 * list. The kit still parses each result with the tool's own output schema, which drops undeclared keys.
 */
export function wireOutputSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return wireSchema(schema, (key, value) => key === "additionalProperties" && value === false);
}

/**
 * A schema without what zod writes that constrains nothing a JSON value can be: the safe-integer
 * bounds of every `.int()` (±9007199254740991, beyond which a JSON number is not an exact integer
 * anyway) and `propertyNames: {type: "string"}` of a record (every JSON key is a string). The kit
 * still parses arguments and results with the tool's zod schemas, which keep them.
 */
export function wireSchema(
  schema: Record<string, unknown>,
  drop: (key: string, value: unknown) => boolean = () => false,
): Record<string, unknown> {
  const implied = (node: Record<string, unknown>, key: string, value: unknown): boolean =>
    (key === "propertyNames" && isStringType(value)) ||
    (node.type === "integer" &&
      ((key === "maximum" && value === Number.MAX_SAFE_INTEGER) ||
        (key === "minimum" && value === Number.MIN_SAFE_INTEGER)));
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (drop(key, value) || implied(node as Record<string, unknown>, key, value)) continue;
      // Property names are data, not keywords: a property named additionalProperties stays.
      out[key] = NAMED.has(key) ? mapValues(value, strip) : strip(value);
    }
    return out;
  };
  return strip(schema) as Record<string, unknown>;
}

/** Keywords whose value maps names (data) to schemas. */
const NAMED = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

function isStringType(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === "object" &&
    Object.keys(value).length === 1 &&
    (value as { type?: unknown }).type === "string"
  );
}

function mapValues(value: unknown, fn: (v: unknown) => unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return fn(value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fn(v)]));
}

export function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  // MCP makes 2020-12 the default dialect, so the marker only costs context on every list; it stays
  // where the schema uses $defs/$ref, whose meaning differs between drafts.
  if (!("$defs" in json)) delete json.$schema;
  return json;
}

/** "limit: Too big: expected number to be <=100; sql: Required" */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

/** A call's arguments checked against a tool's input schema; bad ones are an invalid_input error. */
export function parseArguments<T extends z.ZodType>(schema: T, args: unknown, tool: string): z.output<T> {
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    throw new ToolshedError(
      "invalid_input",
      `invalid arguments for tool '${tool}': ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}
