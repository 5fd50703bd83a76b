import { lookup as dnsLookup } from "node:dns";
import type { LookupFunction } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpClient, type HttpClient } from "../src/index.js";
import { json, startUpstream, type Upstream, failure } from "./upstream.js";

// Every address here is on loopback. The refusals are checked from the server's side: a refused
// request must never reach it.
const open: { upstreams: Upstream[]; clients: HttpClient[] } = { upstreams: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.upstreams.splice(0).map((u) => u.close()));
});

async function upstream(
  handler: Parameters<typeof startUpstream>[0] = (_q, res) => json(res, 200, { ok: true }),
) {
  const u = await startUpstream(handler);
  open.upstreams.push(u);
  return u;
}

function client(options: Parameters<typeof createHttpClient>[0]): HttpClient {
  const c = createHttpClient({ retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 }, ...options });
  open.clients.push(c);
  return c;
}

/** A resolver that knows one made-up name, as a DNS server an attacker controls would answer. */
function fakeDns(name: string, address: string): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (hostname !== name) {
      (dnsLookup as LookupFunction)(hostname, options, callback);
      return;
    }
    if (options.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  }) as LookupFunction;
}

describe("redirects", () => {
  it("refuses a redirect to another host without following it", async () => {
    const other = await upstream();
    const first = await upstream((_req, res) => {
      res.writeHead(302, { location: `http://localhost:${other.port}/steal` });
      res.end();
    });
    const c = client({ name: "test", baseUrl: first.url, allowPrivateNetwork: true });
    const err = await failure(c.get("/start"));
    expect(err.code).toBe("upstream_error");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("redirected to another host ('localhost')");
    expect(err.message).toContain("the redirect was not followed");
    expect(first.seen).toHaveLength(1);
    expect(other.seen).toHaveLength(0);
  });

  it("follows a redirect to an allow-listed host and drops the credentials on the way", async () => {
    const other = await upstream((req, res) => json(res, 200, { auth: req.headers.authorization ?? null }));
    const first = await upstream((_req, res) => {
      res.writeHead(307, { location: `http://localhost:${other.port}/there` });
      res.end();
    });
    const c = client({
      name: "test",
      baseUrl: first.url,
      allowHosts: ["127.0.0.1", "localhost"],
      allowPrivateNetwork: true,
      headers: { authorization: "Bearer secret" },
    });
    expect((await c.get("/start")).data).toEqual({ auth: null });
    expect(first.seen[0]!.headers.authorization).toBe("Bearer secret");
    expect(other.seen.map((s) => s.url)).toEqual(["/there"]);
  });

  // Found by the bench's SSRF attack on github: the allow-list is by host name, so a redirect to
  // another port of the same host (a canary, an admin port, Redis) was followed, credentials included.
  it.each([301, 302, 303, 307, 308])(
    "refuses a %i redirect to another port of the same host, absolute or protocol-relative",
    async (status) => {
      const other = await upstream();
      const first = await upstream((req, res) => {
        const where = req.url === "/relative" ? `//127.0.0.1:${other.port}/steal` : `${other.url}/steal`;
        res.writeHead(status, { location: where });
        res.end();
      });
      const c = client({
        name: "test",
        baseUrl: first.url,
        allowPrivateNetwork: true,
        headers: { authorization: "Bearer secret" },
      });
      for (const path of ["/absolute", "/relative"]) {
        const err = await failure(c.get(path));
        expect(err.code).toBe("upstream_error");
        expect(err.retryable).toBe(false);
        expect(err.message).toContain(
          `redirected to another port of '127.0.0.1' (${first.port} -> ${other.port})`,
        );
        expect(err.message).toContain("the redirect was not followed");
      }
      expect(first.seen).toHaveLength(2);
      expect(other.connections()).toBe(0);
    },
  );

  it("follows a same-origin absolute redirect, then refuses a POST's hop to another port", async () => {
    const other = await upstream();
    const first = await upstream((req, res) => {
      const location =
        req.url === "/start"
          ? `http://127.0.0.1:${first.port}/again`
          : `http://127.0.0.1:${other.port}/steal`;
      res.writeHead(307, { location });
      res.end();
    });
    const c = client({ name: "test", baseUrl: first.url, allowPrivateNetwork: true });
    const err = await failure(c.post("/start", { json: { a: 1 }, idempotent: true }));
    expect(err.message).toContain(
      `redirected to another port of '127.0.0.1' (${first.port} -> ${other.port})`,
    );
    expect(first.seen.map((s) => s.url)).toEqual(["/start", "/again"]);
    expect(other.connections()).toBe(0);
  });

  it("refuses a hop from an allowed host back to another port of the base host", async () => {
    const canary = await upstream();
    const middle = await upstream((_req, res) => {
      res.writeHead(302, { location: `${canary.url}/steal` });
      res.end();
    });
    const first = await upstream((_req, res) => {
      res.writeHead(302, { location: `http://localhost:${middle.port}/hop` });
      res.end();
    });
    const c = client({
      name: "test",
      baseUrl: first.url,
      allowHosts: ["127.0.0.1", "localhost"],
      allowPrivateNetwork: true,
    });
    const err = await failure(c.get("/start"));
    expect(err.message).toContain(
      `redirected to another port of '127.0.0.1' (${first.port} -> ${canary.port})`,
    );
    expect(middle.seen).toHaveLength(1);
    expect(canary.connections()).toBe(0);
  });

  it("stops after 5 redirects", async () => {
    const loop = await upstream((req, res) => {
      const n = Number(req.url!.slice(1));
      res.writeHead(302, { location: `/${n + 1}` });
      res.end();
    });
    const c = client({ name: "test", baseUrl: loop.url, allowPrivateNetwork: true });
    const err = await failure(c.get("/0"));
    expect(err.code).toBe("upstream_error");
    expect(err.message).toContain("more than 5 redirects");
    expect(loop.seen).toHaveLength(6);
  });
});

describe("host allow-list", () => {
  it("refuses an absolute URL whose host is not allowed, before sending anything", async () => {
    const u = await upstream();
    const c = client({ name: "test", baseUrl: u.url, allowPrivateNetwork: true });
    const err = await failure(c.get(`http://localhost:${u.port}/x`));
    expect(err.code).toBe("forbidden");
    expect(err.message).toContain("host 'localhost' is not in this client's allowed hosts (127.0.0.1)");
    expect(u.connections()).toBe(0);
    // The base host itself, by absolute URL, is fine.
    expect((await c.get(`${u.url}/y`)).status).toBe(200);
    expect(u.seen.map((s) => s.url)).toEqual(["/y"]);
  });

  it("requires a baseUrl or an allow-list", () => {
    expect(() => createHttpClient({ name: "x" })).toThrow("pass baseUrl or allowHosts");
  });
});

describe("private addresses", () => {
  it("refuses http://localhost:<port> when allowPrivateNetwork is false", async () => {
    const u = await upstream();
    const c = client({ name: "test", baseUrl: `http://localhost:${u.port}` });
    const err = await failure(c.get("/x"));
    expect(err.code).toBe("forbidden");
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(
      /refused to connect to 'localhost': it resolves to (127\.0\.0\.1|::1), a loopback address/,
    );
    expect(err.message).toContain("allowPrivateNetwork");
    expect(u.connections()).toBe(0);
  });

  it("refuses a public-looking name that resolves to 127.0.0.1 (DNS rebinding), before any connection", async () => {
    const u = await upstream();
    const c = client({
      name: "test",
      baseUrl: `http://rebind.example.test:${u.port}`,
      allowHosts: ["rebind.example.test"],
      lookup: fakeDns("rebind.example.test", "127.0.0.1"),
    });
    const err = await failure(c.get("/x"));
    expect(err.code).toBe("forbidden");
    expect(err.message).toContain("'rebind.example.test': it resolves to 127.0.0.1, a loopback address");
    expect(u.connections()).toBe(0);
  });

  it("reaches the same name when allowPrivateNetwork is true (the guard, not the resolver, refused it)", async () => {
    const u = await upstream((req, res) => json(res, 200, { host: req.headers.host }));
    const c = client({
      name: "test",
      baseUrl: `http://rebind.example.test:${u.port}`,
      allowPrivateNetwork: true,
      lookup: fakeDns("rebind.example.test", "127.0.0.1"),
    });
    expect((await c.get("/x")).data).toEqual({ host: `rebind.example.test:${u.port}` });
  });

  it.each(["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "127.1.2.3"])(
    "refuses the IP literal %s before connecting",
    async (host) => {
      const u = await upstream();
      const c = client({ name: "test", baseUrl: `http://${host}:${u.port}` });
      const err = await failure(c.get("/x"));
      expect(err.code).toBe("forbidden");
      expect(err.message).toContain("loopback");
      expect(u.connections()).toBe(0);
    },
  );
});
