import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite, type SerializerOptions, type Transaction } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import {
  DEFAULT_EF_SEARCH,
  DEFAULT_MAINTENANCE_WORK_MEM_MB,
  sessionSettings,
  vectorBytes,
  type SqlClient,
  type VectorInput,
} from "./sql.js";

type Queryable = Pick<PGlite, "query"> | Transaction;

class PGliteSql implements SqlClient {
  readonly kind = "pglite" as const;
  constructor(
    private readonly db: PGlite,
    private readonly conn: Queryable,
    private readonly serializers: SerializerOptions,
  ) {}

  async query<R>(text: string, params: unknown[] = []): Promise<R[]> {
    const r = await this.conn.query<R>(text, params, { serializers: this.serializers });
    return r.rows;
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new PGliteSql(this.db, tx, this.serializers)));
  }

  vectorParam(v: VectorInput): unknown {
    return vectorBytes(v);
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

export interface PGliteOptions {
  /** HNSW candidate list size at query time (`hnsw.ef_search`). */
  efSearch?: number;
  /** Memory for an HNSW index build (`maintenance_work_mem`), in MB. */
  maintenanceWorkMemMb?: number;
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) with pgvector on the calling thread, persisted in
 * `dataDir` (in memory when undefined). Vectors are bound in binary: PGlite parses float text
 * slowly, binary skips that. The server uses `openPGlite` (this on its own thread) instead: every
 * statement here runs on the caller's event loop.
 */
export async function openPGliteInProcess(
  dataDir: string | undefined,
  options: PGliteOptions = {},
): Promise<SqlClient & { db: PGlite }> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const fresh = !dataDir || readdirSync(dataDir).length === 0;
  const template = fresh ? findTemplate() : undefined;
  const db = await PGlite.create({
    dataDir,
    extensions: { vector },
    ...(template ? { loadDataDir: new Blob([readFileSync(template)]) } : {}),
  });
  await db.exec("CREATE EXTENSION IF NOT EXISTS vector");
  await db.exec(
    sessionSettings(
      options.efSearch ?? DEFAULT_EF_SEARCH,
      options.maintenanceWorkMemMb ?? DEFAULT_MAINTENANCE_WORK_MEM_MB,
    ),
  );
  const [row] = (await db.query<{ oid: number }>("SELECT 'vector'::regtype::oid AS oid")).rows;
  // A Uint8Array returned by a serializer is sent as a binary-format parameter.
  // (PGlite types serializers as returning strings; its wire encoder also takes bytes.)
  const serializers: SerializerOptions = { [Number(row?.oid)]: (x: unknown) => x as string };
  return Object.assign(new PGliteSql(db, db, serializers), { db });
}

/** The initialised data dir made at build time (dist/pgdata-template.tar.gz), if there is one. */
function findTemplate(): string | undefined {
  // From dist/store/ (the package) or src/store/ (tests run from source after a build).
  for (const rel of ["../pgdata-template.tar.gz", "../../dist/pgdata-template.tar.gz"]) {
    const file = new URL(rel, import.meta.url);
    if (existsSync(file)) return fileURLToPath(file);
  }
  return undefined;
}
