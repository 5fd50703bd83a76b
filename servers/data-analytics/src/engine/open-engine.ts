import type { Config } from "../config.js";
import type { Engine } from "./engine.js";

/**
 * PostgreSQL when a URL is configured, embedded DuckDB otherwise. Each engine's module (and its
 * driver) is loaded only when chosen, so start-up pays for neither.
 */
export async function openEngine(config: Config): Promise<Engine> {
  if (config.postgresUrl) {
    const { PostgresEngine } = await import("./postgres-engine.js");
    return PostgresEngine.open(config, config.postgresUrl);
  }
  const { DuckDBEngine } = await import("./duckdb-engine.js");
  return DuckDBEngine.open(config);
}
