import { z } from "zod";
import type { AnyTool } from "./define.js";

/** The `tools/list` entry of a tool, computed once per process rather than on every list call. */
export function toolListEntry(tool: AnyTool): Record<string, unknown> {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchema(tool.input, "input"),
    outputSchema: jsonSchema(tool.output, "output"),
    annotations: { title: tool.title, ...tool.annotations },
  };
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
