import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createHttpClient, type HttpClient, type HttpClientOptions } from "../src/index.js";
import { json, startUpstream, type Handler, type Upstream, failure } from "./upstream.js";

const open: { upstreams: Upstream[]; clients: HttpClient[] } = { upstreams: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.upstreams.splice(0).map((u) => u.close()));
});

async function setup(handler: Handler, options: Partial<HttpClientOptions> = {}, basePath = "") {
  const upstream = await startUpstream(handler);
  open.upstreams.push(upstream);
  const client = createHttpClient({
    name: "test",
    baseUrl: upstream.url + basePath,
    allowPrivateNetwork: true,
    retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
    ...options,
  });
  open.clients.push(client);
  return { upstream, client };
}

const echo: Handler = (req, res, seen) =>
  json(res, 200, { method: req.method, url: req.url, headers: req.headers, body: seen.body });

describe("requests", () => {
  it("joins baseUrl's path and the request path, encodes the query and merges headers", async () => {
    const { upstream, client } = await setup(
      echo,
      { headers: { Authorization: "Bearer client-token", "X-Team": "core" } },
      "/api/v3/",
    );
    const res = await client.get("/search", {
      query: { q: "a b&c", page: 2, draft: false, tag: ["x", "y"], skip: undefined, none: null },
      headers: { "x-team": "override", "X-Extra": "1" },
    });
    expect(res.status).toBe(200);
    expect(res.fromCache).toBe(false);
    expect(res.headers["content-type"]).toBe("application/json");
    const seen = upstream.seen[0]!;
    expect(seen.url).toBe("/api/v3/search?q=a%20b%26c&page=2&draft=false&tag=x&tag=y");
    expect(seen.headers.authorization).toBe("Bearer client-token");
    expect(seen.headers["x-team"]).toBe("override");
    expect(seen.headers["x-extra"]).toBe("1");
    expect(seen.headers["user-agent"]).toMatch(/^toolshed-http-client\/\d+\.\d+\.\d+$/);
  });

  it("keeps a path without a leading slash (or with @host tricks) under the base", async () => {
    const { upstream, client } = await setup(echo);
    await client.get("@evil.example/x");
    await client.get("//evil.example/y");
    expect(upstream.seen.map((s) => s.url)).toEqual(["/@evil.example/x", "//evil.example/y"]);
  });

  it("sends JSON bodies with put/patch/delete helpers too", async () => {
    const { upstream, client } = await setup(echo);
    await client.post("/items", { json: { name: "a" } });
    await client.put("/items/1", { json: { name: "b" } });
    await client.patch("/items/1", { body: "raw", headers: { "content-type": "text/plain" } });
    await client.delete("/items/1");
    expect(upstream.seen.map((s) => [s.method, s.body, s.headers["content-type"]])).toEqual([
      ["POST", '{"name":"a"}', "application/json"],
      ["PUT", '{"name":"b"}', "application/json"],
      ["PATCH", "raw", "text/plain"],
      ["DELETE", "", undefined],
    ]);
  });

  it("decodes text, bytes and empty bodies", async () => {
    const { client } = await setup((req, res) => {
      if (req.url === "/text") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("hello");
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    expect((await client.get("/text")).data).toBe("hello");
    const bytes = await client.get("/text", { responseType: "bytes" });
    expect(Buffer.isBuffer(bytes.data)).toBe(true);
    expect((await client.get("/empty")).data).toBeUndefined();
  });

  it("follows a same-host redirect, turning a POST into a GET on 303", async () => {
    const { upstream, client } = await setup((req, res, seen) => {
      if (req.url === "/old") {
        res.writeHead(301, { location: "/new" });
        res.end();
      } else if (req.url === "/form") {
        res.writeHead(303, { location: "/done" });
        res.end();
      } else json(res, 200, { at: req.url, method: req.method, body: seen.body });
    });
    expect((await client.get("/old")).data).toEqual({ at: "/new", method: "GET", body: "" });
    expect((await client.post("/form", { json: { a: 1 } })).data).toEqual({
      at: "/done",
      method: "GET",
      body: "",
    });
    expect(upstream.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "GET /old",
      "GET /new",
      "POST /form",
      "GET /done",
    ]);
  });

  it("refuses a client that is closed", async () => {
    const { client } = await setup(echo);
    await client.close();
    const err = await failure(client.get("/x"));
    expect(err.code).toBe("upstream_unavailable");
    expect(err.message).toContain("closed");
  });
});

describe("JSON validation with zod", () => {
  const Repo = z.object({ id: z.number(), name: z.string(), topics: z.array(z.object({ id: z.number() })) });

  it("returns the parsed, typed data when it matches", async () => {
    const { client } = await setup((_req, res) =>
      json(res, 200, { id: 1, name: "a", topics: [{ id: 2 }], extra: 1 }),
    );
    const res = await client.get("/repo", { expect: Repo });
    const name: string = res.data.name;
    expect(name).toBe("a");
    expect(res.data).toEqual({ id: 1, name: "a", topics: [{ id: 2 }] });
  });

  it("reports a mismatch as `upstream_error` naming the first bad path", async () => {
    const { upstream, client } = await setup((_req, res) =>
      json(res, 200, { id: 1, name: "a", topics: [{ id: 2 }, { id: "3" }] }),
    );
    const err = await failure(client.get("/repo", { expect: Repo }));
    expect(err.code).toBe("upstream_error");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("does not have the expected shape at topics[1].id");
    expect(err.message).toContain("expected number");
    expect(err.details).toMatchObject({ path: "topics[1].id", status: 200 });
    expect(upstream.seen).toHaveLength(1);
  });

  it("reports a body that is not JSON as `upstream_error`", async () => {
    const { client } = await setup((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>maintenance</html>");
    });
    const err = await failure(client.get("/repo", { expect: Repo }));
    expect(err.code).toBe("upstream_error");
    expect(err.message).toContain("not valid JSON (content-type 'text/html')");
  });
});

describe("errors never leak secrets", () => {
  it("keeps auth headers and query tokens out of messages and details", async () => {
    const secret = "s3cr3t-client-token";
    const perRequest = "per-request-key-123";
    const { client } = await setup(
      (_req, res) =>
        json(res, 401, { message: `Bad credentials: token ${secret} and key ${perRequest} rejected` }),
      { headers: { authorization: `token ${secret}` } },
    );
    const err = await failure(
      client.get("/user", {
        query: { access_token: "query-token-1", token: "query-token-2", key: "query-key-3", page: 1 },
        headers: { "x-api-key": perRequest },
      }),
    );
    expect(err.code).toBe("unauthenticated");
    const everything = JSON.stringify({ message: err.message, json: err.toJSON(), stack: err.stack });
    for (const leaked of [secret, perRequest, "query-token-1", "query-token-2", "query-key-3"]) {
      expect(everything).not.toContain(leaked);
    }
    expect(err.message).toContain("/user?access_token=REDACTED&token=REDACTED&key=REDACTED&page=1");
    expect(err.message).toContain("the upstream said");
  });

  it("does not send credentials in URLs", async () => {
    const { upstream, client } = await setup(echo, { allowHosts: ["127.0.0.1"] });
    const err = await failure(client.get(`http://user:pw@127.0.0.1:${upstream.port}/x`));
    expect(err.code).toBe("invalid_input");
    expect(err.message).not.toContain("pw");
    expect(upstream.seen).toHaveLength(0);
  });
});
