/**
 * Characters a reader cannot see but a model reads: format characters (zero-width spaces and
 * joiners, bidirectional overrides and isolates, the BOM, Unicode tag characters U+E0000-E007F that
 * can smuggle ASCII), variation selectors and C0/C1 controls other than tab and newline.
 */
/* eslint-disable no-control-regex -- control characters are what this removes */
const INVISIBLE =
  /[\p{Cf}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;
/* eslint-enable no-control-regex */

/** HTML comments render as nothing on GitHub, so they are a place to hide instructions. */
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;

/** Untrusted text (titles, bodies, comments) without invisible characters or hidden HTML comments. */
export function cleanText(text: string): string;
export function cleanText(text: string | null | undefined): string | null;
export function cleanText(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  return text.replace(HTML_COMMENT, "").replace(INVISIBLE, "");
}

/** Text capped at `max` characters, saying how much was left out and how to get it. */
export function capText(
  text: string | null,
  max: number,
  more: string,
): { text: string | null; truncated?: string } {
  if (text === null || text.length <= max) return { text };
  return {
    text: text.slice(0, max),
    truncated: `${text.length - max} more characters; ${more}`,
  };
}
