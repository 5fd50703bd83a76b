/** The concatenated text blocks of a tool result or prompt message list. */
export function textOf(result: unknown): string {
  const raw = (result as { content?: unknown } | undefined)?.content;
  const content = Array.isArray(raw) ? (raw as { type?: string; text?: string }[]) : [];
  return content
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");
}
