/** Default of --max-chunks-per-document: a 100,000-character text in chunks of 100. */
export const DEFAULT_MAX_CHUNKS_PER_DOCUMENT = 1000;
/** Default of --max-chunks-per-call: twice the 1,000 documents a call may carry unchunked. */
export const DEFAULT_MAX_CHUNKS_PER_CALL = 2000;

/**
 * Why an overlap is refused, or undefined when it is fine. At half the size or more every
 * character is embedded at least twice and the chunk count grows without bound as overlap nears
 * size (3 KB at size 100, overlap 99: 2,901 chunks).
 */
export function overlapProblem(size: number, overlap: number): string | undefined {
  if (overlap * 2 < size) return undefined;
  return `chunk.overlap must be less than half of chunk.size (got overlap ${overlap} for size ${size}): at half or more every character is embedded at least twice; use an overlap of at most ${Math.ceil(size / 2) - 1}, e.g. ${Math.round(size / 10)}`;
}

/**
 * Splits text into pieces of at most `size` characters where each starts `overlap` characters
 * before the previous one ended; cuts prefer the last whitespace in the window's final fifth.
 * Stops once it has more than `limit` pieces, so a caller can refuse without cutting them all.
 */
export function chunkText(text: string, size: number, overlap: number, limit = Infinity): string[] {
  const problem = overlapProblem(size, overlap);
  if (problem) throw new Error(problem);
  if (text.length <= size) return [text];
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length && chunks.length <= limit) {
    let end = Math.min(start + size, text.length);
    if (end < text.length) {
      // Only the window's last fifth is searched: lastIndexOf would scan back to the text's start
      // on text without spaces, quadratic in its length.
      for (let k = end; k > start + size * 0.8; k--) {
        if (text.charCodeAt(k) === 32) {
          end = k;
          break;
        }
      }
    }
    const piece = text.slice(start, end).trim();
    if (piece.length > 0) chunks.push(piece);
    if (end >= text.length) break;
    // Each step moves at least size * 0.8 - overlap > size * 0.3 forward.
    start = Math.max(end - overlap, start + 1);
  }
  return chunks;
}
