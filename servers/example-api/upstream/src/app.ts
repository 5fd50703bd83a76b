import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ResourceStore, type Resource } from "./store.js";
import { BadRequest, enumParam, intParam, resourceInput, sortField, stringParam } from "./validate.js";

export { ResourceStore } from "./store.js";
export type { Resource, ResourceInput } from "./store.js";

/** The OpenAPI 3.1 document this API implements (served at /openapi.yaml). */
export const openapiPath = new URL("../openapi.yaml", import.meta.url);

export interface ExampleApiOptions {
  /** The JSON file resources persist to. */
  dataFile: string;
  /** Accepted credentials, as a bearer token or an X-API-Key. */
  tokens: string[];
  /** Called with one line per failed request (5xx); stderr in the bin. */
  onError?: (message: string) => void;
}

const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Opens the store and returns a node:http server (not listening yet) serving the Example API. */
export async function createExampleApi(options: ExampleApiOptions): Promise<Server> {
  if (options.tokens.length === 0) throw new Error("the Example API needs at least one token");
  const store = await ResourceStore.open(options.dataFile);
  const accepted = options.tokens.map(digest);
  const document = readFileSync(openapiPath, "utf8");

  const authorized = (req: IncomingMessage): boolean => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const key = req.headers["x-api-key"];
    const presented = bearer ?? (typeof key === "string" ? key : undefined);
    if (!presented) return false;
    const d = digest(presented);
    return accepted.some((a) => timingSafeEqual(a, d));
  };

  const route = async (req: IncomingMessage, url: URL): Promise<[number, unknown]> => {
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/healthz" && method === "GET") return [200, { status: "ok" }];
    if (path === "/openapi.yaml" && method === "GET") return [200, document];
    const item = /^\/resources\/([^/]+)$/.exec(path);
    if (path !== "/resources" && path !== "/search" && !item) {
      throw new HttpError(404, "not_found", `no route ${method} ${path}; see /openapi.yaml`);
    }
    if (!authorized(req)) {
      throw new HttpError(
        401,
        "unauthorized",
        "missing or invalid credentials: send an Authorization: Bearer header or an X-API-Key header",
      );
    }
    const q = url.searchParams;
    if (path === "/resources" && method === "GET") {
      const limit = intParam(q, "limit", { min: 1, max: 100, fallback: 20 });
      const offset = intParam(q, "offset", { min: 0, fallback: 0 });
      const all = store.list().sort((a, b) => compare(b.created_at, a.created_at) || compare(a.id, b.id));
      return [200, { items: all.slice(offset, offset + limit), total: all.length, limit, offset }];
    }
    if (path === "/resources" && method === "POST") {
      return [201, await store.create(resourceInput(await readJson(req)))];
    }
    if (path === "/search" && method === "GET") {
      const query = stringParam(q, "query", { minLength: 3, maxLength: 200, required: true })!.toLowerCase();
      const category = stringParam(q, "category", { minLength: 1, maxLength: 50 });
      const sortBy = sortField(q);
      const order = enumParam(q, "order", ["asc", "desc"] as const, "asc");
      const limit = intParam(q, "limit", { min: 1, max: 100, fallback: 20 });
      const matches = store
        .list()
        .filter(
          (r) =>
            (category === undefined || r.category === category) &&
            (r.name.toLowerCase().includes(query) || r.description.toLowerCase().includes(query)),
        )
        .sort((a, b) => (order === "asc" ? 1 : -1) * (compare(a[sortBy], b[sortBy]) || compare(a.id, b.id)));
      return [200, { items: matches.slice(0, limit), total: matches.length }];
    }
    if (item) {
      const id = decodeURIComponent(item[1]!);
      const missing = () => new HttpError(404, "not_found", `resource '${id}' not found; call listResources`);
      let found: Resource | undefined | boolean;
      switch (method) {
        case "GET":
          found = store.get(id);
          break;
        case "PUT":
          found = await store.replace(id, resourceInput(await readJson(req)));
          break;
        case "DELETE":
          if (!(await store.delete(id))) throw missing();
          return [204, undefined];
        default:
          throw new HttpError(405, "method_not_allowed", `${method} is not allowed on /resources/{id}`);
      }
      if (!found) throw missing();
      return [200, found];
    }
    throw new HttpError(405, "method_not_allowed", `${method} is not allowed on ${path}`);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    route(req, url).then(
      ([status, body]) => send(res, status, body),
      (err: unknown) => {
        if (err instanceof BadRequest) return send(res, 400, errorBody("invalid_request", err.message));
        if (err instanceof HttpError) {
          if (err.status === 401) res.setHeader("www-authenticate", 'Bearer realm="example-api"');
          return send(res, err.status, errorBody(err.code, err.message));
        }
        options.onError?.(`${req.method} ${url.pathname} failed: ${(err as Error).message}`);
        send(res, 500, errorBody("internal", "the Example API could not complete the request; try again"));
      },
    );
  });
  return server;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
  } else if (typeof body === "string") {
    res.writeHead(status, { "content-type": "application/yaml" }).end(body);
  } else {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "send the body as JSON (content-type: application/json)",
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "too_large", "the body is larger than 1 MiB");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new BadRequest("the body is not valid JSON");
  }
}
