import { toToolshedError } from "./toolshed-error.js";

export interface ErrorToolResult {
  [key: string]: unknown;
  content: [{ type: "text"; text: string }];
  isError: true;
  _meta: { "toolshed/error": ReturnType<ReturnType<typeof toToolshedError>["toJSON"]> };
}

/**
 * A `tools/call` result with `isError: true` for any thrown value. The text is for the model:
 * the code, the message, and when a retry may help.
 */
export function toToolResult(value: unknown): ErrorToolResult {
  const err = toToolshedError(value);
  let text = `${err.code}: ${err.message}`;
  if (err.retryable) {
    text +=
      err.retryAfterMs === undefined
        ? " (retryable)"
        : ` (retryable after ${Math.max(1, Math.ceil(err.retryAfterMs / 1000))}s)`;
  }
  return { content: [{ type: "text", text }], isError: true, _meta: { "toolshed/error": err.toJSON() } };
}
