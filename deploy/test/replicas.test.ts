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
import { connectHttpClient, modernCall, startRoundRobinProxy, type RoundRobinProxy } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needRedis } from "../../test-support/services.js";
import { killWithCallsInFlight, startReplica, toolCallsServed, type Replica } from "./replica.js";
import { root } from "./workspace.js";

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const BIN = join(root, "servers/vector-search/dist/bin.js");
const REPLICAS = 3;
const POOL = 2;
const ROUNDS = 24;
const DIM = 8;
/** Documents in each client's batch of the kill round (get_documents reads 100 at most a page). */
const BULK = 100;
/**
 * The 2025 client's request timeout (the SDK's default is 60 s), a backstop only. When the kill cuts
 * one of its calls after the answer's SSE stream has begun, the client resumes the stream on a
 * survivor, which answers with an error ("call again if that is safe") once the dead replica's stream
 * lease lapses (TOOLSHED_STREAM_LEASE_MS, 5 s by default), and the call is sent again.
 */
const LEGACY_CALL_TIMEOUT_MS = 20_000;
const hasRedis = await needRedis(REDIS_URL);
const TASKS = "io.modelcontextprotocol/tasks";
/** The big collection built as a task: enough HNSW work on PGlite to take seconds, not half of one. */
const BIG = { documents: 5_000, dimension: 256, batch: 500 };

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
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

/**
 * pglite-socket multiplexes its clients onto PGlite's one session message by message, keeping a
 * transaction's messages together but not an extended-query cycle's (Parse, Bind, Execute … Sync):
 * two pools querying at once then answer "portal \"\" does not exist". This keeps each client's
 * cycle together as well, up to its Sync, as a PostgreSQL backend per connection would. A client that
 * disconnects inside its cycle or transaction (its replica was killed) is rolled back and released,
 * as PostgreSQL ends the backend of a dropped connection.
 */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

function keepQueryCyclesTogether(server: PGLiteSocketServer): void {
  const q = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  let inCycle = false;
  const gone = new Set<number>();
  q.processQueue = async function processQueue(this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        let i = 0;
        if ((inCycle || this.db.isInTransaction()) && this.lastHandlerId !== null) {
          if (gone.has(this.lastHandlerId)) {
            // Its unfinished cycle ends with a Sync of ours (inside its transaction block that
            // commits nothing), then its transaction is rolled back.
            if (inCycle)
              await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => {} }));
            if (this.db.isInTransaction()) await this.db.exec("ROLLBACK");
            inCycle = false;
            this.lastHandlerId = null;
            continue;
          }
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
  // Called when a client disconnects (its queued messages already dropped).
  q.clearTransactionIfNeeded = async function clearTransactionIfNeeded(this: QueryQueue, handlerId: number) {
    gone.add(handlerId);
    await this.processQueue();
  };
}

/** The batch each client writes in the kill round: BULK documents, one transaction. */
function bulk(worker: number) {
  return Array.from({ length: BULK }, (_, i) => ({
    id: `bulk-${String(i).padStart(3, "0")}`,
    text: `batch document ${i} of client ${worker}`,
    vector: vectorOf(worker, 1000 + i),
    metadata: { batch: i },
  }));
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
    const LEGACY = 3;
    const KILLED = 1;
    const killed = replicas[KILLED]!;
    const errors: string[] = [];
    /** Calls the kill cut mid-flight; each is sent again (reads and upserts are idempotent). */
    const cutCalls: string[] = [];
    /** What each cut write had done when it was cut, read back from a survivor: all or nothing. */
    const cutWrites: string[] = [];
    let resentOk = 0;
    let killing = false;
    let survivor: Awaited<ReturnType<typeof connectHttpClient>> | undefined;
    const call = async (w: number, name: string, args: Record<string, unknown>) => {
      const send = () =>
        clients[w]!.callTool(
          { name, arguments: args },
          w === LEGACY ? { timeout: LEGACY_CALL_TIMEOUT_MS } : {},
        );
      let r: Awaited<ReturnType<typeof send>>;
      try {
        r = await send();
      } catch (err) {
        if (!killing) {
          errors.push(`${name} (client ${w}): ${String(err)}`);
          return undefined;
        }
        cutCalls.push(`${name} (client ${w}): ${String(err)}`);
        if (name === "upsert_documents") cutWrites.push(await appliedPart(args));
        try {
          r = await send();
        } catch (again) {
          errors.push(`${name} (client ${w}), sent again after the kill cut it: ${String(again)}`);
          return undefined;
        }
        if (!r.isError) resentOk++;
      }
      if (r.isError) errors.push(`${name} (client ${w}): ${JSON.stringify(r.content)}`);
      return r.structuredContent as Record<string, unknown> | undefined;
    };
    type Doc = { id: string; text: string | null; metadata: Record<string, unknown> };
    /**
     * How much of a cut upsert is in the store, asked of a survivor directly: "all" (each document
     * as written) or "none", else a description of the half-write.
     */
    const appliedPart = async (args: Record<string, unknown>): Promise<string> => {
      const sent = args.documents as Doc[];
      survivor ??= await connectHttpClient(`${replicas[0]!.origin}/mcp`, {}, undefined, "modern");
      const got = await survivor.callTool({
        name: "get_documents",
        arguments: { collection: args.collection, ids: sent.map((d) => d.id), limit: 100 },
      });
      const { total, documents } = got.structuredContent as { total: number; documents: Doc[] };
      if (total === 0) return "none";
      const want = sent.slice(0, 100).map((d) => ({ id: d.id, text: d.text, metadata: d.metadata }));
      const byId = (a: Doc, b: Doc) => (a.id < b.id ? -1 : 1);
      if (total === sent.length && JSON.stringify(documents) === JSON.stringify(want.sort(byId)))
        return "all";
      return `${total} of ${sent.length} documents: ${JSON.stringify(documents.slice(0, 2))}`;
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
    let inFlightAtKill = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const killRound = round === ROUNDS / 2;
      const work = Promise.all([
        ...clients.map(async (_, w) => {
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
        // In the kill round each client also writes a batch of documents beside the round's calls,
        // so the kill lands on writes in flight.
        ...(killRound
          ? clients.map(async (_, w) => {
              const r = await call(w, "upsert_documents", { collection: collection(w), documents: bulk(w) });
              if (r?.upserted !== BULK) unseen++;
            })
          : []),
      ]);
      if (killRound) {
        // SIGKILL with calls on the replica: the proxy answers them 502 (or cuts their stream if the
        // answer had begun), as a load balancer would; `call` sends each again, to a survivor.
        killing = true;
        inFlightAtKill = await killWithCallsInFlight(proxy, KILLED, killed);
      }
      await work;
      killing = false;
    }
    await Promise.all(clients.map((c) => c.close()));
    process.stderr.write(
      `[replicas] vector-search: SIGKILL with ${inFlightAtKill} calls in flight on the replica cut ${cutCalls.length} (cut writes found applied: ${cutWrites.join(", ") || "none cut"}):\n  ${cutCalls.join("\n  ")}\n`,
    );
    expect(errors).toEqual([]);
    expect(unseen).toBe(0);
    // The kill cut calls in flight, and only on the killed replica, as the proxy saw it too: each was
    // answered 502 naming it (or, for the 2025 client whose answer had begun, by the survivor it resumed
    // on once the dead replica's stream lease lapsed; its timeout is only the backstop),
    // and each, sent again, was answered by a survivor (and read back, with the others, above).
    expect(cutCalls.length).toBeGreaterThan(0);
    expect(proxy.cut).toEqual(replicas.map((_, i) => (i === KILLED ? cutCalls.length : 0)));
    for (const cut of cutCalls) {
      expect(cut).toMatch(
        new RegExp(
          `upstream ${killed.origin} failed|server instance running this call stopped|Request timed out`,
        ),
      );
    }
    expect(resentOk).toBe(cutCalls.length);
    // A write cut mid-flight is one transaction: before it was sent again it was in the store whole
    // (the replica committed before it died) or not at all, never in part.
    for (const applied of cutWrites) expect(["all", "none"]).toContain(applied);
    // (The check itself tells the two apart: a batch written whole, a batch never written.)
    expect(await appliedPart({ collection: collection(0), documents: bulk(0) })).toBe("all");
    const never = bulk(0).map((d) => ({ ...d, id: `never-${d.id}` }));
    expect(await appliedPart({ collection: collection(0), documents: never })).toBe("none");
    await survivor?.close();
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
        const batch = await direct.callTool({
          name: "get_documents",
          arguments: { collection: collection(w), ids: bulk(w).map((d) => d.id), limit: 1 },
        });
        expect((batch.structuredContent as { total: number }).total, `${r.origin}, client ${w}`).toBe(BULK);
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
  // Tasks across replicas: a client of the tasks extension builds a big collection's index through the
  // proxy; the call outlives the half second after which it becomes a task, stored in Redis, so every
  // surviving replica answers its polls, whichever one runs it, and the result is the build's own.
  it("builds an index as a task whose polls any replica answers, then every replica searches it", async () => {
    // Two after the first test's kill (three when this test runs alone, with -t).
    const survivors = replicas.filter((r) => r.child.signalCode === null);
    expect(survivors.length).toBeGreaterThanOrEqual(REPLICAS - 1);
    const withTasks = { extensions: { [TASKS]: {} } };
    const client = await connectHttpClient(proxy.url, {}, undefined, "modern");
    const name = "replicas_big";
    const unit = (i: number) => {
      const v = Array.from({ length: BIG.dimension }, (_, j) => Math.sin((i + 1) * (j + 1) * 0.013 + j));
      const norm = Math.hypot(...v);
      // Four decimals keep a batch's request well under the server's 4 MB body limit.
      return v.map((x) => Math.round((x / norm) * 1e4) / 1e4);
    };
    const created = await client.callTool({
      name: "create_collection",
      arguments: { name, embedder: "none", dimension: BIG.dimension, metric: "cosine", index: "deferred" },
    });
    expect(created.isError, JSON.stringify(created.content)).toBeFalsy();
    for (let at = 0; at < BIG.documents; at += BIG.batch) {
      const documents = Array.from({ length: BIG.batch }, (_, k) => ({
        id: `big-${at + k}`,
        vector: unit(at + k),
      }));
      const r = await client.callTool({
        name: "upsert_documents",
        arguments: { collection: name, documents },
      });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    }
    await client.close();

    type Reply = {
      result?: {
        resultType?: string;
        taskId?: string;
        status?: string;
        result?: { isError?: boolean; structuredContent?: { documents?: number; index?: string } };
      };
      error?: unknown;
    };
    const started = Date.now();
    const reply = (await modernCall(
      proxy.url,
      "tools/call",
      { name: "build_index", arguments: { collection: name } },
      withTasks,
    )) as Reply;
    expect(reply.result?.resultType, JSON.stringify(reply).slice(0, 300)).toBe("task");
    const taskId = reply.result!.taskId!;
    // Each survivor, asked directly, knows the task.
    for (const r of survivors) {
      const got = (await modernCall(`${r.origin}/mcp`, "tasks/get", { taskId }, withTasks)) as Reply;
      expect(got.error, r.origin).toBeUndefined();
      expect(["working", "completed"], r.origin).toContain(got.result?.status);
    }
    let task: Reply["result"];
    for (const until = Date.now() + 120_000; task?.status !== "completed";) {
      const got = (await modernCall(proxy.url, "tasks/get", { taskId }, withTasks)) as Reply;
      task = got.result;
      expect(["working", "completed"], JSON.stringify(got).slice(0, 300)).toContain(task?.status);
      if (Date.now() > until) throw new Error(`task ${taskId} still ${task?.status} after 120 s`);
      if (task?.status !== "completed") await new Promise((r) => setTimeout(r, 200));
    }
    process.stderr.write(
      `[replicas] vector-search: build_index over ${BIG.documents} documents ran as a task for ${Date.now() - started} ms\n`,
    );
    // The result, read through the proxy (so maybe from the other survivor), is the build's.
    expect(task?.result?.isError).toBeFalsy();
    expect(task?.result?.structuredContent).toMatchObject({ documents: BIG.documents, index: "hnsw" });
    // Every survivor, asked directly, finds each probe's own document first on the built index.
    for (const r of survivors) {
      const direct = await connectHttpClient(`${r.origin}/mcp`, {}, undefined, "modern");
      for (const i of [0, 2_345, BIG.documents - 1]) {
        const found = await direct.callTool({
          name: "search",
          arguments: { collection: name, vector: unit(i), top_k: 1 },
        });
        const ids = ((found.structuredContent as { results?: { id: string }[] }).results ?? []).map(
          (d) => d.id,
        );
        expect(ids, `${r.origin}, probe ${i}`).toEqual([`big-${i}`]);
      }
      await direct.close();
    }
  }, 240_000);
});
