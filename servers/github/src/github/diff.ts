import { ToolshedError } from "@toolshed/server";

export interface DiffPage {
  /** Files in the whole diff, with their size in bytes, so a model can ask for one. */
  files: { file: string; bytes: number }[];
  diff: string;
  offset: number;
  total_bytes: number;
  /** Where to continue, when the diff (or the one file) was cut. */
  next_offset?: number;
}

/** Splits a unified git diff at `diff --git` lines; the name is the b/ path. */
function splitDiff(diff: string): { file: string; text: string }[] {
  const parts = diff.split(/^(?=diff --git )/m).filter((p) => p.length > 0);
  return parts.map((text) => {
    const header = text.slice(0, text.indexOf("\n") === -1 ? text.length : text.indexOf("\n"));
    const m = / b\/(.+)$/.exec(header);
    return { file: m?.[1] ?? header, text };
  });
}

/**
 * One page of a diff: the whole diff or one file of it, from `offset`, at most `maxBytes` (UTF-16
 * code units, close to bytes for code), cut at a line end when one is near.
 */
export function pageDiff(diff: string, file: string | undefined, offset: number, maxBytes: number): DiffPage {
  const parts = splitDiff(diff);
  const files = parts.map((p) => ({ file: p.file, bytes: Buffer.byteLength(p.text) }));
  let text = diff;
  if (file !== undefined) {
    const part = parts.find((p) => p.file === file);
    if (!part) {
      throw new ToolshedError(
        "not_found",
        `no file '${file}' in this diff; its files are: ${files
          .slice(0, 50)
          .map((f) => f.file)
          .join(", ")}`,
      );
    }
    text = part.text;
  }
  if (offset > text.length) {
    throw new ToolshedError("invalid_input", `offset ${offset} is past the end (${text.length})`);
  }
  let end = Math.min(text.length, offset + maxBytes);
  if (end < text.length) {
    const nl = text.lastIndexOf("\n", end);
    if (nl > offset + maxBytes / 2) end = nl + 1;
  }
  const page: DiffPage = {
    files,
    diff: text.slice(offset, end),
    offset,
    total_bytes: text.length,
  };
  if (end < text.length) page.next_offset = end;
  return page;
}
