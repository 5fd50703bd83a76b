import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { chunkText } from "../src/chunk.js";
import { tempDir } from "./backends.js";
import { call, client } from "./helpers.js";

// PGlite starts in seconds, slower on a busy machine; the offline model loads on first use.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const data = tempDir();
let t: TestClient;

beforeAll(async () => {
  t = await client({ dataDir: data.dir, maxChunksPerDocument: 3, maxChunksPerCall: 5 });
  expect((await call(t, "create_collection", { name: "text" })).isError).toBeFalsy();
  const raw = await call(t, "create_collection", { name: "raw", embedder: "none", dimension: 2 });
  expect(raw.isError).toBeFalsy();
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

async function count(collection: string): Promise<number> {
  return (await call(t, "collection_info", { name: collection })).data.count as number;
}

/** Words of ten characters: `n` of them make a text of about 11n characters. */
const words = (n: number) =>
  Array.from({ length: n }, (_, i) => `word${String(i).padStart(5, "0")}`).join(" ");

describe("chunk amplification is refused before any work", () => {
  it("refuses an overlap of half the size or more, saying the largest allowed", async () => {
    // The reported attack: 3 KB, size 100, overlap 99 wrote 2,901 chunks.
    for (const overlap of [99, 50]) {
      const r = await call(t, "upsert_documents", {
        collection: "text",
        documents: [{ id: "amp", text: "x ".repeat(1500) }],
        chunk: { size: 100, overlap },
      });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/^invalid_input: chunk.overlap must be less than half of chunk.size/);
      expect(r.text).toMatch(/at most 49/);
    }
    expect(await count("text")).toBe(0);
    expect(() => chunkText("x".repeat(300), 100, 50)).toThrow(/less than half/);
  });

  it("caps chunks per document and per call, naming the flag and what to do", async () => {
    const fourChunks = words(36); // 395 characters: 4 chunks of at most 100
    expect(chunkText(fourChunks, 100, 0)).toHaveLength(4);
    const perDoc = await call(t, "upsert_documents", {
      collection: "text",
      documents: [{ id: "big", text: fourChunks }],
      chunk: { size: 100 },
    });
    expect(perDoc.isError).toBe(true);
    expect(perDoc.text).toMatch(
      /more than 3 chunks .*--max-chunks-per-document.*TOOLSHED_MAX_CHUNKS_PER_DOCUMENT/,
    );

    // Two documents of three chunks: 6 rows, one over the per-call cap of 5.
    const threeChunks = words(25);
    expect(chunkText(threeChunks, 100, 0)).toHaveLength(3);
    const perCall = await call(t, "upsert_documents", {
      collection: "text",
      documents: [
        { id: "a", text: threeChunks },
        { id: "b", text: threeChunks },
      ],
      chunk: { size: 100 },
    });
    expect(perCall.isError).toBe(true);
    expect(perCall.text).toMatch(
      /more than 5 documents, chunks counted one by one \(--max-chunks-per-call\)/,
    );
    expect(perCall.text).toMatch(/split it into calls of fewer documents/);

    // Unchunked documents count too.
    const many = await call(t, "upsert_documents", {
      collection: "raw",
      documents: Array.from({ length: 6 }, (_, i) => ({ id: `v${i}`, vector: [1, i] })),
    });
    expect(many.isError).toBe(true);
    expect(many.text).toMatch(/more than 5 documents/);
    expect(await count("text")).toBe(0);
    expect(await count("raw")).toBe(0);

    // At the caps exactly, the call goes through.
    const ok = await call(t, "upsert_documents", {
      collection: "text",
      documents: [{ id: "fits", text: threeChunks }],
      chunk: { size: 100, overlap: 10 },
    });
    expect(ok.isError).toBeFalsy();
    expect(ok.data.upserted).toBe(3);
  });

  it("chunks text without spaces in linear time", () => {
    const start = performance.now();
    const pieces = chunkText("x".repeat(100_000), 100, 49);
    expect(pieces.length).toBeGreaterThan(1900);
    // Was quadratic: each cut searched back to the text's start for a space.
    expect(performance.now() - start).toBeLessThan(500);
  });
});

describe("junk metadata, text and vectors get invalid_input, not internal", () => {
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 20_000; i++) deep = { a: deep };
  const junk: [string, Record<string, unknown>, RegExp][] = [
    // The in-memory transport hands values over without JSON, so NaN and Infinity arrive as such.
    ["NaN", { n: Number.NaN }, /metadata.n is NaN; metadata numbers must be finite/],
    ["Infinity", { n: Number.POSITIVE_INFINITY }, /metadata.n is Infinity/],
    ["a NUL in a value", { s: "a\u0000b" }, /metadata.s contains a NUL character/],
    ["a NUL in a key", { "k\u0000": 1 }, /a key with a NUL character/],
    ["20,000 levels", deep, /nests deeper than 16 levels; flatten the metadata/],
    ["a megabyte", { s: "x".repeat(1_000_000) }, /larger than 65,536 characters as JSON/],
  ];
  for (const [what, metadata, message] of junk) {
    it(`refuses metadata with ${what}`, async () => {
      const r = await call(t, "upsert_documents", {
        collection: "raw",
        documents: [{ id: "junk", vector: [1, 0], metadata }],
      });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/^invalid_input: /);
      expect(r.text).toMatch(message);
    });
  }

  it("refuses NUL in ids, text and filters, and vector values pgvector cannot hold", async () => {
    const nul = await call(t, "upsert_documents", {
      collection: "raw",
      documents: [{ id: "x\u0000", text: "a\u0000", vector: [1, 0] }],
    });
    expect(nul.text).toMatch(/^invalid_input: .*id contains a NUL character.*text contains a NUL character/);
    const filter = await call(t, "search", {
      collection: "raw",
      vector: [1, 0],
      filter: { field: "s", op: "eq", value: "a\u0000" },
    });
    expect(filter.text).toMatch(/^invalid_input: filter: a field or value contains a NUL character/);
    // 1e39 overflows pgvector's float4; 3.4e38 fits but overflows the norm into a NaN score.
    for (const x of [1e39, 3.4e38]) {
      const up = await call(t, "upsert_documents", {
        collection: "raw",
        documents: [{ id: "v", vector: [x, 1] }],
      });
      expect(up.text).toMatch(/^invalid_input: document 'v' has a vector value of .* beyond ±1000000000/);
      const q = await call(t, "search", { collection: "raw", vector: [x, 1] });
      expect(q.text).toMatch(/^invalid_input: the query vector has a vector value/);
    }
    expect(await count("raw")).toBe(0);
    // Ordinary values still go in.
    const fine = await call(t, "upsert_documents", {
      collection: "raw",
      documents: [{ id: "ok", vector: [1e8, 1], metadata: { n: 1e39, nested: { a: [1, "b", null, true] } } }],
    });
    expect(fine.isError).toBeFalsy();
    expect(await count("raw")).toBe(1);
  });
});
