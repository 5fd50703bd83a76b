import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Filter, VectorStore } from "../src/store/index.js";
import { exactTerms, queryPhrase } from "../src/store/store.js";
import { BACKENDS } from "./backends.js";

// PGlite starts in seconds, slower on a busy machine; the offline model loads on first use.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

// The same suite on embedded PGlite and over a real pg connection.
describe.each(BACKENDS)("store on $name", (backend) => {
  let store: VectorStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await backend.open());
    await store.createCollection({ name: "docs", dimension: 3, metric: "cosine", embedder: "none" });
    await store.upsert("docs", [
      {
        id: "a",
        text: "The quick brown fox jumps",
        vector: [1, 0, 0],
        metadata: { kind: "animal", year: 2020, tags: ["x"] },
      },
      {
        id: "b",
        text: "Lazy dogs sleep all day",
        vector: [0.9, 0.1, 0],
        metadata: { kind: "animal", year: 2022 },
      },
      {
        id: "c",
        text: "Stock markets fell sharply",
        vector: [0, 1, 0],
        metadata: { kind: "finance", year: 2023, author: { name: "Ann" } },
      },
      {
        id: "d",
        text: "Interest rates and bonds",
        vector: [0, 0.9, 0.1],
        metadata: { kind: "finance", year: "2021" },
      },
      { id: "e", text: null, vector: [0, 0, 1], metadata: {} },
    ]);
  }, 60_000);
  afterAll(async () => close());

  it("creates, lists and describes collections", async () => {
    const list = await store.listCollections();
    expect(list.map((c) => c.name)).toEqual(["docs"]);
    expect(await store.collectionInfo("docs")).toMatchObject({
      name: "docs",
      dimension: 3,
      metric: "cosine",
      embedder: "none",
      count: 5,
      index: "hnsw",
    });
    await expect(
      store.createCollection({ name: "docs", dimension: 3, metric: "l2", embedder: "none" }),
    ).rejects.toThrow(/already exists/);
    await expect(store.collectionInfo("nope")).rejects.toThrow(/not found; call list_collections/);
  });

  it("finds nearest neighbours by cosine with scores in order", async () => {
    const hits = await store.searchVector("docs", [1, 0.05, 0], { topK: 3 });
    expect(hits.map((h) => h.id)).toEqual(["a", "b", "c"]);
    expect(hits[0]!.score).toBeGreaterThan(0.99);
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
    expect(hits[0]!.metadata).toEqual({ kind: "animal", year: 2020, tags: ["x"] });
  });

  it("supports l2 and inner product collections", async () => {
    await store.createCollection({ name: "l2", dimension: 2, metric: "l2", embedder: "none" });
    await store.createCollection({ name: "ip", dimension: 2, metric: "inner_product", embedder: "none" });
    const docs = [
      { id: "near", vector: [1, 1] },
      { id: "far", vector: [10, 10] },
    ];
    await store.upsert("l2", docs);
    await store.upsert("ip", docs);
    const l2 = await store.searchVector("l2", [1, 1], { topK: 2 });
    expect(l2.map((h) => h.id)).toEqual(["near", "far"]);
    expect(l2[0]!.score).toBe(1); // 1 / (1 + 0)
    const ip = await store.searchVector("ip", [1, 1], { topK: 2 });
    expect(ip.map((h) => [h.id, h.score])).toEqual([
      ["far", 20],
      ["near", 2],
    ]);
    await store.deleteCollection("l2");
    await store.deleteCollection("ip");
  });

  it("keyword search matches stemmed words and ranks", async () => {
    const hits = await store.searchKeyword("docs", "jumping foxes", { topK: 5 });
    expect(hits.map((h) => h.id)).toEqual(["a"]);
    expect(hits[0]!.score).toBeGreaterThan(0);
    expect(await store.searchKeyword("docs", "'; DROP TABLE x; --", { topK: 5 })).toEqual([]);
    expect(await store.searchKeyword("docs", "", { topK: 5 })).toEqual([]);
  });

  it("hybrid fuses both lists by reciprocal rank", async () => {
    // Vector says finance (c, d); words say bonds (d): d is in both lists and wins.
    const hits = await store.searchHybrid("docs", "bonds", [0, 1, 0], { topK: 3, rerank: false });
    expect(hits[0]!.id).toBe("d");
    expect(hits[0]!.score).toBeCloseTo(1 / 62 + 1 / 61, 10);
  });

  it("keyword search: web-search syntax, coverage first, dotted names found by their parts", async () => {
    await store.createCollection({ name: "words", dimension: 2, metric: "cosine", embedder: "none" });
    await store.upsert("words", [
      { id: "one", text: "Reset your password from the settings page", vector: [1, 0] },
      { id: "both", text: "Forgot password? Reset it: a reset link is emailed", vector: [0, 1] },
      { id: "other", text: "Billing settings and invoices", vector: [1, 1] },
      {
        id: "api",
        text: "Element.getBoundingClientRect: returns a position relative to the viewport",
        vector: [1, 0],
      },
    ]);
    const ids = async (q: string) => (await store.searchKeyword("words", q, { topK: 5 })).map((h) => h.id);
    // Any word matches; documents with more of the query's words come first.
    expect(await ids("forgot password email")).toEqual(["both", "one"]);
    expect((await ids("password settings"))[0]).toBe("one");
    // A phrase and an exclusion are the query's syntax: the whole query must hold.
    expect(await ids('"reset your password"')).toEqual(["one"]);
    expect(await ids("settings -billing")).toEqual(["one"]);
    expect((await ids("reset or invoices")).sort()).toEqual(["both", "one", "other"]);
    expect(await ids("getBoundingClientRect")).toEqual(["api"]);
    expect(await ids("Element.getBoundingClientRect")).toEqual(["api"]);
    const [top] = await store.searchKeyword("words", "forgot password email", { topK: 1 });
    expect(top!.score).toBeGreaterThan(0.5);
    expect(top!.score).toBeLessThan(1);
  });

  it("hybrid weights each list, and rerank scores the candidates on both signals", async () => {
    // Keyword alone (vector weight 0): 'both' has the most of the words.
    const kw = await store.searchHybrid("words", "forgot password", [1, 0], {
      topK: 2,
      weights: { vector: 0, keyword: 1 },
      rerank: false,
    });
    expect(kw.map((h) => h.id)).toEqual(["both", "one"]);
    expect(kw[0]!.score).toBeCloseTo(1 / 61, 10);
    const vec = await store.searchHybrid("words", "forgot password", [1, 0], {
      topK: 1,
      weights: { vector: 1, keyword: 0 },
      rerank: false,
    });
    expect(["one", "api"]).toContain(vec[0]!.id);
    const reranked = await store.searchHybrid("words", "forgot password", [0, 1], { topK: 3 });
    expect(reranked[0]!.id).toBe("both"); // best on both signals
    for (const h of reranked) {
      expect(h.score).toBeGreaterThanOrEqual(0);
      expect(h.score).toBeLessThanOrEqual(1);
    }
    expect(reranked[0]!.score).toBeCloseTo(1, 10);
  });

  it("hybrid rerank puts documents with the query's exact identifiers first", async () => {
    await store.createCollection({ name: "names", dimension: 2, metric: "cosine", embedder: "none" });
    await store.upsert("names", [
      // Closer to the query vectors below, and sharing a keyword, but without the identifier.
      { id: "prose", text: "Copy text to the clipboard so the user can paste it", vector: [1, 0] },
      { id: "api", text: "writeText() resolves once the string is stored", vector: [0, 1] },
      { id: "member", text: "IntersectionObserver.disconnect stops the observer", vector: [1, 0] },
      {
        id: "named",
        text: "IntersectionObserver: the IntersectionObserver interface watches elements",
        vector: [0, 1],
      },
    ]);
    const ids = async (q: string, v: number[]) =>
      (await store.searchHybrid("names", q, v, { topK: 2 })).map((h) => h.id);
    // Both have one of the two keywords; vector prefers 'prose', the identifier lifts 'api'.
    expect(await ids("clipboard writeText", [1, 0])).toEqual(["api", "prose"]);
    // Both contain the identifier; a query of identifiers only is ordered by the keyword score.
    expect(await ids("IntersectionObserver", [1, 0])).toEqual(["named", "member"]);
    const [top] = await store.searchHybrid("names", "clipboard writeText", [1, 0], { topK: 1 });
    expect(top!.score).toBeGreaterThan(0.5);
    expect(top!.score).toBeLessThanOrEqual(1);
  });

  it("hybrid rerank puts a document containing the whole short query as one name first", async () => {
    await store.createCollection({ name: "members", dimension: 2, metric: "cosine", embedder: "none" });
    await store.upsert("members", [
      // More of the query's words, and the closer vector, but not the name the query spells.
      {
        id: "key",
        text: "KeyboardEvent.key: the key pressed; unlike the key code, the KeyboardEvent key and its code depend on the layout",
        vector: [1, 0],
      },
      { id: "code", text: "KeyboardEvent.code: a physical key on the keyboard", vector: [0, 1] },
      { id: "prose", text: "Billing settings and invoices", vector: [1, 0] },
    ]);
    const ids = async (q: string) =>
      (await store.searchHybrid("members", q, [1, 0], { topK: 2 })).map((h) => h.id);
    expect(await ids("KeyboardEvent code")).toEqual(["code", "key"]);
    expect(await ids("keyboardevent code")).toEqual(["code", "key"]);
    // Without the phrase, the same candidates keep the order the signals give them.
    expect(await ids("KeyboardEvent code key")).toEqual(["key", "code"]);
    // A query found verbatim nowhere (a sentence) is scored as before: the best candidate scores 1.
    const [top] = await store.searchHybrid("members", "what did the user press on the keyboard", [1, 0], {
      topK: 1,
    });
    expect(top!.score).toBeGreaterThan(0.5);
  });

  const cases: [string, Filter, string[]][] = [
    ["eq string", { field: "kind", op: "eq", value: "finance" }, ["c", "d"]],
    ["eq number is not eq string", { field: "year", op: "eq", value: 2021 }, []],
    ["ne includes missing keys", { field: "kind", op: "ne", value: "finance" }, ["a", "b", "e"]],
    ["gt numbers only", { field: "year", op: "gt", value: 2020 }, ["b", "c"]],
    ["gte", { field: "year", op: "gte", value: 2020 }, ["a", "b", "c"]],
    ["lt", { field: "year", op: "lt", value: 2022 }, ["a"]],
    ["lte string compares strings", { field: "year", op: "lte", value: "2021" }, ["d"]],
    ["in", { field: "year", op: "in", value: [2020, 2023, "2021"] }, ["a", "c", "d"]],
    ["nin", { field: "kind", op: "nin", value: ["animal"] }, ["c", "d", "e"]],
    ["exists", { field: "author", op: "exists", value: true }, ["c"]],
    ["not exists", { field: "year", op: "exists", value: false }, ["e"]],
    ["nested path", { field: "author.name", op: "eq", value: "Ann" }, ["c"]],
    [
      "and/or",
      {
        or: [
          {
            and: [
              { field: "kind", op: "eq", value: "animal" },
              { field: "year", op: "gte", value: 2022 },
            ],
          },
          { field: "year", op: "eq", value: "2021" },
        ],
      },
      ["b", "d"],
    ],
  ];
  it.each(cases)("filter: %s", async (_label, filter, ids) => {
    const got = await store.get("docs", { filter, limit: 100, offset: 0 });
    expect(got.documents.map((d) => d.id)).toEqual(ids);
    expect(got.total).toBe(ids.length);
    const hits = await store.searchVector("docs", [1, 1, 1], { topK: 10, filter });
    expect(hits.map((h) => h.id).sort()).toEqual(ids);
  });

  it("gets by ids with paging and vectors; deletes by ids and by filter", async () => {
    const page = await store.get("docs", { limit: 2, offset: 1, includeVectors: true });
    expect(page.total).toBe(5);
    expect(page.documents.map((d) => d.id)).toEqual(["b", "c"]);
    expect(page.documents[0]!.vector?.map((x) => Math.round(x * 10) / 10)).toEqual([0.9, 0.1, 0]);
    const byIds = await store.get("docs", { ids: ["e", "a", "zz"], limit: 10, offset: 0 });
    expect(byIds.documents.map((d) => d.id)).toEqual(["a", "e"]);

    await store.createCollection({ name: "scratch", dimension: 3, metric: "cosine", embedder: "none" });
    await store.upsert("scratch", [
      { id: "1", vector: [1, 0, 0], metadata: { k: 1 } },
      { id: "2", vector: [0, 1, 0], metadata: { k: 2 } },
      { id: "3", vector: [0, 0, 1], metadata: { k: 3 } },
    ]);
    expect(await store.delete("scratch", { ids: ["1", "nope"] })).toEqual({ deleted: 1 });
    expect(await store.delete("scratch", { filter: { field: "k", op: "gte", value: 3 } })).toEqual({
      deleted: 1,
    });
    expect((await store.get("scratch", { limit: 10, offset: 0 })).documents.map((d) => d.id)).toEqual(["2"]);
    expect(await store.deleteCollection("scratch")).toEqual({ deleted: 1 });
  });

  it("upserts are idempotent on id and batched past one statement", async () => {
    await store.createCollection({
      name: "bulk",
      dimension: 4,
      metric: "cosine",
      embedder: "none",
      index: false,
    });
    const docs = Array.from({ length: 1234 }, (_, i) => ({
      id: `doc-${i}`,
      text: `document number ${i}`,
      vector: [Math.cos(i), Math.sin(i), (i % 7) / 7, 1],
      metadata: { i },
    }));
    const batches: number[] = [];
    expect(await store.upsert("bulk", docs, (n) => void batches.push(n))).toEqual({ upserted: 1234 });
    expect(batches).toEqual([500, 1000, 1234]);
    await store.upsert("bulk", [...docs.slice(0, 10), { ...docs[0]!, text: "replaced" }]);
    const info = await store.collectionInfo("bulk");
    expect(info).toMatchObject({ count: 1234, index: "none" });
    expect((await store.get("bulk", { ids: ["doc-0"], limit: 1, offset: 0 })).documents[0]!.text).toBe(
      "replaced",
    );
    await store.buildIndex("bulk");
    expect((await store.collectionInfo("bulk")).index).toBe("hnsw");
    const hit = await store.searchVector("bulk", docs[77]!.vector, { topK: 1 });
    expect(hit[0]!.id).toBe("doc-77");
  });

  it("refuses vectors of the wrong dimension, naming both", async () => {
    await expect(store.upsert("docs", [{ id: "x", vector: [1, 2] }])).rejects.toThrow(
      "document 'x' has a 2-dimension vector but collection 'docs' holds 3-dimension vectors",
    );
    await expect(store.searchVector("docs", [1, 2, 3, 4], { topK: 1 })).rejects.toThrow(
      /query vector has 4 dimensions but collection 'docs' holds 3-dimension vectors/,
    );
    await expect(store.upsert("docs", [{ id: "x", vector: [1, Number.NaN, 0] }])).rejects.toThrow(/finite/);
  });
});

it("exactTerms: identifiers and quoted phrases, not ordinary words", () => {
  const e = exactTerms(
    'clipboard writeText() and Element.getBoundingClientRect, "Reset  password" URLs 3D e.g.',
  );
  expect(e.terms.map(String)).toEqual([
    String(/(?<![\w$])Reset\s+password(?![\w$])/i),
    String(/(?<![\w$])writeText(?![\w$])/),
    String(/(?<![\w$])Element\.getBoundingClientRect(?![\w$])/),
  ]);
  expect(e.identifierShare).toBeCloseTo(2 / 9, 10);
  const [name] = exactTerms("IntersectionObserver").terms;
  expect(name!.test("IntersectionObserver.observe()")).toBe(true);
  expect(name!.test("IntersectionObserverEntry")).toBe(false);
  const [phrase] = exactTerms('"reset password" "one"').terms;
  expect(phrase!.test("Reset  Password now")).toBe(true);
  expect(phrase!.test("preset passwords")).toBe(false);
  expect(exactTerms("how wide is the browser window")).toEqual({ terms: [], identifierShare: 0 });
});

it("queryPhrase: a short query's words in order, as one name or as words", () => {
  const p = queryPhrase("KeyboardEvent code")!;
  expect(p.test("KeyboardEvent.code: a physical key")).toBe(true);
  expect(p.test("the keyboardevent code")).toBe(true);
  expect(p.test("KeyboardEvent/code and KeyboardEvent_code and KeyboardEvent:code")).toBe(true);
  expect(p.test("KeyboardEvent.codes")).toBe(false);
  expect(p.test("MyKeyboardEvent.code")).toBe(false);
  expect(p.test("the KeyboardEvent. Code")).toBe(false); // a sentence's end is not a separator
  expect(p.test("KeyboardEvent key code")).toBe(false);
  expect(queryPhrase("navigator getGamepads()")!.test("navigator.getGamepads() returns")).toBe(true);
  expect(queryPhrase("referrerPolicy")).toBeUndefined(); // one word: the identifier rule's
  expect(queryPhrase('"reset password" now')).toBeUndefined(); // the query's own syntax
  expect(queryPhrase("settings -billing")).toBeUndefined();
  expect(queryPhrase("a.b (c*d)")!.test("a.b c*d")).toBe(true); // regex characters are literal
});
