import type { Config } from "./config.js";
import { DuckDBEngine } from "./duckdb-engine.js";
import type { Engine } from "./engine.js";
import { PostgresEngine } from "./postgres-engine.js";

/** PostgreSQL when a URL is configured, embedded DuckDB otherwise. */
export async function openEngine(config: Config): Promise<Engine> {
  return config.postgresUrl ? PostgresEngine.open(config, config.postgresUrl) : DuckDBEngine.open(config);
}
