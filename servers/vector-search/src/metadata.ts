/** Deepest nesting metadata may have (an object or array inside another counts one level). */
export const MAX_METADATA_DEPTH = 16;
/** Most characters a document's metadata may take as JSON. */
export const MAX_METADATA_CHARS = 65_536;

/**
 * Why `metadata` cannot be stored as JSONB, or undefined when it can: numbers must be finite
 * (JSON has no NaN or Infinity), strings and keys free of NUL (PostgreSQL text cannot hold it),
 * nesting and size bounded. Walks with its own stack, so any depth is refused, not overflowed.
 */
export function metadataProblem(metadata: unknown): string | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value: metadata, path: "metadata", depth: 0 },
  ];
  let chars = 0;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    chars += 8; // punctuation and small scalars, roughly
    if (typeof value === "string") {
      chars += value.length;
      if (value.includes("\u0000"))
        return `${path} contains a NUL character (\\u0000), which PostgreSQL cannot store; remove it`;
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) return `${path} is ${value}; metadata numbers must be finite`;
    } else if (value !== null && typeof value === "object") {
      if (depth >= MAX_METADATA_DEPTH) {
        return `${path} nests deeper than ${MAX_METADATA_DEPTH} levels; flatten the metadata`;
      }
      const entries = Array.isArray(value)
        ? value.map((v, i) => [String(i), v] as const)
        : Object.entries(value);
      for (const [key, child] of entries) {
        if (key.includes("\u0000")) return `${path} has a key with a NUL character (\\u0000); remove it`;
        chars += key.length;
        const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
        stack.push({
          value: child,
          path: Array.isArray(value) ? `${path}[${key}]` : `${path}.${shown}`,
          depth: depth + 1,
        });
      }
    } else if (typeof value !== "boolean" && value !== null) {
      return `${path} is a ${typeof value}, not a JSON value`;
    }
    if (chars > MAX_METADATA_CHARS) {
      return `metadata is larger than ${MAX_METADATA_CHARS.toLocaleString("en")} characters as JSON; keep metadata small (filters and labels) and put long content in text`;
    }
  }
  return undefined;
}
