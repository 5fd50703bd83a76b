import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createHttpClient, type HttpClient } from "../src/index.js";
import { json, startUpstream, type Upstream } from "./upstream.js";

const open: { upstreams: Upstream[]; clients: HttpClient[] } = { upstreams: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.upstreams.splice(0).map((u) => u.close()));
});

describe("ETag cache", () => {
  it("sends If-None-Match and turns a 304 into the cached data with fromCache: true", async () => {
    let version = 1;
    const upstream = await startUpstream((req, res) => {
      const etag = `"v${version}"`;
      if (req.headers["if-none-match"] === etag) {
        res.writeHead(304, { etag, "x-ratelimit-remaining": "41" });
        res.end();
        return;
      }
      json(res, 200, { version, items: [1, 2] }, { etag, "x-ratelimit-remaining": "42" });
    });
    open.upstreams.push(upstream);
    const client = createHttpClient({
      name: "t",
      baseUrl: upstream.url,
      allowPrivateNetwork: true,
      cache: true,
    });
    open.clients.push(client);
    const Doc = z.object({ version: z.number(), items: z.array(z.number()) });

    const first = await client.get("/doc", { expect: Doc });
    expect(first).toMatchObject({ status: 200, fromCache: false, data: { version: 1, items: [1, 2] } });
    first.data.items.push(99); // the caller's copy; the cache keeps the bytes

    const second = await client.get("/doc", { expect: Doc });
    expect(second.status).toBe(200);
    expect(second.fromCache).toBe(true);
    expect(second.data).toEqual({ version: 1, items: [1, 2] });
    expect(second.headers["x-ratelimit-remaining"]).toBe("41");
    expect(second.headers["content-type"]).toBe("application/json");

    version = 2;
    const third = await client.get("/doc");
    expect(third).toMatchObject({ fromCache: false, data: { version: 2 } });

    await client.get("/doc", { cache: false });
    expect(upstream.seen.map((s) => s.headers["if-none-match"])).toEqual([
      undefined,
      '"v1"',
      '"v1"',
      undefined,
    ]);
  });

  it("is off by default and never used for other methods", async () => {
    const upstream = await startUpstream((_req, res) => json(res, 200, { ok: true }, { etag: '"a"' }));
    open.upstreams.push(upstream);
    const plain = createHttpClient({ name: "t", baseUrl: upstream.url, allowPrivateNetwork: true });
    const cached = createHttpClient({
      name: "t",
      baseUrl: upstream.url,
      allowPrivateNetwork: true,
      cache: true,
    });
    open.clients.push(plain, cached);
    await plain.get("/x");
    await plain.get("/x");
    await cached.put("/x", { json: {} });
    await cached.put("/x", { json: {} });
    expect(upstream.seen.every((s) => s.headers["if-none-match"] === undefined)).toBe(true);
  });
});
