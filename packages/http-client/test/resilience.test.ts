import { ToolshedError } from "@toolshed/errors";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpClient, type HttpClient, type HttpClientOptions } from "../src/index.js";
import { delay, json, startUpstream, type Handler, type Upstream, failure } from "./upstream.js";

// Every upstream here is a real node:http server on 127.0.0.1 that misbehaves on purpose; the
// attempt counts are what the server saw.
const open: { upstreams: Upstream[]; clients: HttpClient[] } = { upstreams: [], clients: [] };

afterEach(async () => {
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.upstreams.splice(0).map((u) => u.close()));
});

async function setup(handler: Handler, options: Partial<HttpClientOptions> = {}) {
  const upstream = await startUpstream(handler);
  open.upstreams.push(upstream);
  const client = createHttpClient({
    name: "test",
    baseUrl: upstream.url,
    allowPrivateNetwork: true,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
    ...options,
  });
  open.clients.push(client);
  return { upstream, client };
}

describe("timeouts", () => {
  it("fails with `timeout` when headers are slow (headersMs), after retrying", async () => {
    const { upstream, client } = await setup(
      async (_req, res) => {
        await delay(2_500);
        if (!res.destroyed) json(res, 200, { late: true });
      },
      { timeouts: { headersMs: 150 }, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 5 } },
    );
    const started = Date.now();
    const err = await failure(client.get("/slow"));
    expect(err.code).toBe("timeout");
    expect(err.message).toContain("headersMs");
    expect(err.message).toContain("after 2 attempts");
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ attempts: 2, upstream: "test", method: "GET", url: "/slow" });
    expect(upstream.seen).toHaveLength(2);
    // undici's headers and body timers tick at about 1 s, so 150 ms fires within a second or so.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("fails with `timeout` when the whole call passes timeoutMs", async () => {
    const { upstream, client } = await setup(async (_req, res) => {
      await delay(1_500);
      if (!res.destroyed) json(res, 200, {});
    });
    const started = Date.now();
    const err = await failure(client.get("/slow", { timeoutMs: 200 }));
    expect(err.code).toBe("timeout");
    expect(err.message).toContain("within 200 ms");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(upstream.seen).toHaveLength(1);
  });
});

describe("retries", () => {
  it("retries a reset connection, then reports `upstream_unavailable`", async () => {
    const { upstream, client } = await setup((req) => {
      req.socket.destroy();
    });
    const err = await failure(client.get("/reset"));
    expect(err.code).toBe("upstream_unavailable");
    expect(err.message).toContain("connection was closed");
    expect(err.details).toMatchObject({ attempts: 3 });
    expect(upstream.seen).toHaveLength(3);
  });

  it("recovers when a retry succeeds", async () => {
    const { upstream, client } = await setup((req, res, _seen, index) => {
      if (index === 0) req.socket.destroy();
      else json(res, 200, { ok: true });
    });
    const res = await client.get("/flaky");
    expect(res.data).toEqual({ ok: true });
    expect(upstream.seen).toHaveLength(2);
  });

  it("waits for Retry-After on a 503, then retries", async () => {
    const { upstream, client } = await setup((_req, res, _seen, index) => {
      if (index === 0) json(res, 503, { message: "busy" }, { "retry-after": "1" });
      else json(res, 200, { ok: true });
    });
    const started = Date.now();
    const res = await client.get("/busy");
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3_000);
  });

  it("fails at once with `rate_limited` when Retry-After is past maxRetryAfterMs", async () => {
    const { upstream, client } = await setup(
      (_req, res) => json(res, 429, { message: "slow down" }, { "retry-after": "120" }),
      { retry: { attempts: 3, maxRetryAfterMs: 5_000 } },
    );
    const started = Date.now();
    const err = await failure(client.get("/limited"));
    expect(Date.now() - started).toBeLessThan(500);
    expect(err.code).toBe("rate_limited");
    expect(err.retryAfterMs).toBe(120_000);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("retry in 120 s");
    expect(err.message).toContain('the upstream said: "slow down"');
    expect(upstream.seen).toHaveLength(1);
  });

  it("maps GitHub's exhausted rate limit (403, x-ratelimit-remaining: 0) to `rate_limited` with its reset time", async () => {
    const reset = Math.floor(Date.now() / 1000) + 600;
    const { upstream, client } = await setup((_req, res) =>
      json(
        res,
        403,
        { message: "API rate limit exceeded" },
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      ),
    );
    const err = await failure(client.get("/repos/a/b"));
    expect(err.code).toBe("rate_limited");
    expect(err.retryAfterMs).toBeGreaterThan(590_000);
    expect(err.details?.resetAt).toBe(new Date(reset * 1000).toISOString());
    expect(upstream.seen).toHaveLength(1);
  });

  it("reads x-ratelimit-reset as a wait only on a rate limit, not on a 502 or a plain 403", async () => {
    // GitHub sends its quota headers on every answer: an hour to the reset is no retry time for a 502.
    const quota = {
      "x-ratelimit-remaining": "4990",
      "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
    };
    const { upstream, client } = await setup((req, res) =>
      req.url === "/bad-gateway"
        ? json(res, 502, { message: "Server Error" }, quota)
        : json(res, 403, { message: "Resource not accessible by integration" }, quota),
    );
    const gateway = await failure(client.post("/bad-gateway", { json: {} }));
    expect(gateway.code).toBe("upstream_unavailable");
    expect(gateway.retryAfterMs).toBeUndefined();
    expect(gateway.details?.resetAt).toBeUndefined();
    const forbidden = await failure(client.get("/forbidden"));
    expect(forbidden.code).toBe("forbidden");
    expect(forbidden.retryAfterMs).toBeUndefined();
    expect(upstream.seen).toHaveLength(2);
  });

  it("still takes Retry-After as the wait on a 503", async () => {
    const { client } = await setup((_req, res) => json(res, 503, {}, { "retry-after": "7" }));
    const err = await failure(client.post("/items", { json: {} }));
    expect(err.retryAfterMs).toBe(7_000);
  });

  it("does not retry a POST on 503, but does when the caller marks it idempotent", async () => {
    const { upstream, client } = await setup((_req, res) => json(res, 503, {}));
    const err = await failure(client.post("/items", { json: { a: 1 } }));
    expect(err.code).toBe("upstream_unavailable");
    expect(upstream.seen).toHaveLength(1);
    await failure(client.post("/items", { json: { a: 1 }, idempotent: true }));
    expect(upstream.seen).toHaveLength(4);
  });

  it("never retries other 4xx, and keeps their meaning", async () => {
    const statuses = [400, 401, 403, 404, 409, 422];
    const { upstream, client } = await setup((req, res) =>
      json(res, Number(req.url!.slice(1)), { message: "Validation Failed" }),
    );
    const codes: string[] = [];
    for (const status of statuses) codes.push((await failure(client.get(`/${status}`))).code);
    expect(codes).toEqual([
      "invalid_input",
      "unauthenticated",
      "forbidden",
      "not_found",
      "conflict",
      "invalid_input",
    ]);
    expect(upstream.seen).toHaveLength(statuses.length);
  });

  it("can be turned off per request with retry: false", async () => {
    const { upstream, client } = await setup((_req, res) => json(res, 502, {}));
    await failure(client.get("/x", { retry: false }));
    expect(upstream.seen).toHaveLength(1);
  });
});

describe("circuit breaker", () => {
  it("opens after N consecutive failures, fails fast, then recovers after the cooldown", async () => {
    let healthy = false;
    const { upstream, client } = await setup(
      (_req, res) => (healthy ? json(res, 200, { ok: true }) : json(res, 500, { message: "boom" })),
      { retry: false, breaker: { failureThreshold: 3, cooldownMs: 300 } },
    );
    for (let i = 0; i < 3; i++) expect((await failure(client.get("/x"))).code).toBe("upstream_error");
    expect(upstream.seen).toHaveLength(3);
    expect(Object.values(client.stats().breakers)).toEqual(["open"]);

    const fast = await failure(client.get("/x"));
    expect(fast.code).toBe("upstream_unavailable");
    expect(fast.message).toContain("circuit breaker open after 3 consecutive failures");
    expect(fast.retryAfterMs).toBeGreaterThan(0);
    expect(fast.retryAfterMs).toBeLessThanOrEqual(300);
    expect(upstream.seen).toHaveLength(3); // not sent

    await delay(350);
    // The half-open trial fails: open again for another cooldown, still without more traffic.
    expect((await failure(client.get("/x"))).code).toBe("upstream_error");
    expect(upstream.seen).toHaveLength(4);
    expect((await failure(client.get("/x"))).message).toContain("circuit breaker");
    expect(upstream.seen).toHaveLength(4);

    healthy = true;
    await delay(350);
    expect((await client.get("/x")).data).toEqual({ ok: true });
    expect(Object.values(client.stats().breakers)).toEqual(["closed"]);
    await client.get("/x");
    expect(upstream.seen).toHaveLength(6);
  });

  it("does not count 4xx answers as failures", async () => {
    const { upstream, client } = await setup((_req, res) => json(res, 404, {}), {
      retry: false,
      breaker: { failureThreshold: 2, cooldownMs: 10_000 },
    });
    for (let i = 0; i < 4; i++) expect((await failure(client.get("/missing"))).code).toBe("not_found");
    expect(upstream.seen).toHaveLength(4);
  });
});

describe("concurrency limit", () => {
  it("never has more than `concurrency` requests in flight at the server", async () => {
    const { upstream, client } = await setup(
      async (_req, res) => {
        await delay(60);
        json(res, 200, { ok: true });
      },
      { concurrency: 2 },
    );
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client.get(`/n/${i}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(upstream.seen).toHaveLength(8);
    expect(upstream.inFlight.max).toBe(2);
    expect(client.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it("lets a queued request be cancelled without ever sending it", async () => {
    const { upstream, client } = await setup(
      async (_req, res) => {
        await delay(300);
        json(res, 200, {});
      },
      { concurrency: 1 },
    );
    const first = client.get("/first");
    const controller = new AbortController();
    const second = failure(client.get("/second", { signal: controller.signal }));
    await delay(50);
    expect(client.stats().queued).toBe(1);
    controller.abort();
    const err = await second;
    expect(err.code).toBe("timeout");
    expect(err.details).toMatchObject({ cancelled: true });
    await first;
    expect(upstream.seen.map((s) => s.url)).toEqual(["/first"]);
  });
});

describe("cancellation", () => {
  it("aborts an in-flight request when the caller's signal aborts", async () => {
    const { upstream, client } = await setup(async (_req, res) => {
      await delay(5_000);
      if (!res.destroyed) json(res, 200, {});
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await failure(client.get("/hang", { signal: controller.signal }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.code).toBe("timeout");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("cancelled by the caller");
    expect(upstream.seen).toHaveLength(1);
  });

  it("aborts a backoff wait, and passes a ToolshedError reason through as is", async () => {
    const { upstream, client } = await setup((_req, res) => json(res, 503, {}, { "retry-after": "5" }));
    const controller = new AbortController();
    const reason = new ToolshedError("timeout", "tool call timed out after 200 ms");
    setTimeout(() => controller.abort(reason), 200);
    const started = Date.now();
    const err = await failure(client.get("/busy", { signal: controller.signal }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err).toBe(reason);
    expect(upstream.seen).toHaveLength(1);
  });

  it("refuses at once when the signal is already aborted", async () => {
    const { upstream, client } = await setup((_req, res) => json(res, 200, {}));
    const err = await failure(client.get("/x", { signal: AbortSignal.abort() }));
    expect(err.code).toBe("timeout");
    expect(upstream.seen).toHaveLength(0);
  });
});

describe("response size cap", () => {
  it("cuts an endless body off at maxResponseBytes with a clear `upstream_error`", async () => {
    let serverSawClose = false;
    const { upstream, client } = await setup(
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(16 * 1024, "a");
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once("drain", pump);
        };
        res.once("close", () => (serverSawClose = true));
        pump();
      },
      { maxResponseBytes: 64 * 1024 },
    );
    const started = Date.now();
    const err = await failure(client.get("/endless"));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.code).toBe("upstream_error");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("larger than the 64 KiB cap (maxResponseBytes)");
    expect(upstream.seen).toHaveLength(1);
    await delay(50);
    expect(serverSawClose).toBe(true);
  });

  it("reads a body up to the cap", async () => {
    const { client } = await setup((_req, res) => json(res, 200, { text: "x".repeat(1000) }), {
      maxResponseBytes: 2_000,
    });
    expect(((await client.get("/ok")).data as { text: string }).text).toHaveLength(1000);
  });
});

describe("streaming to a sink", () => {
  it("streams a 2xx body chunk by chunk, starts over on a retried attempt, and honours a per-call cap", async () => {
    const big = Buffer.alloc(300 * 1024, "b");
    const { upstream, client } = await setup(
      (_req, res, _seen, index) => {
        if (index === 0) {
          // The first attempt dies mid-body: the sink must start over, not append.
          res.writeHead(200, { "content-type": "text/csv", "content-length": String(big.length) });
          res.write(big.subarray(0, 1000));
          setTimeout(() => res.destroy(), 20);
          return;
        }
        res.writeHead(200, { "content-type": "text/csv", "content-length": String(big.length) });
        res.end(big);
      },
      { maxResponseBytes: 64 * 1024 },
    );
    const starts: number[] = [];
    let received: Buffer[] = [];
    const r = await client.get("/data.csv", {
      maxResponseBytes: 1024 * 1024,
      sink: {
        start: (status, headers) => {
          starts.push(status);
          expect(headers["content-length"]).toBe(String(big.length));
          received = [];
        },
        write: (chunk) => received.push(Buffer.from(chunk)),
      },
    });
    expect(r.status).toBe(200);
    expect(r.data).toBeUndefined();
    expect(starts).toEqual([200, 200]);
    expect(Buffer.concat(received).equals(big)).toBe(true);
    expect(upstream.seen).toHaveLength(2);

    // Without the per-call cap the client's 64 KiB cap applies, sink or not.
    const err = await failure(
      client.get("/data.csv", { sink: { start: () => undefined, write: () => undefined } }),
    );
    expect(err.message).toContain("cap (maxResponseBytes)");
  });

  it("aborts the exchange with the sink's error when a write throws", async () => {
    const { client } = await setup((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("x".repeat(10_000));
    });
    const err = await failure(
      client.get("/x", {
        retry: false,
        sink: {
          start: () => undefined,
          write: () => {
            throw new Error("disk full");
          },
        },
      }),
    );
    expect(err).toBeInstanceOf(ToolshedError);
    expect(err.message).toMatch(/disk full/);
  });
});
