import pg from "pg";
import { encodeVector, sessionSettings, type SqlClient, type VectorInput } from "./sql.js";

type Conn = Pick<pg.PoolClient, "query">;

class PgSql implements SqlClient {
  readonly kind = "postgres" as const;
  constructor(
    private readonly pool: pg.Pool,
    private readonly conn: Conn,
  ) {}

  async query<R>(text: string, params: unknown[] = []): Promise<R[]> {
    const r = await this.conn.query(text, params);
    return r.rows as R[];
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const out = await fn(new PgSql(this.pool, client));
      await client.query("COMMIT");
      return out;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  vectorParam(v: VectorInput): unknown {
    // node-postgres sends a Buffer as a binary-format parameter.
    return encodeVector(v);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export interface PgOptions {
  url: string;
  poolSize: number;
  /** HNSW candidate list size at query time (`hnsw.ef_search`), set on every new connection. */
  efSearch: number;
  statementTimeoutMs: number;
  /** Memory for an index build (`maintenance_work_mem`), in MB; the server's own setting when unset. */
  maintenanceWorkMemMb?: number;
}

/** PostgreSQL with pgvector over `pg`; creates the extension when allowed, else expects it installed. */
export async function openPostgres(options: PgOptions): Promise<SqlClient> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 10_000,
    statement_timeout: options.statementTimeoutMs,
  });
  pool.on("error", () => undefined); // an idle client's error; the next query reports it
  pool.on("connect", (client) => {
    client.query(sessionSettings(options.efSearch, options.maintenanceWorkMemMb)).catch(() => undefined);
  });
  const sql = new PgSql(pool, pool);
  try {
    await sql.query("CREATE EXTENSION IF NOT EXISTS vector");
  } catch (e) {
    await pool.end();
    throw e;
  }
  return sql;
}
