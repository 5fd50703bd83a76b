import pg from "pg";
import { encodeVector, sessionSettings, type SqlClient, type VectorInput } from "./sql.js";

type Conn = Pick<pg.PoolClient, "query">;
const noop = (): void => undefined;

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
  const settings = sessionSettings(options.efSearch, options.maintenanceWorkMemMb);
  /**
   * A connection that applies the session settings before the pool hands it out. (Sent from the pool's
   * "connect" event they raced the first query on the same client: pg queues both, but warns that it
   * will stop doing so in pg 9.) A setting the server refuses (an older pgvector) is left at its default.
   */
  class SessionClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(
      callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void),
    ): Promise<pg.Client> | void {
      const ready = super
        .connect()
        .then(() => this.query(settings).then(noop, noop))
        .then(() => this);
      if (!callback) return ready;
      const done = callback as (err: Error | null, c?: pg.Client) => void;
      ready.then((c) => done(null, c), done);
    }
  }
  const pool = new pg.Pool({
    Client: SessionClient,
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 10_000,
    statement_timeout: options.statementTimeoutMs,
  });
  pool.on("error", () => undefined); // an idle client's error; the next query reports it
  const sql = new PgSql(pool, pool);
  try {
    await sql.query("CREATE EXTENSION IF NOT EXISTS vector");
  } catch (e) {
    await pool.end();
    throw e;
  }
  return sql;
}
