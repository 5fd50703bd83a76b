// vector-search: SSRF through the embeddings URL and hostile ids and filters. Ingest attacks are in
// vector-attacks.ts.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { refusedAll } from "./attacks.js";
import type { Attack } from "./types.js";
import { callMessage, callTool, openSession, parseMessages, rawPost } from "./raw-http.js";
import {
  answerEmbeddings,
  embeddingInputs,
  listenLoopback,
  readBody,
  type LoopbackServer,
} from "./slow-loopback-servers.js";

/** The JSON of a tool result's structuredContent, or undefined. */
async function structured(
  url: string,
  headers: Record<string, string>,
  id: number,
  name: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const res = await rawPost(url, callMessage(id, name, args), headers);
  const [message] = parseMessages(String(res.headers["content-type"] ?? ""), res.body) as {
    result?: { isError?: boolean; structuredContent?: Record<string, unknown> };
  }[];
  return message?.result?.isError ? undefined : message?.result?.structuredContent;
}

/** Where the hostile embeddings API redirects, by the text's `redirect-<status>-<where>` marker. */
const REDIRECT_TARGETS = ["port", "host", "metadata", "public"] as const;
const REDIRECT_STATUSES = [301, 302, 307, 308] as const;

/** The hostile embeddings API of the running attack server and its canary (one attack server at a time). */
let hostileEmbeddings: { api: LoopbackServer; canary: LoopbackServer; canaryV6?: LoopbackServer } | undefined;

/**
 * An OpenAI-compatible embeddings API on loopback that answers a text `redirect-<status>-<where>`
 * with that redirect: to a canary on another loopback port (`port`), to the canary by another host
 * name (`host`: localhost), to the cloud metadata address (`metadata`) or to a public host
 * (`public`); other texts get ordinary vectors. The canary answers valid vectors too, so a followed
 * redirect would succeed, and counts every request: it must see none. The attack server runs with
 * the target's embedder flags (openai-compatible, private addresses allowed, as for a local Ollama)
 * and this API as its `TOOLSHED_EMBEDDING_URL`.
 */
export async function startHostileEmbeddings(): Promise<{
  env: Record<string, string>;
  close(): Promise<void>;
}> {
  const canaryHandler = (_req: IncomingMessage, res: ServerResponse) => answerEmbeddings(res, ["canary"]);
  const canary = await listenLoopback(canaryHandler);
  // `localhost` may resolve to ::1: the canary listens there too, on the same port, when it can.
  const canaryV6 = await listenLoopbackV6(canary.port, canaryHandler);
  const where = {
    port: `http://127.0.0.1:${canary.port}/v1/embeddings`,
    host: `http://localhost:${canary.port}/v1/embeddings`,
    metadata: "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    public: "https://embeddings.example.com/v1/embeddings",
  };
  const api = await listenLoopback((req, res) => {
    void readBody(req).then((body) => {
      const texts = embeddingInputs(body) ?? [];
      const marker = /^redirect-(\d{3})-(\w+)$/.exec(texts[0] ?? "");
      const location = marker ? where[marker[2] as keyof typeof where] : undefined;
      if (marker && location) res.writeHead(Number(marker[1]), { location }).end();
      else answerEmbeddings(res, texts);
    });
  });
  hostileEmbeddings = { api, canary, ...(canaryV6 ? { canaryV6 } : {}) };
  return {
    env: { TOOLSHED_EMBEDDING_URL: `${api.origin}/v1` },
    close: async () => {
      hostileEmbeddings = undefined;
      await Promise.all([api.close(), canary.close(), canaryV6?.close()]);
    },
  };
}

/** A server on [::1]:port, or undefined where IPv6 loopback is not available. */
async function listenLoopbackV6(
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LoopbackServer | undefined> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    handler(req, res);
  });
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "::1", () => resolve(true));
  });
  if (!ok) return undefined;
  return {
    port,
    origin: `http://[::1]:${port}`,
    requests: () => count,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Names of input properties, at any depth, that could carry an address to fetch. */
function urlLikeProperties(schema: unknown, at = ""): string[] {
  if (!schema || typeof schema !== "object") return [];
  const found: string[] = [];
  const s = schema as { properties?: Record<string, unknown>; items?: unknown };
  for (const [key, value] of Object.entries(s.properties ?? {})) {
    if (/url|uri|endpoint|host|address|base/i.test(key)) found.push(`${at}${key}`);
    found.push(...urlLikeProperties(value, `${at}${key}.`));
  }
  if (s.items) found.push(...urlLikeProperties(s.items, `${at}[].`));
  return found;
}

/** vector-search: the operator-set embeddings URL cannot be turned into a request elsewhere. */
const embedderUrlSsrf: Attack = {
  name: "SSRF through the OpenAI-compatible embedder URL: redirects (301/302/307/308) to another port, another host, the metadata address or a public host are not followed, and no tool input picks the URL",
  run: async (ctx) => {
    const hostile = hostileEmbeddings;
    if (!hostile) return { refused: false, detail: "the hostile embeddings API is not running" };
    const canaryHits = () => hostile.canary.requests() + (hostile.canaryV6?.requests() ?? 0);
    const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
    const h = session.headers;
    const results = [];
    let id = 500;
    const apiBefore = hostile.api.requests();
    for (const status of REDIRECT_STATUSES) {
      for (const where of REDIRECT_TARGETS) {
        const t0 = Date.now();
        const r = await callTool(ctx.url, h, id++, "embed_text", { texts: [`redirect-${status}-${where}`] });
        const ms = Date.now() - t0;
        results.push({
          what: `${status} to ${where}`,
          ...r,
          text: `${r.text} (${ms} ms)`,
          ok: r.isError && /redirect/i.test(r.text) && /not followed/.test(r.text) && ms < 10_000,
        });
      }
    }
    const sent = hostile.api.requests() - apiBefore;
    results.push({
      what: "each redirect came from the embeddings API itself",
      isError: false,
      text: `${sent} requests to the API`,
      ok: sent >= REDIRECT_STATUSES.length * REDIRECT_TARGETS.length,
    });

    // No tool input chooses where text is embedded.
    const list = await rawPost(
      ctx.url,
      JSON.stringify({ jsonrpc: "2.0", id: id++, method: "tools/list" }),
      h,
    );
    const [listed] = parseMessages(String(list.headers["content-type"] ?? ""), list.body) as {
      result?: { tools?: { name: string; inputSchema?: unknown }[] };
    }[];
    const tools = listed?.result?.tools ?? [];
    const urlInputs = tools.flatMap((t) => urlLikeProperties(t.inputSchema).map((p) => `${t.name}.${p}`));
    results.push({
      what: "no tool has an input that names an address",
      isError: false,
      text: urlInputs.length ? urlInputs.join(", ") : `${tools.length} tools checked`,
      ok: tools.length > 0 && urlInputs.length === 0,
    });
    const canaryUrl = `http://127.0.0.1:${hostile.canary.port}/v1`;
    const name = `ssrf_${Date.now().toString(36)}`;
    const asEmbedder = await callTool(ctx.url, h, id++, "create_collection", { name, embedder: canaryUrl });
    results.push({
      what: "create_collection with a URL as its embedder",
      ...asEmbedder,
      ok: asEmbedder.isError,
    });
    const extra = await callTool(ctx.url, h, id++, "create_collection", {
      name: `${name}_x`,
      embedding_url: canaryUrl,
      embeddingUrl: canaryUrl,
      url: canaryUrl,
    });
    results.push({
      what: "create_collection with embedding_url, embeddingUrl and url beside its inputs",
      ...extra,
      // Refused, or created with the server's own embedder (the extra keys ignored): the canary says which.
      ok: true,
    });
    if (!extra.isError) await callTool(ctx.url, h, id++, "delete_collection", { name: `${name}_x` });
    const asText = await callTool(ctx.url, h, id++, "embed_text", { texts: [canaryUrl] });
    results.push({ what: "a URL as the text to embed is embedded as text", ...asText, ok: !asText.isError });

    const hits = canaryHits();
    results.push({
      what: "the canary saw no request",
      isError: false,
      text: `${hits} requests`,
      ok: hits === 0,
    });
    return refusedAll(results);
  },
};

/**
 * vector-search: SQL written into filter keys, values, collection names and ids must be data, never
 * SQL: every hostile filter returns exactly what the same filter means as data, and afterwards the
 * collection still holds the same documents.
 */
export const vectorSearchAttacks: readonly Attack[] = [
  {
    name: "SQL writes through filters, collection names and ids (quotes, --, ;, JSON-path tricks) change nothing",
    run: async (ctx) => {
      const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const h = session.headers;
      let id = 400;
      const collection = `attack_${Date.now().toString(36)}`;
      const setup = await callTool(ctx.url, h, id++, "create_collection", {
        name: collection,
        embedder: "none",
        dimension: 2,
      });
      if (setup.isError) return { refused: false, detail: `could not create the collection: ${setup.text}` };
      const hostileId = "x'); DROP TABLE documents; --";
      const upsert = await callTool(ctx.url, h, id++, "upsert_documents", {
        collection,
        documents: [
          {
            id: "a",
            text: "alpha",
            vector: [1, 0],
            metadata: { "k'ey": "v'; DELETE FROM documents; --", n: 1 },
          },
          { id: hostileId, text: "beta", vector: [0, 1], metadata: { "k'ey": "other", n: 2 } },
        ],
      });
      if (upsert.isError) return { refused: false, detail: `could not upsert: ${upsert.text}` };
      const filters: [string, unknown, number][] = [
        // [what, filter, documents it must match]
        ["a quoted key", { field: "k'ey", op: "eq", value: "other" }, 1],
        ["a value that is SQL", { field: "k'ey", op: "eq", value: "v'; DELETE FROM documents; --" }, 1],
        ["a key that is SQL", { field: "n') OR 1=1 --", op: "exists", value: true }, 0],
        ["a JSON-path key", { field: "$.n ? (@ > 0)", op: "exists", value: true }, 0],
        ["a nested-path key", { field: "k'ey\"}'::jsonb --", op: "eq", value: "x" }, 0],
        ["an in-list of SQL", { field: "n", op: "in", value: ["1) OR (1=1", 2] }, 1],
        [
          "or of SQL",
          {
            or: [
              { field: "n", op: "gt", value: "0; DROP TABLE x" },
              { field: "n", op: "eq", value: 1 },
            ],
          },
          1,
        ],
      ];
      const results = [];
      for (const [what, filter, expected] of filters) {
        const r = await structured(ctx.url, h, id++, "get_documents", { collection, filter, limit: 10 });
        const docs = (r?.documents as unknown[] | undefined) ?? [];
        const ok = r !== undefined ? docs.length === expected : expected === 0;
        results.push({ what, isError: r === undefined, text: `${docs.length} documents`, ok });
      }
      const byId = await structured(ctx.url, h, id++, "get_documents", { collection, ids: [hostileId, "a"] });
      results.push({
        what: "the hostile id reads back as itself",
        isError: byId === undefined,
        text: JSON.stringify(byId?.documents ?? null).slice(0, 120),
        ok: ((byId?.documents as unknown[] | undefined) ?? []).length === 2,
      });
      for (const name of [`${collection}"; DROP TABLE collections; --`, "x' OR '1'='1"]) {
        const r = await callTool(ctx.url, h, id++, "collection_info", { name });
        results.push({ what: `collection name ${name}`, ...r, ok: r.isError });
      }
      const info = await structured(ctx.url, h, id++, "collection_info", { name: collection });
      results.push({
        what: "the collection still holds its 2 documents",
        isError: info === undefined,
        text: JSON.stringify(info ?? null).slice(0, 120),
        ok: info?.count === 2,
      });
      await callTool(ctx.url, h, id++, "delete_collection", { name: collection });
      return refusedAll(results);
    },
  },
  embedderUrlSsrf,
];
