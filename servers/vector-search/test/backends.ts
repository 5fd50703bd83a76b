import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { openPGlite, openPostgres, VectorStore } from "../src/store/index.js";

export function tempDir(prefix = "toolshed-vs-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A PostgreSQL server with pgvector on a loopback port: PGlite served over the wire protocol by
 * pglite-socket (Debian's PostgreSQL has no pgvector here). Clients talk to it with `pg`.
 */
export async function startPgvectorServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1" });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

export interface Backend {
  name: string;
  open: () => Promise<{ store: VectorStore; close: () => Promise<void> }>;
}

export const BACKENDS: Backend[] = [
  {
    name: "embedded PGlite",
    open: async () => {
      const tmp = tempDir();
      const store = await VectorStore.open(await openPGlite(tmp.dir));
      return {
        store,
        close: async () => {
          await store.close();
          tmp.cleanup();
        },
      };
    },
  },
  {
    name: "pg over a socket",
    open: async () => {
      const server = await startPgvectorServer();
      const store = await VectorStore.open(
        await openPostgres({ url: server.url, poolSize: 1, efSearch: 100, statementTimeoutMs: 30_000 }),
      );
      return {
        store,
        close: async () => {
          await store.close();
          await server.stop();
        },
      };
    },
  },
];
