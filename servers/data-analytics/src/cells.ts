/** A big integer or decimal as a number when that loses nothing a model would notice. */
export function toNumber<V>(v: V): V | number {
  if (typeof v !== "string") return v;
  const n = Number(v);
  return Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(v)) ? n : v;
}

/** DuckDB's numeric column types, whose values are sent as numbers when exact enough. */
export const DUCKDB_NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
