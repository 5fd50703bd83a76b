/** Quotes an identifier for DuckDB: wraps it in double quotes and doubles any inside. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A dataset name: a plain identifier, so it reads the same quoted or not. */
export const DATASET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A dataset reference: a name, or on PostgreSQL `schema.table`. */
export const DATASET_REF = /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The table that records registered datasets; hidden from list_datasets. */
export const CATALOG_TABLE = "_toolshed_datasets";

/** Numeric column types, as DuckDB and PostgreSQL name them. */
export const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*|REAL|NUMERIC.*|DOUBLE PRECISION|INT2|INT4|INT8|FLOAT4|FLOAT8)$/i;
