// Loopback upstreams for the targets' slow calls, which must take a known time and then succeed:
// a file server that answers a small CSV after the delay named in its path (data-analytics'
// register_dataset downloads through it) and an OpenAI-compatible embeddings API that answers after
// the delay a text names (vector-search's embed_text goes through it). They run in the bench's own
// process, started once when this module loads: the calls carry their URL, so the bench must know
// the port before the first server starts, and the flags that name them are fixed strings. Both are
// unref'd (they never keep a run alive) and bound to 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The longest delay either server honours, so a typo cannot park a request for good. */
const MAX_DELAY_MS = 60_000;
/** The vector length the loopback embeddings API returns. */
export const EMBEDDING_DIMENSION = 8;

export interface LoopbackServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Requests received so far. */
  requests(): number;
  close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1, counting requests. */
export async function listenLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: { unref?: boolean } = {},
): Promise<LoopbackServer> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  if (options.unref) server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Answers after `ms` unless the client went away first. */
function later(res: ServerResponse, ms: number, answer: () => void): void {
  const timer = setTimeout(answer, Math.min(Math.max(ms, 0), MAX_DELAY_MS));
  res.once("close", () => clearTimeout(timer));
}

/** Reads a request body of at most `limit` bytes (a larger one is cut off). */
export function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });
}

/**
 * GET `/slow/<ms>/<name>.csv`: a three-row CSV after `ms` milliseconds. Anything else is a 404.
 * `base` is the URL to pass to `--allow-url`.
 */
export async function startSlowFiles(
  options: { unref?: boolean } = {},
): Promise<LoopbackServer & { base: string; url(ms: number, name: string): string }> {
  const server = await listenLoopback((req, res) => {
    const match = /^\/slow\/(\d{1,6})\/[A-Za-z0-9_-]+\.csv$/.exec(req.url ?? "");
    if (req.method !== "GET" || !match) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const body = "id,label,amount\n1,alpha,1.5\n2,beta,2.5\n3,gamma,3.5\n";
    later(res, Number(match[1]), () =>
      res
        .writeHead(200, { "content-type": "text/csv", "content-length": String(Buffer.byteLength(body)) })
        .end(body),
    );
  }, options);
  const base = `${server.origin}/slow/`;
  return { ...server, base, url: (ms, name) => `${base}${ms}/${name}.csv` };
}

/** A deterministic unit vector for `text` (the same text, the same vector). */
export function fakeEmbedding(text: string, dimension = EMBEDDING_DIMENSION): number[] {
  const v = Array.from({ length: dimension }, (_, i) => (i === 0 ? 1 : 0));
  for (let i = 0; i < text.length; i++) v[i % dimension]! += (text.charCodeAt(i) % 97) / 97;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** The texts of an OpenAI-style `{ model, input }` body (a string or an array of strings). */
export function embeddingInputs(body: string): string[] | undefined {
  try {
    const input = (JSON.parse(body) as { input?: unknown }).input;
    if (typeof input === "string") return [input];
    if (Array.isArray(input) && input.every((t) => typeof t === "string")) return input;
  } catch {
    // not JSON
  }
  return undefined;
}

/** Answers an embeddings request for `texts` with `fakeEmbedding` vectors. */
export function answerEmbeddings(res: ServerResponse, texts: readonly string[]): void {
  res.writeHead(200, { "content-type": "application/json" }).end(
    JSON.stringify({
      object: "list",
      model: "loopback",
      data: texts.map((t, index) => ({ object: "embedding", index, embedding: fakeEmbedding(t) })),
      usage: { prompt_tokens: 0, total_tokens: 0 },
    }),
  );
}

/**
 * `POST /v1/embeddings`, OpenAI-compatible: `fakeEmbedding` vectors, answered after the largest
 * delay a text names with `slow-<ms>` (at once when none does). `url` is the `--embedding-url`.
 */
export async function startSlowEmbeddings(
  options: { unref?: boolean } = {},
): Promise<LoopbackServer & { url: string }> {
  const server = await listenLoopback((req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/embeddings") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    void readBody(req).then((body) => {
      const texts = embeddingInputs(body);
      if (!texts) {
        res.writeHead(400, { "content-type": "application/json" }).end('{"error":"input"}');
        return;
      }
      const delay = Math.max(0, ...texts.map((t) => Number(/slow-(\d{1,6})/.exec(t)?.[1] ?? 0)));
      later(res, delay, () => answerEmbeddings(res, texts));
    });
  }, options);
  return { ...server, url: `${server.origin}/v1` };
}

/** The run's shared slow upstreams, started when this module is first imported. */
export const SLOW_FILES = await startSlowFiles({ unref: true });
export const SLOW_EMBEDDINGS = await startSlowEmbeddings({ unref: true });
