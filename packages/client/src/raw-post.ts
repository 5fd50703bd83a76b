import { connect, type Socket } from "node:net";

/** What `post` resolves with (node-fetch.ts re-exports it as `PostAnswer`). */
export interface RawAnswer {
  status: number;
  /** The Content-Type header ("" when absent). */
  contentType: string;
  text: string;
}

/** A reused socket was reset (or closed) before any byte of the answer: the caller may retry once. */
export class RawResetBeforeResponse extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

/** Header names and values `post` writes itself: a token, and printable ASCII (node:http's rules, stricter). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\t\x20-\x7e]*$/;
/** Headers the raw request writes itself. */
const OWN = new Set(["content-length", "connection", "transfer-encoding", "host"]);
/** The longest head of an answer read (node:http's default limit). */
const MAX_HEAD = 16 * 1024;

/** Whether `post` can write these headers itself; otherwise node:http sends the request. */
export function rawHeadersOk(headers: Record<string, string>): boolean {
  for (const name in headers) {
    const value = headers[name]!;
    // The same headers go out on every call of an upstream: each name's last good value is remembered.
    if (checked.get(name) === value) continue;
    if (!TOKEN.test(name) || !VALUE.test(value)) return false;
    if (checked.size >= 256) checked.clear();
    checked.set(name, value);
  }
  return true;
}

const checked = new Map<string, string>();

/**
 * POSTs over plain HTTP/1.1 on kept-alive sockets of its own, without node:http's ClientRequest,
 * IncomingMessage and Agent per request (most of a forwarded call's CPU on the outbound side): the
 * request head and body go out in one write, and the answer is parsed here (a Content-Length body,
 * a chunked one, or one that runs to the socket's end). One request per socket at a time; idle
 * sockets are reused last-in first-out and dropped when the server closes them.
 */
export class RawPool {
  readonly #idle = new Map<string, Conn[]>();
  /** The request line and fixed headers, per headers object (callers pass the same one each call). */
  readonly #heads = new WeakMap<Record<string, string>, { href: string; head: string }>();
  #closed = false;

  constructor(private readonly maxFree: number) {}

  /** Sends one request; fails as node:http does (ECONNRESET when cut off), or with `onTimeout()`. */
  send(
    url: URL,
    headers: Record<string, string>,
    more: Record<string, string> | undefined,
    body: string,
    signal: AbortSignal,
    timeoutMs: number,
    onTimeout: () => Error,
    onAbort: (signal: AbortSignal, fire: () => void) => () => void,
  ): Promise<RawAnswer> {
    const key = url.host;
    let conn: Conn | undefined;
    const idle = this.#idle.get(key);
    while (idle?.length) {
      const c = idle.pop()!;
      if (!c.socket.destroyed) {
        conn = c;
        break;
      }
    }
    const reused = conn !== undefined;
    conn ??= new Conn(this, key, url);
    let fixed = this.#heads.get(headers);
    if (fixed?.href !== url.href) {
      fixed = { href: url.href, head: requestHead(url, headers) };
      this.#heads.set(headers, fixed);
    }
    let head = fixed.head;
    if (more) for (const name in more) if (!OWN.has(name.toLowerCase())) head += `${name}: ${more[name]}\r\n`;
    head += `content-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n`;
    return conn.exchange(head + body, reused, signal, timeoutMs, onTimeout, onAbort);
  }

  /** Back in the pool once an answer was read whole and the socket stays open. */
  release(conn: Conn): void {
    const list = this.#idle.get(conn.key) ?? [];
    if (this.#closed || list.length >= this.maxFree) {
      conn.socket.destroy();
      return;
    }
    if (list.length === 0) this.#idle.set(conn.key, list);
    list.push(conn);
  }

  /** An idle socket the server closed. */
  forget(conn: Conn): void {
    const list = this.#idle.get(conn.key);
    const at = list?.indexOf(conn) ?? -1;
    if (at >= 0) list!.splice(at, 1);
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const conn of list) conn.socket.destroy();
    this.#idle.clear();
  }
}

/** The request line and the headers of `headers` (with Host, and Authorization from the URL's credentials). */
function requestHead(url: URL, headers: Record<string, string>): string {
  let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\n`;
  if (!("host" in headers)) head += `host: ${url.host}\r\n`;
  for (const name in headers) if (!OWN.has(name.toLowerCase())) head += `${name}: ${headers[name]}\r\n`;
  if ((url.username || url.password) && !("authorization" in headers)) {
    const auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    head += `authorization: Basic ${Buffer.from(auth).toString("base64")}\r\n`;
  }
  return head;
}

type Stage = "head" | "length" | "chunked" | "close";

/** One socket and the exchange on it (if any); its listeners are installed once. */
class Conn {
  readonly socket: Socket;
  #pool: RawPool;
  // The exchange in progress.
  #resolve: ((answer: RawAnswer) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;
  #reused = false;
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => void) | undefined;
  #got = false;
  #pending: Buffer | undefined;
  #stage: Stage = "head";
  #status = 0;
  #contentType = "";
  #keepAlive = true;
  #remaining = 0;
  #parts: Buffer[] = [];

  constructor(
    pool: RawPool,
    readonly key: string,
    url: URL,
  ) {
    this.#pool = pool;
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    this.socket = connect({ host, port: Number(url.port || 80), noDelay: true, keepAlive: true });
    // Never keeps the process alive by itself: a request in flight does, through its timer.
    this.socket.unref();
    this.socket.on("data", (chunk: Buffer) => this.#data(chunk));
    this.socket.on("end", () => this.#ended());
    this.socket.on("close", () => this.#ended());
    this.socket.on("error", (err: NodeJS.ErrnoException) => this.#fail(err));
  }

  exchange(
    request: string,
    reused: boolean,
    signal: AbortSignal,
    timeoutMs: number,
    onTimeout: () => Error,
    onAbort: (signal: AbortSignal, fire: () => void) => () => void,
  ): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#reused = reused;
      this.#got = false;
      this.#stage = "head";
      this.#parts = [];
      this.#contentType = "";
      this.#keepAlive = true;
      this.#timer = setTimeout(() => this.#settle(onTimeout()), timeoutMs);
      this.#unlisten = onAbort(signal, () => this.#settle(signal.reason));
      this.socket.write(request);
    });
  }

  #data(chunk: Buffer): void {
    if (!this.#resolve) {
      // Bytes nobody asked for: the connection is out of step.
      this.socket.destroy();
      return;
    }
    this.#got = true;
    this.#pending = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    try {
      this.#parse();
    } catch (err) {
      this.#settle(err);
    }
  }

  #parse(): void {
    for (;;) {
      const buf = this.#pending;
      if (!buf) return;
      if (this.#stage === "head") {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buf.length > MAX_HEAD) throw parseError("the answer's head is too long");
          return;
        }
        const head = buf.toString("latin1", 0, end);
        this.#pending = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
        this.#head(head);
        continue;
      }
      if (this.#stage === "length") {
        if (buf.length < this.#remaining) return;
        // More than the answer (nothing was asked): answer, and do not reuse the socket.
        if (buf.length > this.#remaining) this.#keepAlive = false;
        this.#parts.push(buf.subarray(0, this.#remaining));
        this.#pending = undefined;
        return this.#done();
      }
      if (this.#stage === "close") {
        this.#parts.push(buf);
        this.#pending = undefined;
        return;
      }
      // chunked: size line, data, CRLF; a zero size ends it, then trailers up to an empty line.
      const line = buf.indexOf("\r\n");
      if (line < 0) {
        if (buf.length > MAX_HEAD) throw parseError("a chunk size line is too long");
        return;
      }
      const sizeText = buf.toString("latin1", 0, line).split(";", 1)[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw parseError("a chunk size is not hexadecimal");
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        // After the last chunk's line: an empty line, or trailer lines and then an empty line.
        const rest = line + 2;
        if (buf.length < rest + 2) return;
        let end = rest + 2;
        if (buf[rest] !== 13 || buf[rest + 1] !== 10) {
          const trailers = buf.indexOf("\r\n\r\n", rest);
          if (trailers < 0) return;
          end = trailers + 4;
        }
        if (buf.length > end) this.#keepAlive = false;
        this.#pending = undefined;
        return this.#done();
      }
      if (buf.length < line + 2 + size + 2) return;
      this.#parts.push(buf.subarray(line + 2, line + 2 + size));
      this.#pending = line + 4 + size < buf.length ? buf.subarray(line + 4 + size) : undefined;
    }
  }

  #head(text: string): void {
    let at = text.indexOf("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(at < 0 ? text : text.slice(0, at));
    if (!m) throw parseError("the answer is not HTTP/1.x");
    const status = Number(m[2]);
    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
    if (status >= 100 && status < 200 && status !== 101) return;
    if (status === 101) throw parseError("the server switched protocols");
    this.#status = status;
    let length: string | undefined;
    let coding: string | undefined;
    let connection = m[1] === "0" ? "close" : "keep-alive";
    while (at >= 0) {
      const start = at + 2;
      at = text.indexOf("\r\n", start);
      const end = at < 0 ? text.length : at;
      const colon = text.indexOf(":", start);
      if (colon <= start || colon >= end) throw parseError("a header line of the answer is malformed");
      // Only four names are read: skip the others without making strings of them.
      const size = colon - start;
      if (size !== 12 && size !== 14 && size !== 17 && size !== 10) continue;
      const name = text.slice(start, colon).toLowerCase();
      const value = text.slice(colon + 1, end).trim();
      if (name === "content-type") this.#contentType ||= value;
      else if (name === "content-length") {
        if (length !== undefined && length !== value) throw parseError("two different Content-Length");
        length = value;
      } else if (name === "transfer-encoding") coding = value;
      else if (name === "connection") connection = value.toLowerCase();
    }
    if (m[1] === "0" ? !/keep-alive/.test(connection) : /close/.test(connection)) this.#keepAlive = false;
    // A Transfer-Encoding wins over a Content-Length; one that does not end in chunked runs to the close.
    const chunked = coding !== undefined && /(?:^|,)\s*chunked\s*$/i.test(coding);
    if (coding !== undefined && !chunked) length = undefined;
    if (status === 204 || status === 304) {
      this.#stage = "length";
      this.#remaining = 0;
    } else if (chunked) {
      this.#stage = "chunked";
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw parseError("the Content-Length is not a number");
      this.#stage = "length";
      this.#remaining = Number(length);
    } else {
      this.#stage = "close";
      this.#keepAlive = false;
    }
    if (this.#stage === "length" && this.#remaining === 0) {
      this.#pending ??= Buffer.alloc(0);
    }
  }

  #done(): void {
    const parts = this.#parts;
    const text = parts.length === 1 ? parts[0]!.toString("utf8") : Buffer.concat(parts).toString("utf8");
    const answer = { status: this.#status, contentType: this.#contentType, text };
    const keep = this.#keepAlive;
    const resolve = this.#resolve!;
    this.#clear();
    if (keep) this.#pool.release(this);
    else this.socket.destroy();
    resolve(answer);
  }

  #ended(): void {
    if (!this.#resolve) {
      this.#pool.forget(this);
      this.socket.destroy();
      return;
    }
    if (this.#stage === "close" && this.#got) {
      this.#keepAlive = false;
      return this.#done();
    }
    this.#fail(
      Object.assign(new Error(this.#got ? "the response was cut off" : "socket hang up"), {
        code: "ECONNRESET",
      }),
    );
  }

  #fail(err: NodeJS.ErrnoException): void {
    if (!this.#resolve) {
      this.#pool.forget(this);
      this.socket.destroy();
      return;
    }
    const retry = this.#reused && !this.#got && err.code === "ECONNRESET";
    this.#settle(retry ? new RawResetBeforeResponse(err) : err);
  }

  /** Ends the exchange with `err`; the socket is not reused. */
  #settle(err: unknown): void {
    const reject = this.#reject;
    if (!reject) return;
    this.#clear();
    this.socket.destroy();
    reject(err);
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#unlisten?.();
    this.#unlisten = undefined;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#pending = undefined;
    this.#parts = [];
  }
}

function parseError(message: string): Error {
  return Object.assign(new Error(`malformed HTTP answer: ${message}`), { code: "HPE_INVALID" });
}
