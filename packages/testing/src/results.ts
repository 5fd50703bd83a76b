/** The concatenated text blocks of a tool result or prompt message list. */
export function textOf(result: unknown): string {
  const raw = (result as { content?: unknown } | undefined)?.content;
  const content = Array.isArray(raw) ? (raw as { type?: string; text?: string }[]) : [];
  return content
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");
}

/** A tool result as a test reads it: the error flag, the text blocks joined, the structured content. */
export interface CallResult {
  isError?: boolean;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- structured results are checked by the assertions
  data: Record<string, any>;
}

/** Calls a tool through a connected client and returns what a test asserts on. */
export async function callTool(
  client: { callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown> },
  name: string,
  args: Record<string, unknown>,
): Promise<CallResult> {
  const r = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content?: unknown;
    structuredContent?: Record<string, unknown>;
  };
  return { isError: r.isError, text: textOf(r), data: r.structuredContent ?? {} };
}
