import * as http from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import { ResetBeforeAnswer, UndiciPost } from "./undici-post.js";

/** What the SDK's HTTP transports call: `fetch`'s signature, returning a web `Response`. */
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface KeepAliveFetch {
  fetch: FetchLike;
  /**
   * A POST whose answer is read whole into a string, on undici's dispatcher (undici-post.ts): no web
   * Request, Response or stream, and no node:http request objects, per request; sockets of its own.
   * Fails with the signal's reason when it aborts, and with `PostTimeout` once `timeoutMs` pass
   * without the whole answer. Sent once more only when a socket of an origin that answered before
   * went away before any byte of the answer (the race of a kept-alive socket the server closed).
   * `more` are this call's own headers, sent after `headers`.
   */
  post: (
    url: URL,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
    timeoutMs: number,
    more?: Record<string, string>,
  ) => Promise<PostAnswer>;
  /** Closes the idle sockets and refuses new requests' reuse of them (requests in flight finish). */
  close(): void;
}

export interface KeepAliveFetchOptions {
  /** Sockets per origin at most (default: unlimited, as node's Agent). */
  maxSockets?: number;
  /** Idle sockets kept per origin (default 256). */
  maxFreeSockets?: number;
}

export interface PostAnswer {
  status: number;
  /** The Content-Type header ("" when absent). */
  contentType: string;
  text: string;
}

/** A `post` that got no whole answer within its `timeoutMs`. */
export class PostTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** Statuses whose response has no body (a web `Response` refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` on node:http/node:https with a keep-alive Agent of its own, for the SDK's Streamable HTTP
 * client transport: one upstream's requests reuse a few sockets instead of paying the global
 * fetch's per-request overhead (its WHATWG Request, body and header machinery on top of undici).
 *
 * - The response body is streamed (a web ReadableStream fed from the socket with backpressure), so
 *   an SSE response is read event by event as it arrives.
 * - `init.signal` is honoured before the request, while it waits for the response and while its
 *   body streams: the request is destroyed and the promise (or the body) fails with the reason.
 * - Redirects are never followed: a 3xx comes back as it is (what `redirect: "manual"` asks, and
 *   what the SDK's default same-origin redirect policy asks for before deciding itself).
 * - Retry: a request is sent a second time ONLY when it went out on a REUSED keep-alive socket and
 *   that socket was reset (ECONNRESET) before a single byte of the response arrived. That is the
 *   race of a server closing an idle connection just as the request is written; the request did
 *   not reach the application there, in all likelihood. It may still resend a POST (a JSON-RPC
 *   call) that the server had read: accepted, once, because failing every call that lands on a
 *   socket the server just timed out would be worse. A reset on a fresh socket, or after any
 *   response byte, is never retried.
 */
export function createKeepAliveFetch(options: KeepAliveFetchOptions = {}): KeepAliveFetch {
  const agentOptions: http.AgentOptions = {
    keepAlive: true,
    maxFreeSockets: options.maxFreeSockets ?? 256,
    ...(options.maxSockets !== undefined ? { maxSockets: options.maxSockets } : {}),
    scheduling: "lifo",
  };
  const agents = { "http:": new http.Agent(agentOptions), "https:": new https.Agent(agentOptions) };
  // `post`: undici's dispatcher, on sockets of its own (undici-post.ts).
  const posts = new UndiciPost(options.maxSockets);

  const fetch: FetchLike = async (input, init = {}) => {
    const url = typeof input === "string" ? new URL(input) : input;
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`keep-alive fetch: unsupported protocol '${url.protocol}' (http: or https: only)`);
    }
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    const method = (init.method ?? "GET").toUpperCase();
    const headers = headerRecord(init.headers);
    const body = requestBody(init.body, headers);
    if (body !== undefined) headers["content-length"] = String(body.byteLength);
    const request: Attempt = { url, method, headers, body, signal, agent: agents[url.protocol] };
    try {
      return await send(request);
    } catch (err) {
      if (!(err instanceof ResetBeforeResponse)) throw err;
      // The one retry: see above. A second failure goes to the caller as it is.
      signal?.throwIfAborted();
      return send(request).catch((second: unknown) => {
        throw second instanceof ResetBeforeResponse ? second.cause : second;
      });
    }
  };

  const post = async (
    url: URL,
    headers: Record<string, string>,
    text: string,
    signal: AbortSignal,
    timeoutMs: number,
    more?: Record<string, string>,
  ): Promise<PostAnswer> => {
    signal.throwIfAborted();
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`keep-alive post: unsupported protocol '${url.protocol}' (http: or https: only)`);
    }
    const deadline = Date.now() + timeoutMs;
    const attempt = (ms: number) =>
      posts.send(url, headers, more, text, signal, ms, () => new PostTimeout(timeoutMs), onAbortOf);
    try {
      return await attempt(timeoutMs);
    } catch (err) {
      if (!(err instanceof ResetBeforeAnswer)) throw err;
      // The one retry, as fetch's (see above); a second failure goes to the caller as it is.
      signal.throwIfAborted();
      return attempt(Math.max(1, deadline - Date.now())).catch((second: unknown) => {
        throw second instanceof ResetBeforeAnswer ? second.cause : second;
      });
    }
  };

  return {
    fetch,
    post,
    close() {
      posts.close();
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

interface Attempt {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  signal: AbortSignal | undefined;
  agent: http.Agent;
}

/**
 * The requests waiting on each signal. The SDK's transport hands one long-lived signal to every
 * request it sends, so a listener per request would pile up past Node's limit of ten (and warn of a
 * leak) as soon as more than ten are in flight or streaming; each signal gets one listener instead,
 * which calls the requests still registered when it fires.
 */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `onAbort` when `signal` aborts; returns what unregisters it (call it once the request is done). */
function onAbortOf(signal: AbortSignal, onAbort: () => void): () => void {
  let requests = waiting.get(signal);
  if (!requests) {
    const registered = new Set<() => void>();
    requests = registered;
    waiting.set(signal, registered);
    signal.addEventListener(
      "abort",
      () => {
        waiting.delete(signal);
        for (const request of [...registered]) request();
      },
      { once: true },
    );
  }
  const own = requests;
  own.add(onAbort);
  return () => {
    own.delete(onAbort);
  };
}

/** A reused socket was reset before any byte of the response: the one case that is retried. */
class ResetBeforeResponse extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

function send({ url, method, headers, body, signal, agent }: Attempt): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const lib = url.protocol === "https:" ? https : http;
    const req = lib.request({
      agent,
      method,
      protocol: url.protocol,
      hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || undefined,
      path: url.pathname + url.search,
      headers,
      ...(url.username || url.password
        ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }
        : {}),
    });
    let socket: Socket | undefined;
    let bytesBefore = 0;
    let responded = false;
    let settled = false;
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;

    const onAbort = () => {
      const reason = signal!.reason as unknown;
      req.destroy();
      if (!settled) {
        settled = true;
        // As fetch does: the promise fails with the signal's reason, whatever the caller aborted with.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(reason);
      } else if (stream) {
        try {
          stream.error(reason);
        } catch {
          // already closed
        }
        stream = undefined;
      }
    };
    const done = signal ? onAbortOf(signal, onAbort) : () => {};

    req.on("socket", (s: Socket) => {
      socket = s;
      bytesBefore = s.bytesRead;
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      done();
      const nothingRead = !responded && (socket === undefined || socket.bytesRead === bytesBefore);
      if (req.reusedSocket && err.code === "ECONNRESET" && nothingRead) reject(new ResetBeforeResponse(err));
      else reject(err);
    });
    req.on("response", (res: http.IncomingMessage) => {
      responded = true;
      settled = true;
      const responseHeaders = new Headers();
      const raw = res.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
      const status = res.statusCode ?? 0;
      let responseBody: ReadableStream<Uint8Array> | null = null;
      if (method === "HEAD" || NULL_BODY.has(status)) {
        res.resume();
        res.once("end", done);
      } else {
        responseBody = new ReadableStream<Uint8Array>({
          start(controller) {
            stream = controller;
            res.on("data", (chunk: Buffer) => {
              if (!stream) return;
              stream.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
              if ((stream.desiredSize ?? 1) <= 0) res.pause();
            });
            res.once("end", () => {
              done();
              stream?.close();
              stream = undefined;
            });
            res.once("error", (err: Error) => {
              done();
              stream?.error(err);
              stream = undefined;
            });
            // A socket that dies mid-body ends the body with an error rather than a silent end.
            res.once("close", () => {
              if (res.complete || !stream) return;
              done();
              stream.error(Object.assign(new Error("the response was cut off"), { code: "ECONNRESET" }));
              stream = undefined;
            });
          },
          pull() {
            res.resume();
          },
          cancel() {
            done();
            stream = undefined;
            res.destroy();
          },
        });
      }
      const response = new Response(responseBody, {
        status,
        statusText: res.statusMessage ?? "",
        headers: responseHeaders,
      });
      Object.defineProperty(response, "url", { value: url.href });
      resolve(response);
    });
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function headerRecord(init: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  if (init instanceof Headers) {
    init.forEach((value, name) => (out[name] = value));
  } else if (Array.isArray(init)) {
    for (const [name, value] of init) {
      const key = name!.toLowerCase();
      out[key] = key in out ? `${out[key]}, ${value}` : value!;
    }
  } else {
    for (const [name, value] of Object.entries(init as Record<string, string | undefined>)) {
      if (value !== undefined) out[name.toLowerCase()] = value;
    }
  }
  return out;
}

function requestBody(body: RequestInit["body"], headers: Record<string, string>): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) {
    headers["content-type"] ??= "application/x-www-form-urlencoded;charset=UTF-8";
    return Buffer.from(body.toString(), "utf8");
  }
  throw new TypeError(
    "keep-alive fetch: the request body must be a string, bytes or URLSearchParams (streams and forms are not sent)",
  );
}
