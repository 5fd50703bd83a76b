import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createRequire } from "node:module";
import * as path from "node:path";

/**
 * A loopback GitHub that replays recorded responses: the scenarios of @octokit/fixtures (real
 * api.github.com recordings, normalized) and this package's own fixtures in the same shape. It
 * answers conditional requests with 304 like GitHub, rewrites api.github.com URLs (bodies, Link) to
 * itself, and can inject faults (statuses, connection resets, stalls) ahead of a route's recording.
 */

/** One recorded exchange, as nock records it (the @octokit/fixtures format). */
export interface Recording {
  scope?: string;
  method: string;
  /** Path with query, as recorded. */
  path: string;
  body?: unknown;
  status: number;
  response?: unknown;
  reqheaders?: Record<string, string | number>;
  headers?: Record<string, string | number>;
}

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { reset: true }
  | { stallMs: number };

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  status: number | "reset" | "stall";
}

const require = createRequire(import.meta.url);
const FIXTURES_DIR = path.join(path.dirname(require.resolve("@octokit/fixtures/package.json")), "scenarios");
const OWN_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "fixtures");

/** Recorded exchanges of one @octokit/fixtures scenario, e.g. "api.github.com/get-repository". */
export function octokitScenario(name: string): Recording[] {
  return JSON.parse(
    readFileSync(path.join(FIXTURES_DIR, name, "normalized-fixture.json"), "utf8"),
  ) as Recording[];
}

/** This package's own recordings, test/fixtures/<name>.json (same shape). */
export function ownFixture(name: string): Recording[] {
  return JSON.parse(readFileSync(path.join(OWN_DIR, `${name}.json`), "utf8")) as Recording[];
}

function mediaClass(accept: string | undefined): string {
  const a = (accept ?? "").toLowerCase();
  if (a.includes(".diff")) return "diff";
  if (a.includes(".patch")) return "patch";
  if (a.includes(".raw")) return "raw";
  return "json";
}

interface Route {
  rec: Recording;
  query: URLSearchParams;
  used: boolean;
}

export class FakeGitHub {
  readonly requests: SeenRequest[] = [];
  private readonly routes = new Map<string, Route[]>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeGitHub> {
    const holder: { fake?: FakeGitHub } = {};
    const server = createServer((req, res) => void holder.fake!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const fake = (holder.fake = new FakeGitHub(server, `http://127.0.0.1:${port}`));
    server.on("connection", (s) => {
      fake.sockets.add(s);
      s.on("close", () => fake.sockets.delete(s));
    });
    return fake;
  }

  /** Adds recordings; several for one method+path are replayed in order, the last one repeating. */
  load(...recordings: Recording[][]): this {
    for (const rec of recordings.flat()) {
      const u = new URL(rec.path, "http://x");
      const key = `${rec.method.toUpperCase()} ${decodeURIComponent(u.pathname)}`;
      const list = this.routes.get(key) ?? [];
      list.push({ rec, query: u.searchParams, used: false });
      this.routes.set(key, list);
    }
    return this;
  }

  /** Faults answered, in order, before the recording of `method path` (path without query). */
  fail(method: string, pathname: string, ...faults: Fault[]): this {
    const key = `${method.toUpperCase()} ${pathname}`;
    this.faults.set(key, [...(this.faults.get(key) ?? []), ...faults]);
    return this;
  }

  /** Requests seen for a method and path (without query). */
  count(method: string, pathname: string): number {
    return this.requests.filter((r) => r.method === method && r.path.split("?")[0] === pathname).length;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const u = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const key = `${method} ${decodeURIComponent(u.pathname)}`;
    const seen: SeenRequest = { method, path: req.url ?? "/", headers: req.headers, body, status: 0 };
    this.requests.push(seen);

    const fault = this.faults.get(key)?.shift();
    if (fault) {
      if ("reset" in fault) {
        seen.status = "reset";
        req.socket.destroy();
        return;
      }
      if ("stallMs" in fault) {
        seen.status = "stall";
        await new Promise((r) => setTimeout(r, fault.stallMs));
        if (!res.destroyed) res.destroy();
        return;
      }
      seen.status = fault.status;
      res.writeHead(fault.status, { "content-type": "application/json; charset=utf-8", ...fault.headers });
      res.end(JSON.stringify(fault.body ?? { message: "fault" }));
      return;
    }

    const route = this.pick(key, u.searchParams, mediaClass(req.headers.accept), body);
    if (!route) {
      seen.status = 404;
      res.writeHead(404, { "content-type": "application/json; charset=utf-8" });
      res.end(
        JSON.stringify({
          message: "Not Found",
          documentation_url: "https://docs.github.com/rest",
          fake: `no recording for ${key}`,
        }),
      );
      return;
    }
    route.used = true;
    const rec = route.rec;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec.headers ?? {})) {
      if (["content-length", "connection", "transfer-encoding", "content-encoding"].includes(k)) continue;
      headers[k] = String(v).replaceAll("https://api.github.com", this.url);
    }
    const etag = headers.etag;
    if (etag && req.headers["if-none-match"] === etag && rec.status === 200) {
      seen.status = 304;
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const text =
      rec.response === undefined || rec.response === ""
        ? ""
        : typeof rec.response === "string"
          ? rec.response
          : JSON.stringify(rec.response).replaceAll("https://api.github.com", this.url);
    seen.status = rec.status;
    res.writeHead(rec.status, headers);
    res.end(text);
  }

  /**
   * The first unused recording whose query and media type fit, else the last used one that fits. A
   * GraphQL recording whose `body` is `{ query: "query Name" }` fits only a request of the operation so
   * named, which tells queries apart on the one /graphql path; one with no body fits any.
   */
  private pick(key: string, query: URLSearchParams, media: string, body: string): Route | undefined {
    const sent = graphqlOperation(body);
    const fits = (this.routes.get(key) ?? []).filter((r) => {
      if (mediaClass(String(r.rec.reqheaders?.accept ?? "")) !== media) return false;
      for (const [k, v] of r.query) if (query.get(k) !== v) return false;
      const want = (r.rec.body as { query?: unknown } | undefined)?.query;
      if (typeof want === "string" && sent !== want) return false;
      return true;
    });
    return fits.find((r) => !r.used) ?? fits.at(-1);
  }
}

/** The operation of a GraphQL request body, as "query Name" or "mutation Name". */
export function graphqlOperation(body: string): string | undefined {
  try {
    const q = (JSON.parse(body) as { query?: unknown }).query;
    const op = typeof q === "string" ? /^\s*(query|mutation)\s+(\w+)/.exec(q) : null;
    return op ? `${op[1]} ${op[2]}` : undefined;
  } catch {
    return undefined;
  }
}
