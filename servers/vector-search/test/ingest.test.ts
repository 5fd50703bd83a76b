import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startTestHttpServer, type TestHttpServer } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { configSchema } from "../src/config.js";
import type { Deps } from "../src/deps.js";
import type { OfflineEmbedder } from "../src/embedders/offline.js";
import server from "../src/server.js";
import { tempDir } from "./backends.js";

// Real HTTP on loopback, the real SDK client, PGlite on disk, the offline model on worker threads.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const WORDS =
  "the river bank holds old boats while traders count silver coins near market stalls and children chase bright kites across green hills under autumn skies".split(
    " ",
  );

/** Documents of about 500 characters of English-like text, different from each other. */
function docs(n: number, prefix: string): { id: string; text: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    text: Array.from({ length: 90 }, (_, k) => WORDS[(i * 7 + k * 13 + k * k) % WORDS.length]).join(" "),
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
    http = await startTestHttpServer(server, {}, { config: configSchema.parse({ dataDir: data.dir }) });
    writer = await http.connect();
    other = await http.connect();
    await writer.callTool({ name: "create_collection", arguments: { name: "big" } });
    // Loads the model on the worker, so the timings below are of steady work.
    const warm = (await writer.callTool({
      name: "upsert_documents",
      arguments: { collection: "big", documents: docs(2, "warm") },
    })) as Result;
    expect(warm.isError).toBeFalsy();
  });
  afterAll(async () => {
    await writer?.close();
    await other?.close();
    await http?.close();
    data.cleanup();
  });

  it("answers /healthz promptly and serves another session during a long upsert", async () => {
    const n = 48;
    let done = false;
    const upsert = timed(async () => {
      try {
        return (await writer.callTool(
          { name: "upsert_documents", arguments: { collection: "big", documents: docs(n, "d") } },
          undefined,
          { timeout: 110_000 },
        )) as Result;
      } finally {
        done = true;
      }
    });
    const health: number[] = [];
    const searches: number[] = [];
    const lists: number[] = [];
    while (!done) {
      const h = await timed(() => fetch(`${http.url.replace(/\/mcp$/, "")}/healthz`));
      expect(h.value.status).toBe(200);
      health.push(h.ms);
      if (health.length % 5 === 0) {
        const s = await timed(
          () =>
            other.callTool({
              name: "search",
              arguments: { collection: "big", query: "silver coins", mode: "vector" },
            }) as Promise<Result>,
        );
        expect(s.value.isError).toBeFalsy();
        searches.push(s.ms);
        const l = await timed(() => other.callTool({ name: "list_collections", arguments: {} }));
        lists.push(l.ms);
      }
      await sleep(25);
    }
    const { ms, value } = await upsert;
    expect(value.isError, textOf(value)).toBeFalsy();
    expect(value.structuredContent?.upserted).toBe(n);
    const summary = {
      upsert_s: +(ms / 1000).toFixed(2),
      docs_per_s: +((n * 1000) / ms).toFixed(1),
      healthz: {
        n: health.length,
        p50: percentile(health, 50),
        p99: percentile(health, 99),
        max: Math.max(...health),
      },
      search_max: Math.max(...searches),
      list_max: Math.max(...lists),
    };
    // Before the worker pool, /healthz waited for the whole upsert (9.95 s in a 10.5 s one).
    expect(health.length, JSON.stringify(summary)).toBeGreaterThan(20);
    expect(summary.healthz.p50, JSON.stringify(summary)).toBeLessThan(50);
    // A margin for a busy two-core machine; a blocked loop shows as seconds.
    expect(summary.healthz.p99, JSON.stringify(summary)).toBeLessThan(300);
    expect(searches.length).toBeGreaterThan(2);
    // A query goes ahead of bulk batches and waits for the one running on its thread: under a
    // second on a quiet machine; the margin is for a loaded one (2.9 s seen at load 10 on 2 cores
    // with batches of 8), still well short of waiting out the whole upsert.
    expect(summary.search_max, JSON.stringify(summary)).toBeLessThan(5000);
    expect(summary.list_max, JSON.stringify(summary)).toBeLessThan(1000);
  });

  it("stops a long upsert at once when the client cancels, writing nothing", async () => {
    const before = await count(other, "big");
    const cancel = new AbortController();
    const call = writer.callTool(
      { name: "upsert_documents", arguments: { collection: "big", documents: docs(400, "c") } },
      undefined,
      { signal: cancel.signal, timeout: 110_000 },
    );
    await sleep(1500);
    expect(pool(http).running).toBeGreaterThan(0);
    cancel.abort();
    await expect(call).rejects.toThrow();
    // The batch running on a thread is dropped with its thread; nothing more is queued.
    expect(await poolIdle(http, 1000)).toBe(true);
    await sleep(300);
    expect(await count(other, "big")).toBe(before);
    const after = (await other.callTool({
      name: "upsert_documents",
      arguments: { collection: "big", documents: docs(1, "after") },
    })) as Result;
    expect(after.isError, textOf(after)).toBeFalsy();
  });
});

describe("the per-call deadline holds for embedding", () => {
  const data = tempDir();
  let http: TestHttpServer;
  let c: Client;

  beforeAll(async () => {
    // The kit's deadline (60 s by default) made short, so a test can outlast it.
    http = await startTestHttpServer(
      { ...server, defaultTimeoutMs: 2000 },
      {},
      { config: configSchema.parse({ dataDir: data.dir }) },
    );
    c = await http.connect();
    await c.callTool({ name: "create_collection", arguments: { name: "slow" } });
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
    expect(await count(c, "slow")).toBe(0);
    // The server goes on serving; the next embedding starts a fresh thread (shown in the
    // cancellation test, whose deadline leaves room for the model to load on a busy machine).
    const keyword = (await c.callTool({
      name: "search",
      arguments: { collection: "slow", query: "silver", mode: "keyword" },
    })) as Result;
    expect(keyword.isError, textOf(keyword)).toBeFalsy();
  });
});
