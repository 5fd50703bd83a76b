import { recordChanges, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { tempDir } from "./backends.js";
import type { Deps } from "../src/deps.js";
import { call, client } from "./helpers.js";

// PGlite starts in seconds, slower on a busy machine; the offline model loads on first use.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const data = tempDir();
let t: TestClient;

beforeAll(async () => {
  // These tests are about what the tools do: they run unattended (confirmations: confirm.test.ts).
  t = await client({ dataDir: data.dir }, { confirm: "never" });
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

describe("collections and documents", () => {
  it("creates a text collection recording the offline embedder and its dimension", async () => {
    const r = await call(t, "create_collection", { name: "faq", description: "help centre" });
    expect(r.isError).toBeFalsy();
    expect(r.data).toMatchObject({
      name: "faq",
      dimension: 512,
      embedder: "offline:universal-sentence-encoder",
      metric: "cosine",
      count: 0,
      index: "hnsw",
    });
    const again = await call(t, "create_collection", { name: "faq" });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/already exists/);
    const wrongDim = await call(t, "create_collection", { name: "x", dimension: 3 });
    expect(wrongDim.text).toMatch(/dimension 3 does not match the server's embedder .* \(512 dimensions\)/);
  });

  it("upserts text, searches it in all modes, idempotently", async () => {
    const docs = [
      {
        id: "pw",
        text: "To reset your password, open Settings and choose Forgot password.",
        metadata: { topic: "account" },
      },
      {
        id: "bill",
        text: "Invoices are emailed on the first day of each month.",
        metadata: { topic: "billing" },
      },
      {
        id: "ship",
        text: "Orders ship within two business days from our warehouse.",
        metadata: { topic: "shipping" },
      },
    ];
    const up = await call(t, "upsert_documents", { collection: "faq", documents: docs });
    expect(up.data).toMatchObject({ upserted: 3, ids: ["pw", "bill", "ship"] });
    await call(t, "upsert_documents", { collection: "faq", documents: docs });
    expect((await call(t, "collection_info", { name: "faq" })).data.count).toBe(3);

    const hybrid = await call(t, "search", {
      collection: "faq",
      query: "I forgot my login password",
      top_k: 2,
    });
    expect(hybrid.data.mode).toBe("hybrid");
    expect(hybrid.data.results[0]).toMatchObject({ id: "pw", metadata: { topic: "account" } });
    expect(hybrid.data.results[0].snippet).toMatch(/^To reset your password/);
    expect(hybrid.text).toMatch(/^2 hits in faq \(hybrid\):\n1\. pw \(/);

    const vector = await call(t, "search", {
      collection: "faq",
      query: "when will my package arrive",
      mode: "vector",
      top_k: 1,
    });
    expect(vector.data.results.map((h: { id: string }) => h.id)).toEqual(["ship"]);
    const keyword = await call(t, "search", { collection: "faq", query: "invoices", mode: "keyword" });
    expect(keyword.data.results.map((h: { id: string }) => h.id)).toEqual(["bill"]);
    const filtered = await call(t, "search", {
      collection: "faq",
      query: "password",
      filter: { field: "topic", op: "ne", value: "account" },
    });
    expect(filtered.data.results.map((h: { id: string }) => h.id)).not.toContain("pw");
    const strict = await call(t, "search", {
      collection: "faq",
      query: "password",
      mode: "vector",
      min_score: 0.99,
    });
    expect(strict.data.results).toEqual([]);
  });

  it("chunks long text with overlap and replaces old chunks on re-upsert", async () => {
    const long = Array.from({ length: 60 }, (_, i) => `Sentence ${i} talks about topic ${i % 5}.`).join(" ");
    const r = await call(t, "upsert_documents", {
      collection: "faq",
      documents: [{ id: "manual", text: long, metadata: { topic: "manual" } }],
      chunk: { size: 400, overlap: 80 },
    });
    const n = r.data.upserted as number;
    expect(n).toBeGreaterThan(4);
    expect(r.data.ids[0]).toBe("manual#0");
    const got = await call(t, "get_documents", {
      collection: "faq",
      filter: { field: "source_id", op: "eq", value: "manual" },
      limit: 100,
    });
    expect(got.data.total).toBe(n);
    const [c0, c1] = got.data.documents as { text: string; metadata: { chunk: number } }[];
    expect(c0!.metadata.chunk).toBe(0);
    expect(c0!.text.slice(-40).split(" ").slice(1).join(" ").length).toBeGreaterThan(0);
    expect(c1!.text.includes(c0!.text.slice(-30).trim())).toBe(true); // the overlap
    await call(t, "upsert_documents", {
      collection: "faq",
      documents: [{ id: "manual", text: long.slice(0, 700) }],
      chunk: { size: 400, overlap: 80 },
    });
    const after = await call(t, "get_documents", {
      collection: "faq",
      filter: { field: "source_id", op: "eq", value: "manual" },
    });
    expect(after.data.total).toBe(2);
    expect(
      (
        await call(t, "delete_documents", {
          collection: "faq",
          filter: { field: "source_id", op: "eq", value: "manual" },
        })
      ).data.deleted,
    ).toBe(2);
  });

  it("writes a live-index text upsert as it embeds, with the same result as one write", async () => {
    await call(t, "create_collection", { name: "steps" });
    const text = (i: number) => `note ${i} about ${["boats", "coins", "kites", "hills"][i % 4]}`;
    // A repeated id in a later write run than its first occurrence, and caller vectors between texts.
    const own = Array.from({ length: 512 }, (_, j) => (j === 0 ? 1 : 0));
    const documents = [
      ...Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, text: text(i) })),
      { id: "own", vector: own },
      { id: "n0", text: "the last occurrence of n0 wins" },
      ...Array.from({ length: 5 }, (_, i) => ({ id: `m${i}`, text: text(i + 20) })),
    ];
    const up = await call(t, "upsert_documents", { collection: "steps", documents });
    expect(up.isError, up.text).toBeFalsy();
    expect(up.data.upserted).toBe(26);
    const got = await call(t, "get_documents", {
      collection: "steps",
      ids: ["n0", "own"],
      include_vectors: true,
    });
    const byId = Object.fromEntries(
      (got.data.documents as { id: string; text: string | null; vector: number[] }[]).map((d) => [d.id, d]),
    );
    expect(byId.n0!.text).toBe("the last occurrence of n0 wins");
    expect(byId.own!.vector).toEqual(own);
    expect((await call(t, "collection_info", { name: "steps" })).data.count).toBe(26);
    // A bad caller vector anywhere in the call is refused before any text is embedded or written.
    const bad = await call(t, "upsert_documents", {
      collection: "steps",
      documents: [
        ...Array.from({ length: 12 }, (_, i) => ({ id: `b${i}`, text: text(i) })),
        { id: "short", vector: [1, 2] },
      ],
    });
    expect(bad.text).toMatch(
      /document 'short' has a 2-dimension vector but collection 'steps' holds 512-dimension/,
    );
    expect((await call(t, "collection_info", { name: "steps" })).data.count).toBe(26);
    expect((await call(t, "delete_collection", { name: "steps" })).isError).toBeFalsy();
  });

  it("takes caller vectors and refuses mismatches, naming which is which", async () => {
    const made = await call(t, "create_collection", {
      name: "vecs",
      embedder: "none",
      dimension: 3,
      metric: "l2",
    });
    expect(made.data).toMatchObject({ embedder: "none", dimension: 3, metric: "l2" });
    await call(t, "upsert_documents", {
      collection: "vecs",
      documents: [
        { id: "x", vector: [1, 0, 0], metadata: { n: 1 } },
        { id: "y", vector: [0, 1, 0], metadata: { n: 2 } },
      ],
    });
    const s = await call(t, "search", { collection: "vecs", vector: [0.9, 0.1, 0], top_k: 1 });
    expect(s.data).toMatchObject({ mode: "vector", results: [{ id: "x" }] });
    const text = await call(t, "upsert_documents", {
      collection: "vecs",
      documents: [{ id: "z", text: "hello" }],
    });
    expect(text.isError).toBe(true);
    expect(text.text).toMatch(
      /collection 'vecs' holds caller-supplied 3-dimension vectors \(embedder none\)/,
    );
    const dim = await call(t, "upsert_documents", {
      collection: "vecs",
      documents: [{ id: "z", vector: [1, 2] }],
    });
    expect(dim.text).toMatch(
      /document 'z' has a 2-dimension vector but collection 'vecs' holds 3-dimension vectors/,
    );
    const q = await call(t, "search", { collection: "faq", vector: [1, 2, 3] });
    expect(q.text).toMatch(/query vector has 3 dimensions but collection 'faq' holds 512-dimension vectors/);
    const none = await call(t, "search", { collection: "vecs", query: "hello" });
    expect(none.isError).toBe(true);
    expect((await call(t, "search", { collection: "missing", query: "x" })).text).toMatch(
      /not found; call list_collections/,
    );
  });

  it("gets with paging, deletes documents, lists, reads the resource, deletes a collection", async () => {
    const page = await call(t, "get_documents", {
      collection: "faq",
      limit: 2,
      offset: 0,
      include_vectors: true,
    });
    expect(page.data.total).toBe(3);
    expect(page.data.documents.map((d: { id: string }) => d.id)).toEqual(["bill", "pw"]);
    expect(page.data.documents[0].vector).toHaveLength(512);
    expect(page.text).toMatch(/next page: offset 2/);
    const list = await call(t, "list_collections", {});
    expect(list.data.collections.map((c: { name: string }) => c.name)).toEqual(["faq", "vecs"]);
    const res = await t.client.readResource({ uri: "collection://faq" });
    const body = JSON.parse((res.contents[0] as { text: string }).text) as {
      count: number;
      sample: unknown[];
    };
    expect(body.count).toBe(3);
    expect(body.sample).toHaveLength(3);
    expect((await call(t, "delete_documents", { collection: "faq", ids: ["bill"] })).data.deleted).toBe(1);
    expect((await call(t, "delete_documents", { collection: "faq" })).isError).toBe(true);
    const del = await call(t, "delete_collection", { name: "vecs" });
    expect(del.data).toEqual({ name: "vecs", deletedDocuments: 2 });
  });

  it("embeds text", async () => {
    const r = await call(t, "embed_text", { texts: ["hello world", "goodbye"] });
    expect(r.data.embedder).toBe("offline:universal-sentence-encoder");
    expect(r.data.dimension).toBe(512);
    expect(r.data.vectors).toHaveLength(2);
  });

  it("reports progress for a large batch", async () => {
    await call(t, "create_collection", { name: "big", embedder: "none", dimension: 8 });
    const documents = Array.from({ length: 900 }, (_, i) => ({
      id: `d${i}`,
      vector: Array.from({ length: 8 }, (_, j) => Math.sin(i + j)),
    }));
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const r = (await t.client.callTool(
      { name: "upsert_documents", arguments: { collection: "big", documents } },
      {
        onprogress: (p) => seen.push(p),
      },
    )) as unknown as { structuredContent: { upserted: number } };
    expect(r.structuredContent.upserted).toBe(900);
    expect(seen[0]).toMatchObject({ progress: 0, total: 1800 });
    expect(seen.at(-1)).toMatchObject({ progress: 1800, total: 1800, message: "wrote 900 of 900" });
  });

  it("bulk loads into a deferred index, then builds it with build_index, with progress", async () => {
    const made = await call(t, "create_collection", {
      name: "bulk",
      embedder: "none",
      dimension: 16,
      index: "deferred",
    });
    expect(made.data).toMatchObject({ name: "bulk", index: "none" });
    const documents = Array.from({ length: 1000 }, (_, i) => ({
      id: `b${i}`,
      vector: Array.from({ length: 16 }, (_, j) => Math.sin(i * 0.37 + j * 1.3)),
    }));
    const seenUpsert: { progress: number }[] = [];
    const up = (await t.client.callTool(
      { name: "upsert_documents", arguments: { collection: "bulk", documents } },
      { onprogress: (p) => seenUpsert.push(p) },
    )) as unknown as { structuredContent: { upserted: number } };
    expect(up.structuredContent.upserted).toBe(1000);
    expect(seenUpsert.length).toBeGreaterThan(2);
    // Searches work before the index exists (an exact scan).
    const query = documents[123]!.vector;
    const before = await call(t, "search", { collection: "bulk", vector: query, top_k: 1 });
    expect(before.data.results[0].id).toBe("b123");

    const seen: { progress: number; total?: number; message?: string }[] = [];
    const built = (await t.client.callTool(
      { name: "build_index", arguments: { collection: "bulk" } },
      { onprogress: (p) => seen.push(p) },
    )) as unknown as { structuredContent: { documents: number; index: string; seconds: number } };
    expect(built.structuredContent).toMatchObject({ documents: 1000, index: "hnsw" });
    expect(seen[0]).toMatchObject({ progress: 0, message: expect.stringMatching(/over 1000 documents/) });
    expect(seen.at(-1)?.message).toMatch(/^index built in/);
    expect(seen.at(-1)?.progress).toBe(seen.at(-1)?.total);
    const progress = seen.map((p) => p.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect((await call(t, "collection_info", { name: "bulk" })).data.index).toBe("hnsw");
    const { store } = (await t.runtime.deps()) as Deps;
    const indexes = await store.sql.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%'",
    );
    expect(indexes.length).toBeGreaterThan(0);
    const after = await call(t, "search", { collection: "bulk", vector: query, top_k: 1 });
    expect(after.data.results[0].id).toBe("b123");
    const missing = await call(t, "build_index", { collection: "nope" });
    expect(missing.text).toMatch(/collection 'nope' not found; call list_collections/);
  });
});

describe("hostile filters are bound, never spliced", () => {
  const hostileKey = `a'b"c--d;e) OR 1=1`;
  beforeAll(async () => {
    await call(t, "create_collection", { name: "hostile", embedder: "none", dimension: 2 });
    await call(t, "upsert_documents", {
      collection: "hostile",
      documents: [
        {
          id: "q",
          vector: [1, 0],
          metadata: { [hostileKey]: "x'; DROP TABLE toolshed_vs_collections; --", "a.b": 1, a: { b: 2 } },
        },
        {
          id: "r",
          vector: [0, 1],
          metadata: { name: "O'Brien", path: "{a,b}", "{}": "brace", "x\\y": "back" },
        },
        { id: "s", vector: [1, 1], metadata: { name: "plain", tags: ["--", "'"] } },
      ],
    });
  });
  const ids = async (filter: unknown) => {
    const r = await call(t, "get_documents", { collection: "hostile", filter });
    expect(r.isError, r.text).toBeFalsy();
    return (r.data.documents as { id: string }[]).map((d) => d.id);
  };

  it("matches keys and values with quotes, comments and semicolons literally", async () => {
    expect(
      await ids({ field: [hostileKey], op: "eq", value: "x'; DROP TABLE toolshed_vs_collections; --" }),
    ).toEqual(["q"]);
    expect(await ids({ field: "name", op: "eq", value: "O'Brien" })).toEqual(["r"]);
    expect(await ids({ field: "name", op: "eq", value: "' OR '1'='1" })).toEqual([]);
    expect(await ids({ field: "name", op: "in", value: ["O'Brien", "plain", "') --"] })).toEqual(["r", "s"]);
    expect((await call(t, "list_collections", {})).data.collections.length).toBeGreaterThan(0);
  });

  it("treats JSON-path syntax in keys as plain key text", async () => {
    expect(await ids({ field: ["a.b"], op: "eq", value: 1 })).toEqual(["q"]); // the key "a.b"
    expect(await ids({ field: "a.b", op: "eq", value: 2 })).toEqual(["q"]); // the path a -> b
    expect(await ids({ field: ["{}"], op: "exists", value: true })).toEqual(["r"]);
    expect(await ids({ field: ["x\\y"], op: "eq", value: "back" })).toEqual(["r"]);
    expect(await ids({ field: "$.name", op: "exists", value: true })).toEqual([]);
    expect(await ids({ field: "name}", op: "exists", value: true })).toEqual([]);
    expect(await ids({ field: ['name", "x'], op: "exists", value: true })).toEqual([]);
    expect(await ids({ field: "path", op: "eq", value: "{a,b}" })).toEqual(["r"]);
  });

  it("compares arrays and types exactly, and refuses malformed filters with advice", async () => {
    expect(await ids({ field: "tags", op: "eq", value: "--" })).toEqual([]);
    expect(await ids({ field: "name", op: "gt", value: "o" })).toEqual(["s"]);
    const bad = await call(t, "get_documents", {
      collection: "hostile",
      filter: { field: "name", op: "in", value: "x" },
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/'in' needs an array value/);
    const unknownOp = await call(t, "get_documents", {
      collection: "hostile",
      filter: { field: "name", op: "regex", value: ".*" },
    });
    expect(unknownOp.isError).toBe(true);
    const extra = await call(t, "search", {
      collection: "hostile",
      vector: [1, 0],
      filter: { field: "name", op: "eq", value: "plain", sql: "1=1" },
    });
    expect(extra.isError).toBe(true);
  });

  it("says what is wrong with a malformed filter, and where", async () => {
    const bad = async (tool: string, filter: unknown) => {
      const r = await call(t, tool, {
        collection: "hostile",
        filter,
        ...(tool === "search" ? { vector: [1, 0] } : {}),
      });
      expect(r.isError).toBe(true);
      expect(r.text).not.toMatch(/Invalid input/);
      return r.text;
    };
    expect(await bad("get_documents", { field: "name", op: "regex", value: ".*" })).toMatch(
      /op "regex" is not one of eq, ne, gt, gte, lt, lte, in, nin, exists/,
    );
    expect(await bad("search", { field: "name", op: "eq", value: "plain", sql: "1=1" })).toMatch(
      /Unrecognized key: "sql"/,
    );
    expect(
      await bad("delete_documents", {
        and: [
          { field: "a", op: "eq", value: 1 },
          { op: "eq", value: 2 },
        ],
      }),
    ).toMatch(/and\[1\]: 'field' is missing/);
    expect(await bad("delete_documents", { field: "a", op: "eq", value: { nested: 1 } })).toMatch(
      /'value' must be a string, number, boolean or null .*got an object/,
    );
    expect(await bad("delete_documents", { and: [], field: "a" })).toMatch(/Unrecognized key: "field"/);
    expect(await bad("get_documents", "year > 2020")).toMatch(
      /got string "year > 2020"; a filter is \{ field, op, value \}/,
    );
    const noIds = await call(t, "delete_documents", { collection: "hostile", ids: [] });
    expect(noIds.text).toMatch(/ids is empty: give at least one id, or a filter/);
    const nothing = await call(t, "delete_documents", { collection: "hostile" });
    expect(nothing.text).toMatch(/give ids or a filter/);
  });
});

describe("HNSW settings", () => {
  it("builds new indexes with --hnsw-m and --hnsw-ef-construction, and searches with --ef-search", async () => {
    const dir = tempDir();
    const tuned = await client({ dataDir: dir.dir, hnswM: 8, hnswEfConstruction: 24, efSearch: 60 });
    try {
      const made = await call(tuned, "create_collection", {
        name: "tuned",
        embedder: "none",
        dimension: 3,
      });
      expect(made.isError).toBeFalsy();
      const { store } = (await tuned.runtime.deps()) as Deps;
      const [index] = await store.sql.query<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE indexname LIKE '%\\_hnsw'",
      );
      expect(index?.indexdef).toMatch(/USING hnsw .*WITH \(m='8', ef_construction='24'\)/);
      const [setting] = await store.sql.query<{ ef: string }>(
        "SELECT current_setting('hnsw.ef_search') AS ef",
      );
      expect(setting?.ef).toBe("60");
    } finally {
      await tuned.close();
      dir.cleanup();
    }
  });
});

// Collections announce their changes: collection://{name} updated on upsert, delete and
// build_index; the resource list changed on create and delete (2025 client, in process).
const UPDATED = "notifications/resources/updated";
const LIST = "notifications/resources/list_changed";

describe("collection change notifications", () => {
  it("advertises them, and sends them for the collection subscribed to", async () => {
    expect(t.client.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: true });
    const seen = recordChanges(t.client);
    const made = await call(t, "create_collection", { name: "watched", embedder: "none", dimension: 3 });
    expect(made.isError, made.text).toBeFalsy();
    await seen.until(LIST);
    await t.client.subscribeResource({ uri: "collection://watched" });
    const up = await call(t, "upsert_documents", {
      collection: "watched",
      documents: [{ id: "x", vector: [1, 0, 0] }],
    });
    expect(up.isError, up.text).toBeFalsy();
    await seen.until(UPDATED, "collection://watched");
    const gone = await call(t, "delete_collection", { name: "watched" });
    expect(gone.isError, gone.text).toBeFalsy();
    await seen.until(LIST);
    await new Promise((r) => setTimeout(r, 50)); // in process: anything else would be here by now
    expect(seen.seen).toEqual([
      { method: LIST },
      { method: UPDATED, uri: "collection://watched" },
      { method: UPDATED, uri: "collection://watched" },
      { method: LIST },
    ]);
  });
});
