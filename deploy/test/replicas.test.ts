// `pnpm test:replicas`: three processes of vector-search on one PostgreSQL with pgvector (PGlite
// served over the wire protocol by pglite-socket, since this machine's PostgreSQL has no pgvector)
// and one Redis, behind a loopback round-robin proxy, the way the -cluster overlays run them. A mixed
// workload from 2026-07-28 clients and a 2025 client: every write is read back through the proxy
// (so from other replicas), one replica is killed mid-run, and at the end every write is read from
// every surviving replica directly. 0 errors, 0 lost writes.
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { connectHttpClient, startRoundRobinProxy, type RoundRobinProxy } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needRedis } from "../../test-support/services.js";
import { startReplica, toolCallsServed, type Replica } from "./replica.js";
import { root } from "./workspace.js";

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const BIN = join(root, "servers/vector-search/dist/bin.js");
const REPLICAS = 3;
const POOL = 2;
const ROUNDS = 24;
const DIM = 8;
const hasRedis = await needRedis(REDIS_URL);

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData(data: Uint8Array): void;
  resolve(bytes: number): void;
  reject(err: Error): void;
}
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
}

/**
 * pglite-socket multiplexes its clients onto PGlite's one session message by message, keeping a
 * transaction's messages together but not an extended-query cycle's (Parse, Bind, Execute … Sync):
 * two pools querying at once then answer "portal \"\" does not exist". This keeps each client's
 * cycle together as well, up to its Sync, as a PostgreSQL backend per connection would.
 */
function keepQueryCyclesTogether(server: PGLiteSocketServer): void {
  const q = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  let inCycle = false;
  q.processQueue = async function processQueue(this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        let i = 0;
        if ((inCycle || this.db.isInTransaction()) && this.lastHandlerId !== null) {
          i = this.queue.findIndex((m) => m.handlerId === this.lastHandlerId);
          if (i === -1) break; // wait for that client's next message
        }
        const query = this.queue.splice(i, 1)[0]!;
        const type = String.fromCharCode(query.message[0] ?? 0);
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(query.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                query.onData(data);
              },
            }),
          );
        } catch (err) {
          inCycle = false;
          query.reject(err as Error);
          continue;
        }
        this.lastHandlerId = query.handlerId;
        // P(arse), B(ind), D(escribe), E(xecute), C(lose), H (flush) open a cycle; S(ync) ends it.
        if ("PBDECH".includes(type)) inCycle = true;
        else if (type === "S" || type === "Q") inCycle = false;
        query.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
}

/** A unit vector pointing at the round's own corner, so a vector search finds exactly its document. */
function vectorOf(worker: number, round: number): number[] {
  const v = Array.from({ length: DIM }, (_, i) => Math.sin((worker + 1) * (i + 1) + round * 0.37 * (i + 2)));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

describe.runIf(hasRedis)("vector-search replicas on one PostgreSQL (pgvector) and one Redis", () => {
  let db: PGlite;
  let pg: PGLiteSocketServer;
  const replicas: Replica[] = [];
  let proxy: RoundRobinProxy;

  beforeAll(async () => {
    db = await PGlite.create({ extensions: { vector } });
    pg = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections: REPLICAS * POOL + 2 });
    keepQueryCyclesTogether(pg);
    await pg.start();
    const env = {
      TOOLSHED_POSTGRES_URL: `postgres://postgres@${pg.getServerConn()}/postgres`,
      TOOLSHED_POSTGRES_POOL_SIZE: String(POOL),
      TOOLSHED_REDIS_URL: REDIS_URL,
      // The collections here bring their own vectors: no model to load in three processes.
      TOOLSHED_EMBEDDER: "openai-compatible",
      TOOLSHED_EMBEDDING_URL: "http://127.0.0.1:9/v1",
      TOOLSHED_EMBEDDING_ALLOW_PRIVATE: "true",
      TOOLSHED_EMBEDDING_DIMENSION: String(DIM),
    };
    // One after the other, as a rolling start would: the first creates the schema.
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica(BIN, env));
    proxy = await startRoundRobinProxy(
      replicas.map((r) => r.origin),
      { failover: true },
    );
  }, 180_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(replicas.map((r) => r.kill()));
    await pg?.stop();
    await db?.close();
  });

  it("serves a mixed workload with 0 errors and 0 lost writes, through the kill of one replica", async () => {
    // Three 2026-07-28 clients (stateless: any replica answers) and one 2025 client whose session
    // lives in Redis (plain round robin, no affinity), each writing its own collection.
    const clients = [
      await connectHttpClient(proxy.url, {}, undefined, "modern"),
      await connectHttpClient(proxy.url, {}, undefined, "modern"),
      await connectHttpClient(proxy.url, {}, undefined, "modern"),
      await connectHttpClient(proxy.url),
    ];
    const collection = (w: number) => `replicas_${w}`;
    const errors: string[] = [];
    const call = async (w: number, name: string, args: Record<string, unknown>) => {
      try {
        const r = await clients[w]!.callTool({ name, arguments: args });
        if (r.isError) errors.push(`${name} (client ${w}): ${JSON.stringify(r.content)}`);
        return r.structuredContent as Record<string, unknown> | undefined;
      } catch (err) {
        errors.push(`${name} (client ${w}): ${String(err)}`);
        return undefined;
      }
    };
    for (let w = 0; w < clients.length; w++) {
      await call(w, "create_collection", {
        name: collection(w),
        embedder: "none",
        dimension: DIM,
        metric: "cosine",
      });
    }
    const before = await Promise.all(replicas.map((r) => toolCallsServed(r.origin)));
    let unseen = 0;
    const killed = replicas[1]!;
    for (let round = 0; round < ROUNDS; round++) {
      if (round === ROUNDS / 2) await killed.kill();
      await Promise.all(
        clients.map(async (_, w) => {
          const id = `doc-${round}`;
          const word = `w${w}r${round}x`;
          await call(w, "upsert_documents", {
            collection: collection(w),
            documents: [
              {
                id,
                text: `round ${round} of client ${w}: ${word}`,
                vector: vectorOf(w, round),
                metadata: { round },
              },
            ],
          });
          // Read back on the next requests, which the proxy sends to other replicas.
          const got = await call(w, "get_documents", { collection: collection(w), ids: [id] });
          const byVector = await call(w, "search", {
            collection: collection(w),
            vector: vectorOf(w, round),
            top_k: 1,
          });
          const byWord = await call(w, "search", {
            collection: collection(w),
            query: word,
            mode: "keyword",
            top_k: 3,
          });
          const ids = (x: Record<string, unknown> | undefined, key: string) =>
            ((x?.[key] as { id: string }[] | undefined) ?? []).map((d) => d.id);
          if (!ids(got, "documents").includes(id)) unseen++;
          if (ids(byVector, "results")[0] !== id) unseen++;
          if (!ids(byWord, "results").includes(id)) unseen++;
          await call(w, "list_collections", {});
        }),
      );
    }
    await Promise.all(clients.map((c) => c.close()));
    expect(errors).toEqual([]);
    expect(unseen).toBe(0);
    expect(killed.child.signalCode).toBe("SIGKILL");

    // Every replica served its share before the kill; the survivors carried on after it.
    const survivors = replicas.filter((r) => r !== killed);
    const after = await Promise.all(survivors.map((r) => toolCallsServed(r.origin)));
    survivors.forEach((r, i) =>
      expect(after[i]! - before[replicas.indexOf(r)]!, r.origin).toBeGreaterThan(ROUNDS),
    );

    // No lost write: each survivor, asked directly, has every document of every collection.
    for (const r of survivors) {
      const direct = await connectHttpClient(`${r.origin}/mcp`, {}, undefined, "modern");
      for (let w = 0; w < clients.length; w++) {
        const ids = Array.from({ length: ROUNDS }, (_, round) => `doc-${round}`);
        const res = await direct.callTool({
          name: "get_documents",
          arguments: { collection: collection(w), ids, limit: 100 },
        });
        const found = ((res.structuredContent as { documents?: { id: string }[] }).documents ?? []).map(
          (d) => d.id,
        );
        expect(found.sort(), `${r.origin}, client ${w}`).toEqual([...ids].sort());
      }
      await direct.close();
    }
  }, 300_000);
});
