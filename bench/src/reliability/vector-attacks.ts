/**
 * vector-search attacks on ingest: chunk amplification, /healthz starvation by a big ingest, and
 * metadata or vectors the database cannot hold (issue 14 item 5 and its minor metadata item).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Attack, AttackOutcome } from "./types.js";
import { httpGet, sleep, startServer } from "./processes.js";
import { callMessage, openSession, rawPost } from "./raw-http.js";

interface ToolAnswer {
  isError: boolean;
  text: string;
  data: Record<string, unknown> | undefined;
}

/** One raw `tools/call` with `body` as the JSON text (so it may hold what JSON.stringify cannot). */
async function callRaw(url: string, headers: Record<string, string>, body: string): Promise<ToolAnswer> {
  const res = await rawPost(url, body, headers, undefined, 60_000);
  const [message] = res.messages as {
    result?: {
      isError?: boolean;
      content?: { text?: string }[];
      structuredContent?: Record<string, unknown>;
    };
    error?: { message?: string };
  }[];
  if (message?.error)
    return { isError: true, text: `JSON-RPC error: ${message.error.message}`, data: undefined };
  const text = (message?.result?.content ?? []).map((c) => c.text ?? "").join("\n");
  return {
    isError: message?.result?.isError === true,
    text: text || `HTTP ${res.status} ${res.error ?? ""}`,
    data: message?.result?.structuredContent,
  };
}

function call(
  url: string,
  headers: Record<string, string>,
  id: number,
  name: string,
  args: Record<string, unknown>,
) {
  return callRaw(url, headers, callMessage(id, name, args));
}

async function countOf(
  url: string,
  headers: Record<string, string>,
  collection: string,
): Promise<number | undefined> {
  const info = await call(url, headers, 9_000, "collection_info", { name: collection });
  return typeof info.data?.count === "number" ? info.data.count : undefined;
}

/** Refused when every answer is an invalid_input error, nothing was written and /healthz is up. */
async function refusedWithoutWriting(
  base: string,
  url: string,
  headers: Record<string, string>,
  collection: string,
  answers: { what: string; answer: ToolAnswer }[],
): Promise<AttackOutcome> {
  const through = answers.filter((a) => !a.answer.isError || !a.answer.text.startsWith("invalid_input"));
  const count = await countOf(url, headers, collection);
  const health = await httpGet(base, "/healthz");
  const refused = through.length === 0 && count === 0 && health.status === 200;
  return {
    refused,
    detail: refused
      ? `${answers.length} attempts refused with invalid_input, nothing written, /healthz 200`
      : `count ${count}, /healthz ${health.status}; not refused as invalid_input: ${through
          .map((a) => `${a.what}: ${a.answer.text.slice(0, 160)}`)
          .join(" | ")}`,
  };
}

const WORDS = "the river bank holds old boats while traders count silver coins near market stalls".split(" ");
const prose = (i: number) =>
  Array.from({ length: 90 }, (_, k) => WORDS[(i * 7 + k * 13 + k * k) % WORDS.length]).join(" ");

export const vectorIngestAttacks: readonly Attack[] = [
  {
    name: "chunk amplification (3 KB cut with overlap 99 of 100, chunks past the per-document and per-call caps) is refused before any work",
    run: async (ctx) => {
      const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const h = session.headers;
      const collection = `amp_${Date.now().toString(36)}`;
      const made = await call(ctx.url, h, 700, "create_collection", { name: collection });
      if (made.isError) return { refused: false, detail: `could not create the collection: ${made.text}` };
      const upsert = (id: number, documents: unknown[], chunk: unknown) =>
        call(ctx.url, h, id, "upsert_documents", { collection, documents, chunk });
      const started = performance.now();
      const answers = [
        // The reported one: 2,901 chunks, 173 s of a blocked event loop.
        {
          what: "overlap 99 of 100",
          answer: await upsert(701, [{ id: "a", text: "x ".repeat(1500) }], { size: 100, overlap: 99 }),
        },
        {
          what: "overlap half the size",
          answer: await upsert(702, [{ id: "b", text: "x ".repeat(1500) }], { size: 100, overlap: 50 }),
        },
        // 100,000 characters at size 100, overlap 40: about 1,670 chunks, over 1,000 per document.
        {
          what: "per document",
          answer: await upsert(703, [{ id: "c", text: "y".repeat(100_000) }], { size: 100, overlap: 40 }),
        },
        // Three documents of 900 chunks each: 2,700, over 2,000 per call.
        {
          what: "per call",
          answer: await upsert(
            704,
            ["d", "e", "f"].map((id) => ({ id, text: "z ".repeat(45_000) })),
            { size: 100, overlap: 0 },
          ),
        },
      ];
      const outcome = await refusedWithoutWriting(ctx.server.base, ctx.url, h, collection, answers);
      // Refused before chunking or embedding: no seconds spent.
      const ms = performance.now() - started;
      if (outcome.refused && ms > 5_000)
        return { refused: false, detail: `refusals took ${Math.round(ms)} ms` };
      return outcome;
    },
  },
  {
    name: "/healthz starvation: a big ingest on the offline embedder leaves /healthz answering within 750 ms throughout",
    run: async (ctx) => {
      // Its own server: the attack target embeds over HTTP; this one runs the offline model, which
      // used to run on the event loop (/healthz silent for 9.95 s of a 10.5 s upsert).
      const dataDir = mkdtempSync(join(tmpdir(), "toolshed-reliability-vector-ingest-"));
      const server = await startServer(ctx.target, {
        args: ["--data-dir", dataDir],
        env: { TOOLSHED_EMBEDDER: "offline" },
      });
      try {
        const url = `${server.base}/mcp`;
        const { headers } = await openSession(url);
        const made = await call(url, headers, 1, "create_collection", { name: "ingest" });
        if (made.isError) return { refused: false, detail: `could not create the collection: ${made.text}` };
        // Over a second of embedding on one thread (about 1.3 s at the old 15 documents/s on a quiet
        // machine), all of which used to block the loop; few enough to keep CI short.
        const n = 20;
        let done = false;
        const upsert = call(url, headers, 2, "upsert_documents", {
          collection: "ingest",
          documents: Array.from({ length: n }, (_, i) => ({ id: `d${i}`, text: prose(i) })),
        }).finally(() => (done = true));
        const waits: number[] = [];
        let failed = 0;
        while (!done) {
          const start = performance.now();
          const health = await httpGet(server.base, "/healthz").catch(() => ({ status: 0, body: "" }));
          waits.push(performance.now() - start);
          if (health.status !== 200) failed++;
          await sleep(50);
        }
        const result = await upsert;
        const worst = Math.round(Math.max(...waits));
        const refused =
          !result.isError && result.data?.upserted === n && failed === 0 && worst < 750 && waits.length >= 5;
        return {
          refused,
          detail: `upsert of ${n}: ${result.isError ? result.text.slice(0, 160) : "ok"}; /healthz polled ${waits.length} times, ${failed} failed, slowest ${worst} ms`,
        };
      } finally {
        await server.stop("SIGTERM");
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  },
  {
    name: "metadata and vectors the database cannot hold (1e400, NUL, 20,000-deep nesting, 1e39 components) get invalid_input, not internal",
    run: async (ctx) => {
      const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const h = session.headers;
      const collection = `junk_${Date.now().toString(36)}`;
      const made = await call(ctx.url, h, 720, "create_collection", {
        name: collection,
        embedder: "none",
        dimension: 2,
      });
      if (made.isError) return { refused: false, detail: `could not create the collection: ${made.text}` };
      // The JSON text is spliced in where a marker stands, for what JSON.stringify cannot write.
      const upsertWith = (id: number, metadata: unknown, vector: unknown = [1, 0]) => {
        const body = callMessage(id, "upsert_documents", {
          collection,
          documents: [{ id: "junk", vector: "@VECTOR@", metadata: "@METADATA@" }],
        });
        const json = (v: unknown) =>
          typeof v === "string" && v.startsWith("raw:") ? v.slice(4) : JSON.stringify(v);
        return callRaw(
          ctx.url,
          h,
          body.replace('"@VECTOR@"', json(vector)).replace('"@METADATA@"', json(metadata)),
        );
      };
      const deep = `raw:${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`;
      const answers = [
        { what: "1e400 (Infinity)", answer: await upsertWith(721, 'raw:{"n":1e400}') },
        { what: "-1e400", answer: await upsertWith(722, 'raw:{"n":-1e400}') },
        { what: "NUL in a value", answer: await upsertWith(723, { s: "a\u0000b" }) },
        { what: "NUL in a key", answer: await upsertWith(724, { "k\u0000": 1 }) },
        { what: "20,000-deep", answer: await upsertWith(725, deep) },
        { what: "1e39 in a vector", answer: await upsertWith(726, {}, [1e39, 0]) },
        {
          what: "NUL in a filter",
          answer: await call(ctx.url, h, 727, "search", {
            collection,
            vector: [1, 0],
            filter: { field: "s", op: "eq", value: "a\u0000" },
          }),
        },
      ];
      return refusedWithoutWriting(ctx.server.base, ctx.url, h, collection, answers);
    },
  },
];
