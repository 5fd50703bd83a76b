import type { Cell } from "./engine/engine.js";

/**
 * A statistic for display: 6 significant digits, but never fewer than the integer part and two
 * decimals hold (37103458.82 stays 37103458.82); integers stay as they are.
 */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const intDigits = Math.abs(n) < 1 ? 0 : Math.floor(Math.log10(Math.abs(n))) + 1;
  return String(Number(n.toPrecision(Math.min(15, Math.max(6, intDigits + 2)))));
}

/**
 * Whether formatNumber leaves a non-integer's text (its String) as it is: written without an
 * exponent, with no more significant digits than formatNumber keeps. A scan of the text, where
 * formatNumber costs a logarithm and two conversions, on every floating-point cell of a table.
 */
function shortEnough(text: string): boolean {
  if (text.includes("e")) return false;
  const dot = text.indexOf(".");
  if (dot === -1) return false;
  const sign = text.charCodeAt(0) === 45 ? 1 : 0; // "-"
  const whole = dot - sign;
  if (whole === 1 && text.charCodeAt(sign) === 48) {
    // Under 1: the zeros after the point are not significant; formatNumber keeps 6 digits.
    let i = dot + 1;
    while (i < text.length && text.charCodeAt(i) === 48) i++;
    return text.length - i <= 6;
  }
  return whole + (text.length - dot - 1) <= Math.min(15, Math.max(6, whole + 2));
}

/** Column types whose values are exact (integers, DECIMAL, PostgreSQL numeric): printed in full. */
const EXACT_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DECIMAL.*|smallint|integer|bigint|numeric)$/;

/** A cell as text, and whether the number in it was rounded for display. */
function cellText(v: Cell | undefined, type: string | undefined): [string, boolean] {
  if (v === null || v === undefined) return ["NULL", false];
  if (typeof v === "number") {
    const text = String(v);
    if (Number.isInteger(v) || (type !== undefined && EXACT_TYPE.test(type)) || shortEnough(text))
      return [text, false];
    const shown = formatNumber(v);
    return shown === text ? [shown, false] : [`~${shown}`, true];
  }
  if (typeof v === "string") return [v, false];
  return [JSON.stringify(v), false];
}

/**
 * A markdown table with the column types in the header, e.g. `| id (INTEGER) |`. Integers and
 * DECIMALs print exactly; a floating-point value shortened for display is marked `~` and the table
 * says so (the structured result keeps every digit).
 */
export function markdownTable(columns: { name: string; type?: string }[], rows: Cell[][]): string {
  const esc = (s: string) =>
    s.includes("|") || s.includes("\n") ? s.replaceAll("|", "\\|").replaceAll("\n", " ") : s;
  const head = `| ${columns.map((c) => esc(c.type ? `${c.name} (${c.type})` : c.name)).join(" | ")} |`;
  const rule = `|${columns.map(() => "---").join("|")}|`;
  let rounded = false;
  const body = rows.map(
    (r) =>
      `| ${columns
        .map((c, i) => {
          const [text, approx] = cellText(r[i], c.type);
          rounded ||= approx;
          return esc(text);
        })
        .join(" | ")} |`,
  );
  const lines = [head, rule, ...body];
  if (rounded)
    lines.push(
      "",
      "~ marks floating-point values rounded for display; the structured result has every digit.",
    );
  return lines.join("\n");
}

/** The longest string cell capBytes keeps whole under a budget of `maxBytes`. */
export function cellCapOf(maxBytes: number): number {
  return Math.max(256, Math.floor(maxBytes / 4));
}

/**
 * Keeps rows while their JSON size fits in `maxBytes`; a single string cell longer than a quarter of
 * the budget is cut and marked, so one huge cell cannot take the whole answer. `cut`: rows were
 * left out or cells shortened; `shortened`: cells were.
 */
export function capBytes(
  rows: Cell[][],
  maxBytes: number,
): { rows: Cell[][]; cut: boolean; shortened: boolean } {
  const cellCap = cellCapOf(maxBytes);
  // The usual page, one that fits whole with no long cell, is measured once and kept as it is.
  if (!rows.some((row) => row.some((v) => typeof v === "string" && v.length > cellCap))) {
    // The rows' JSON sizes add up to the array's less its brackets and commas.
    const size = Buffer.byteLength(JSON.stringify(rows)) - 1 - Math.max(1, rows.length);
    if (size <= maxBytes) return { rows, cut: false, shortened: false };
  }
  let used = 0;
  let shortened = false;
  const out: Cell[][] = [];
  for (const row of rows) {
    const capped = row.map((v) => {
      if (typeof v === "string" && v.length > cellCap) {
        shortened = true;
        return `${v.slice(0, cellCap)}…[cut: ${v.length} chars]`;
      }
      return v;
    });
    const size = Buffer.byteLength(JSON.stringify(capped));
    if (used + size > maxBytes) return { rows: out, cut: true, shortened };
    used += size;
    out.push(capped);
  }
  return { rows: out, cut: shortened, shortened };
}
