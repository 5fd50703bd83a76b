import { ToolshedError, z } from "@toolshed/server";
import { defineTool } from "../deps.js";
import { jsonDepthExceeds, MAX_JSON_DEPTH } from "../json-depth.js";
import { errorOffset, lineColumn } from "../json-position.js";

const input = z.object({
  text: z
    .string()
    .max(10 * 1024 * 1024)
    .describe("The JSON text to check, e.g. '{\"a\": 1}'."),
});

export const validateJsonTool = defineTool({
  name: "validate_json",
  title: "Validate JSON text",
  description:
    "Parses JSON text and says whether it is valid; when it is not, reports the exact line and column (1-based) of the first syntax error with the parser's message and the offending line. Use it before load_inline_dataset or to debug JSON. Up to 10 MiB.",
  input,
  output: z.object({
    valid: z.boolean(),
    error: z
      .object({
        message: z.string(),
        line: z.number(),
        column: z.number(),
        position: z.number(),
        excerpt: z.string(),
      })
      .optional(),
    topLevelType: z.string().optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: (r) =>
    r.valid
      ? `Valid JSON (${r.topLevelType}).`
      : `Invalid JSON at line ${r.error!.line}, column ${r.error!.column}: ${r.error!.message}\n${r.error!.excerpt}\n${" ".repeat(Math.max(0, r.error!.column - 1))}^`,
  handler: ({ text }) => {
    // Millions of nested brackets would hold the event loop for seconds in JSON.parse.
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      throw new ToolshedError(
        "invalid_input",
        `the JSON nests arrays or objects more than ${MAX_JSON_DEPTH} deep (the server's limit); it is not parsed, and load_inline_dataset would refuse it too`,
      );
    }
    try {
      const value: unknown = JSON.parse(text);
      return {
        valid: true,
        topLevelType: value === null ? "null" : Array.isArray(value) ? "array" : typeof value,
      };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const position = errorOffset(text, message);
      const { line, column } = lineColumn(text, position);
      const excerpt = (text.split("\n")[line - 1] ?? "").slice(0, 200);
      return {
        valid: false,
        error: { message: message.split("\n")[0]!.slice(0, 200), line, column, position, excerpt },
      };
    }
  },
});
