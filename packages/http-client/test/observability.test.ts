import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { createMetrics } from "@toolshed/metrics";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient, type HttpClient } from "../src/index.js";
import { delay, json, startUpstream, type Upstream } from "./upstream.js";

// This file registers the global OpenTelemetry tracer provider, propagator and context manager
// (vitest runs each test file in its own worker, so no other file sees them).
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

afterAll(async () => {
  trace.disable();
  propagation.disable();
  context.disable();
  await provider.shutdown();
});

const open: { upstreams: Upstream[]; clients: HttpClient[] } = { upstreams: [], clients: [] };

afterEach(async () => {
  exporter.reset();
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
  await Promise.all(open.upstreams.splice(0).map((u) => u.close()));
});

describe("metrics", () => {
  it("observes every attempt by upstream, method and status, never by path", async () => {
    const upstream = await startUpstream(async (req, res, _seen, index) => {
      if (req.url === "/slow") {
        await delay(2_500);
        if (!res.destroyed) json(res, 200, {});
      } else if (req.url === "/retry" && index === 1) {
        json(res, 503, {});
      } else if (req.url === "/gone") {
        req.socket.destroy();
      } else json(res, 200, { ok: true });
    });
    open.upstreams.push(upstream);
    const metrics = createMetrics({ defaultMetrics: false });
    const client = createHttpClient({
      name: "github",
      baseUrl: upstream.url,
      allowPrivateNetwork: true,
      metrics,
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 5 },
      timeouts: { headersMs: 100 },
    });
    open.clients.push(client);

    await client.get("/repos/secret-repo-name");
    await client.get("/retry"); // 503, then 200
    await client.post("/items", { json: {} });
    await expect(client.get("/slow", { retry: false })).rejects.toMatchObject({ code: "timeout" });
    await expect(client.get("/gone", { retry: false })).rejects.toMatchObject({
      code: "upstream_unavailable",
    });

    const text = await metrics.render();
    const count = (method: string, status: string) =>
      Number(
        new RegExp(
          `toolshed_upstream_request_duration_seconds_count\\{upstream="github",method="${method}",status="${status}"\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      );
    expect(count("GET", "200")).toBe(2);
    expect(count("GET", "503")).toBe(1);
    expect(count("POST", "200")).toBe(1);
    expect(count("GET", "timeout")).toBe(1);
    expect(count("GET", "error")).toBe(1);
    expect(text).not.toContain("secret-repo-name");
    expect(text).not.toContain("/retry");
  });
});

describe("tracing", () => {
  it("makes a CLIENT span per attempt under the caller's span and sends its traceparent upstream", async () => {
    const upstream = await startUpstream((_req, res, _seen, index) =>
      index === 0 ? json(res, 503, {}) : json(res, 200, { ok: true }),
    );
    open.upstreams.push(upstream);
    const client = createHttpClient({
      name: "test",
      baseUrl: upstream.url,
      allowPrivateNetwork: true,
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 5 },
    });
    open.clients.push(client);

    const parent = trace.getTracer("test").startSpan("tools/call demo");
    await context.with(trace.setSpan(context.active(), parent), () =>
      client.get("/items", { query: { page: 2, access_token: "query-secret" } }),
    );
    parent.end();

    const spans = exporter
      .getFinishedSpans()
      .filter((s) => (s.kind as number) === (SpanKind.CLIENT as number));
    expect(spans).toHaveLength(2);
    const [first, second] = spans as [(typeof spans)[0], (typeof spans)[0]];
    for (const span of spans) {
      expect(span.name).toBe("HTTP GET");
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(span.attributes).toMatchObject({
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": upstream.port,
        "url.full": `${upstream.url}/items?page=2&access_token=REDACTED`,
      });
    }
    expect(first.attributes["http.response.status_code"]).toBe(503);
    expect(first.attributes["error.type"]).toBe("503");
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(first.attributes["http.request.resend_count"]).toBeUndefined();
    expect(second.attributes["http.response.status_code"]).toBe(200);
    expect(second.attributes["http.request.resend_count"]).toBe(1);
    expect(second.attributes["error.type"]).toBeUndefined();

    // Each attempt carried its own span's context to the upstream.
    expect(upstream.seen.map((s) => s.headers.traceparent)).toEqual(
      spans.map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`),
    );
  });

  it("marks a failed request with error.type", async () => {
    const upstream = await startUpstream((req) => {
      req.socket.destroy();
    });
    open.upstreams.push(upstream);
    const client = createHttpClient({
      name: "test",
      baseUrl: upstream.url,
      allowPrivateNetwork: true,
      retry: false,
    });
    open.clients.push(client);
    await expect(client.get("/x")).rejects.toMatchObject({ code: "upstream_unavailable" });
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes["error.type"]).toBe("connection_error");
    expect(span?.attributes["http.response.status_code"]).toBeUndefined();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });
});
