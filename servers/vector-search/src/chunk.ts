/**
 * Splits text into pieces of at most `size` characters where each starts `overlap` characters
 * before the previous one ended; cuts prefer the last whitespace in the window's final fifth.
 */
export function chunkText(text: string, size: number, overlap: number): string[] {
  if (overlap >= size) throw new Error("overlap must be smaller than size");
  if (text.length <= size) return [text];
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    if (end < text.length) {
      const space = text.lastIndexOf(" ", end);
      if (space > start + size * 0.8) end = space;
    }
    chunks.push(text.slice(start, end).trim());
    if (end >= text.length) break;
    start = Math.max(end - overlap, start + 1);
  }
  return chunks.filter((c) => c.length > 0);
}
