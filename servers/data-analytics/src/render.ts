import type { Cell } from "./engine.js";

/** Rounds to 6 significant digits for display; integers stay as they are. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(6)));
}

function cellText(v: Cell | undefined): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** A markdown table with the column types in the header, e.g. `| id (INTEGER) |`. */
export function markdownTable(columns: { name: string; type?: string }[], rows: Cell[][]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const head = `| ${columns.map((c) => esc(c.type ? `${c.name} (${c.type})` : c.name)).join(" | ")} |`;
  const rule = `|${columns.map(() => "---").join("|")}|`;
  const body = rows.map((r) => `| ${columns.map((_, i) => esc(cellText(r[i]))).join(" | ")} |`);
  return [head, rule, ...body].join("\n");
}

/**
 * Keeps rows while their JSON size fits in `maxBytes`; a single string cell longer than a quarter of
 * the budget is cut and marked, so one huge cell cannot take the whole answer.
 */
export function capBytes(rows: Cell[][], maxBytes: number): { rows: Cell[][]; cut: boolean } {
  const cellCap = Math.max(256, Math.floor(maxBytes / 4));
  let used = 0;
  let cut = false;
  const out: Cell[][] = [];
  for (const row of rows) {
    const capped = row.map((v) => {
      if (typeof v === "string" && v.length > cellCap) {
        cut = true;
        return `${v.slice(0, cellCap)}…[cut: ${v.length} chars]`;
      }
      return v;
    });
    const size = Buffer.byteLength(JSON.stringify(capped));
    if (used + size > maxBytes) return { rows: out, cut: true };
    used += size;
    out.push(capped);
  }
  return { rows: out, cut };
}
