import { startTestHttpServer, type Client, type TestHttpServer } from "@toolshed/testing";
import { availableParallelism, loadavg } from "node:os";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { configSchema } from "../src/config.js";
import type { Deps } from "../src/deps.js";
import type { OfflineEmbedder } from "../src/embedders/offline.js";
import server from "../src/server.js";
import { tempDir } from "./backends.js";

// Real HTTP on loopback, the real SDK client, PGlite on disk, the offline model on worker threads.
vi.setConfig({ testTimeout: 200_000, hookTimeout: 120_000 });

const WORDS =
  "the river bank holds old boats while traders count silver coins near market stalls and children chase bright kites across green hills under autumn skies".split(
    " ",
  );

/** Documents of English-like text (90 words: about 500 characters), different from each other. */
function docs(n: number, prefix: string, words = 90): { id: string; text: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    text: Array.from({ length: words }, (_, k) => WORDS[(i * 7 + k * 13 + k * k) % WORDS.length]).join(" "),
  }));
}

interface Result {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}
const textOf = (r: Result) => (r.content ?? []).map((c) => c.text ?? "").join("\n");

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function count(c: Client, collection: string): Promise<number> {
  const r = (await c.callTool({ name: "collection_info", arguments: { name: collection } })) as Result;
  return r.structuredContent?.count as number;
}

function pool(http: TestHttpServer) {
  return ((http.runtime.openedDeps as Deps).embedder as OfflineEmbedder).poolStats();
}

/** The embedding pool has nothing running or waiting, within `ms`. */
async function poolIdle(http: TestHttpServer, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const s = pool(http);
    if (s.running === 0 && s.queued === 0) return true;
    await sleep(20);
  }
  return false;
}

describe("ingest never freezes the server", () => {
  const data = tempDir();
  let http: TestHttpServer;
  let writer: Client;
  let other: Client;

  beforeAll(async () => {
    // A deadline (60 s by default) with room for 300 documents on a machine shared at a load of 15.
    http = await startTestHttpServer(
      { ...server, defaultTimeoutMs: 170_000 },
      {},
      { config: configSchema.parse({ dataDir: data.dir }) },
    );
    writer = await http.connect();
    other = await http.connect();
    await writer.callTool({ name: "create_collection", arguments: { name: "big" } });
    // Loads the model on the worker (slow on a cold, busy machine: hence the hook timeout), so the
    // timings below are of steady work.
    const warm = (await writer.callTool({
      name: "upsert_documents",
      arguments: { collection: "big", documents: docs(2, "warm") },
    })) as Result;
    expect(warm.isError).toBeFalsy();
    // And on the query lane, the thread a search's query runs on.
    const query = (await other.callTool({
      name: "search",
      arguments: { collection: "big", query: "warm up" },
    })) as Result;
    expect(query.isError, textOf(query)).toBeFalsy();
  }, 120_000);
  afterAll(async () => {
    await writer?.close();
    await other?.close();
    await http?.close();
    data.cleanup();
  });

  it("answers /healthz and another session's searches within 200 ms (p99) during a 300-document upsert", async () => {
    const n = 300;
    const search = () =>
      timed(
        () =>
          other.callTool({
            name: "search",
            arguments: { collection: "big", query: "silver coins near the market" },
          }) as Promise<Result>,
      );
    // The same search with nothing else running: what this machine, as loaded now, makes of it.
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) {
      idle.push((await search()).ms);
      await sleep(50);
    }
    let done = false;
    const progress: { progress: number; total?: number }[] = [];
    const upsert = timed(async () => {
      try {
        return (await writer.callTool(
          { name: "upsert_documents", arguments: { collection: "big", documents: docs(n, "d", 40) } },
          { timeout: 180_000, onprogress: (p) => progress.push(p) },
        )) as Result;
      } finally {
        done = true;
      }
    });
    const base = http.url.replace(/\/mcp$/, "");
    // Two pollers at once, as a load balancer and another user would be; bounded by the upsert
    // (itself bounded by its 110 s timeout).
    const health: number[] = [];
    const searches: number[] = [];
    const pollHealth = async () => {
      while (!done) {
        const h = await timed(() => fetch(`${base}/healthz`));
        expect(h.value.status).toBe(200);
        health.push(h.ms);
        await sleep(20);
      }
    };
    const pollSearch = async () => {
      while (!done) {
        const s = await search();
        expect(s.value.isError, textOf(s.value)).toBeFalsy();
        searches.push(s.ms);
        await sleep(100);
      }
    };
    await Promise.all([pollHealth(), pollSearch()]);
    const { ms, value } = await upsert;
    const stats = (xs: number[]) => ({
      n: xs.length,
      p50: Math.round(percentile(xs, 50)),
      p99: Math.round(percentile(xs, 99)),
      max: Math.round(Math.max(...xs)),
    });
    const summary = {
      upsert_s: +(ms / 1000).toFixed(2),
      docs_per_s: +((n * 1000) / ms).toFixed(1),
      healthz: stats(health),
      search: stats(searches),
      search_idle: stats(idle),
      loadavg: +loadavg()[0]!.toFixed(1),
    };
    process.stderr.write(`[ingest] ${JSON.stringify(summary)}\n`);
    expect(value.isError, textOf(value)).toBeFalsy();
    expect(value.structuredContent?.upserted).toBe(n);
    // Embedding and writing overlap (rows go into the live index as they embed): progress counts
    // both, climbing to the total.
    const climbed = progress.map((p) => p.progress);
    expect(climbed).toEqual([...climbed].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ progress: 2 * n, total: 2 * n });
    // Before the worker pool, /healthz waited for the whole upsert (9.95 s in a 10.5 s one); before
    // the query lane and the database thread, a search waited for bulk batches (up to 2.9 s).
    expect(health.length, JSON.stringify(summary)).toBeGreaterThan(50);
    expect(searches.length, JSON.stringify(summary)).toBeGreaterThan(20);
    expect(summary.healthz.p99, JSON.stringify(summary)).toBeLessThanOrEqual(200);
    // A search costs CPU of its own (the query's embedding): on a machine loaded by others it is
    // slow with or without an ingest (p50 120-150 ms idle at a load of 13 on two cores, p99 250-360).
    // There the bar is what the ingest may add: the idle p99 twice over, plus 200 ms.
    const othersLoad = summary.loadavg > availableParallelism() * 1.5;
    const searchBar = othersLoad ? 200 + 2 * summary.search_idle.p99 : 200;
    process.stderr.write(
      `[ingest] search p99 bar: ${searchBar} ms (${othersLoad ? "machine loaded by others" : "quiet machine"})
`,
    );
    expect(summary.search.p99, JSON.stringify(summary)).toBeLessThanOrEqual(searchBar);
  });

  it("stops a long upsert at once when the client cancels, writing nothing after it", async () => {
    const before = await count(other, "big");
    const cancel = new AbortController();
    const call = writer.callTool(
      { name: "upsert_documents", arguments: { collection: "big", documents: docs(400, "c") } },
      { signal: cancel.signal, timeout: 110_000 },
    );
    await sleep(1500);
    expect(pool(http).running).toBeGreaterThan(0);
    cancel.abort();
    await expect(call).rejects.toThrow();
    // The batch running on a thread is dropped with its thread; nothing more is queued. Rows are
    // written into the live index as they embed: those committed before the cancellation stay
    // (repeating the call is safe), none is written after it.
    expect(await poolIdle(http, 1000)).toBe(true);
    await sleep(300);
    const kept = await count(other, "big");
    expect(kept - before).toBeLessThan(400);
    await sleep(700);
    expect(await count(other, "big")).toBe(kept);
    const after = (await other.callTool({
      name: "upsert_documents",
      arguments: { collection: "big", documents: docs(1, "after") },
    })) as Result;
    expect(after.isError, textOf(after)).toBeFalsy();
  });
});

describe("the per-call deadline holds for embedding and for writing", () => {
  const data = tempDir();
  let http: TestHttpServer;
  let c: Client;

  beforeAll(async () => {
    // The kit's deadline (60 s by default) made short, so a test can outlast it.
    http = await startTestHttpServer(
      { ...server, defaultTimeoutMs: 2000 },
      {},
      // A dense, wide HNSW graph makes each write into the live index slow (tens of ms a row).
      { config: configSchema.parse({ dataDir: data.dir, hnswM: 64, hnswEfConstruction: 1000 }) },
    );
    c = await http.connect();
    await c.callTool({ name: "create_collection", arguments: { name: "slow" } });
    await c.callTool({
      name: "create_collection",
      arguments: { name: "wide", embedder: "none", dimension: 128 },
    });
  });
  afterAll(async () => {
    await c?.close();
    await http?.close();
    data.cleanup();
  });

  it("returns a timeout at the deadline of a long upsert, stops the work and stays healthy", async () => {
    const { ms, value } = await timed(
      () =>
        c.callTool({
          name: "upsert_documents",
          arguments: { collection: "slow", documents: docs(400, "s") },
        }) as Promise<Result>,
    );
    expect(value.isError).toBe(true);
    expect(textOf(value)).toMatch(/^timeout: tool 'upsert_documents' did not finish within 2s/);
    // 400 documents take 30 s or more here; the answer comes at the deadline.
    expect(ms).toBeLessThan(4000);
    expect(await poolIdle(http, 1000)).toBe(true);
    const health = await timed(() => fetch(`${http.url.replace(/\/mcp$/, "")}/healthz`));
    expect(health.value.status).toBe(200);
    expect(health.ms).toBeLessThan(300);
    // Rows written into the live index as they embedded stay; none is written after the deadline.
    await sleep(500);
    const kept = await count(c, "slow");
    expect(kept).toBeLessThan(400);
    await sleep(700);
    expect(await count(c, "slow")).toBe(kept);
    // The server goes on serving; the next embedding starts a fresh thread (shown in the
    // cancellation test, whose deadline leaves room for the model to load on a busy machine).
    const keyword = (await c.callTool({
      name: "search",
      arguments: { collection: "slow", query: "silver", mode: "keyword" },
    })) as Result;
    expect(keyword.isError, textOf(keyword)).toBeFalsy();
  });

  it("stops writing into a live index at the deadline, keeping the batches committed, and stays healthy", async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const documents = Array.from({ length: 1000 }, (_, i) => ({
      id: `v${i}`,
      vector: Array.from({ length: 128 }, () => +random().toFixed(4)),
    }));
    const { ms, value } = await timed(
      () =>
        c.callTool({
          name: "upsert_documents",
          arguments: { collection: "wide", documents },
        }) as Promise<Result>,
    );
    expect(value.isError).toBe(true);
    expect(textOf(value)).toMatch(/^timeout: tool 'upsert_documents' did not finish within 2s/);
    expect(ms).toBeLessThan(4000);
    const health = await timed(() => fetch(`${http.url.replace(/\/mcp$/, "")}/healthz`));
    expect(health.value.status).toBe(200);
    expect(health.ms).toBeLessThan(300);
    // The batch running at the deadline finishes; none starts after it.
    await sleep(500);
    const written = await count(c, "wide");
    await sleep(1000);
    expect(await count(c, "wide")).toBe(written);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(1000);
    expect(written % 8).toBe(0); // whole batches of PGLITE_INDEXED_BATCH_ROWS
  });
});
