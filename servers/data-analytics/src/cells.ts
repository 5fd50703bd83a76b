/** A decimal's text without the zeros that do not change its value ('1.50' → '1.5', '2.0' → '2'). */
function canonical(text: string): string {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

/**
 * A big integer or decimal as a number when that loses nothing: the number prints back as the
 * same value. Otherwise (more digits than a double holds) it stays exact text.
 */
export function toNumber<V>(v: V): V | number {
  if (typeof v !== "string") return v;
  const n = Number(v);
  if (!Number.isFinite(n)) return v;
  if (/^-?\d+$/.test(v)) return Number.isSafeInteger(n) ? n : v;
  const text = canonical(v.replace(/^(-?)0+(?=\d)/, "$1"));
  return canonical(String(n)) === text || (n === 0 && /^-?0(\.0*)?$/.test(v)) ? n : v;
}

/** DuckDB's numeric column types, whose values are sent as numbers when exact enough. */
export const DUCKDB_NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
