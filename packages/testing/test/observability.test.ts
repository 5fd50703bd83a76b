import { randomUUID } from "node:crypto";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { createLogger } from "@toolshed/logging";
import { authFromSettings, defineServer, defineTool, ToolshedError, z } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODERN_PROTOCOL_VERSION, startTestHttpServer, type TestHttpServer } from "../src/index.js";
import { INITIALIZE, MCP_HEADERS } from "./sse.js";

// What an SRE alerts on, read the way Prometheus and a tracing backend read it: /metrics over real
// HTTP on loopback, and the spans the kit hands to the registered OpenTelemetry provider.
const exporter = new InMemorySpanExporter();
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const FAILURES = ["none", "not_found", "forbidden", "rate_limited", "upstream_error", "crash"] as const;

const work = defineTool({
  name: "work",
  title: "Work or fail on purpose",
  description: "Answers ok, or fails with the Toolshed error code it is asked for.",
  input: z.object({ fail: z.enum(FAILURES).default("none").describe("The failure to produce.") }),
  output: z.object({ ok: z.boolean() }),
  annotations: hints,
  handler: ({ fail }) => {
    if (fail === "crash") throw new Error("a bug with /internal/paths in it");
    if (fail !== "none") throw new ToolshedError(fail, `failed with ${fail} on purpose`);
    return { ok: true };
  },
});
const server = defineServer({ name: "obs-test", version: "1.0.0", tools: [work] });

/** The value of the one series of `name` whose labels include all of `labels`, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf("}"));
    const has = Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`));
    if (has) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

async function metricsOf(srv: TestHttpServer, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(srv.url.replace(/\/mcp$/, "/metrics"), { headers });
  expect(res.status).toBe(200);
  return res.text();
}

describe("error classes, protocol versions and span attributes over real HTTP", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
    srv = await startTestHttpServer(server, { maxBodyBytes: 4096 });
  });
  afterAll(async () => {
    await srv.close(1_000);
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it("labels failed tool calls with the error class, on both protocol eras", async () => {
    const legacy = await srv.connect();
    const modern = await srv.connect({}, undefined, "modern");
    try {
      for (const client of [legacy, modern]) {
        for (const fail of FAILURES) await client.callTool({ name: "work", arguments: { fail } });
        // Bad input: a value outside the enum.
        await client.callTool({ name: "work", arguments: { fail: "explode" } });
      }
      const legacyVersion = legacy.getNegotiatedProtocolVersion()!;
      const text = await metricsOf(srv);
      for (const version of [legacyVersion, MODERN_PROTOCOL_VERSION]) {
        const at = { tool: "work", mcp_protocol_version: version };
        expect(sample(text, "mcp_tool_calls_total", { ...at, outcome: "ok", error_class: "" })).toBe(1);
        for (const code of ["not_found", "forbidden", "rate_limited", "upstream_error", "invalid_input"]) {
          expect(
            sample(text, "mcp_tool_calls_total", { ...at, outcome: "error", error_class: code }),
            `${code} on ${version}`,
          ).toBe(1);
        }
        // A handler's crash is the server's fault, told apart from all of the above.
        expect(
          sample(text, "mcp_tool_calls_total", { ...at, outcome: "error", error_class: "internal" }),
        ).toBe(1);
        expect(
          sample(text, "mcp_server_operation_duration_seconds_count", {
            method: "tools/call",
            ...at,
            error_class: "internal",
          }),
        ).toBe(1);
      }
      expect(legacyVersion).not.toBe(MODERN_PROTOCOL_VERSION);
    } finally {
      await legacy.close();
      await modern.close();
    }
  });

  it("puts mcp.protocol.version and the MCP attributes on every span of both eras", async () => {
    exporter.reset();
    const legacy = await srv.connect();
    const modern = await srv.connect({}, undefined, "modern");
    try {
      await legacy.callTool({ name: "work", arguments: {} });
      await modern.callTool({ name: "work", arguments: {} });
      await legacy.callTool({ name: "made_up_tool", arguments: {} }).catch(() => undefined);
      await modern.callTool({ name: "another_made_up", arguments: {} }).catch(() => undefined);
    } finally {
      await legacy.close();
      await modern.close();
    }
    const spans = exporter.getFinishedSpans();
    const calls = spans.filter((s) => s.attributes["mcp.method.name"] === "tools/call");
    expect(calls).toHaveLength(4);
    const versions = new Set(calls.map((s) => s.attributes["mcp.protocol.version"]));
    expect(versions).toContain(MODERN_PROTOCOL_VERSION);
    expect(versions.size).toBe(2);
    for (const span of calls) {
      expect(span.attributes).toMatchObject({
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "gen_ai.operation.name": "execute_tool",
      });
    }
    // Every request of the 2025 session, not only initialize, carries the negotiated version.
    const list = spans.filter((s) => s.name !== "initialize" && s.attributes["mcp.session.id"]);
    expect(list.length).toBeGreaterThan(0);
    for (const span of list) expect(span.attributes["mcp.protocol.version"]).toBeTruthy();
    // Made-up tool names never become span names; the JSON-RPC error code is recorded.
    expect(spans.map((s) => s.name).filter((n) => n.includes("made_up"))).toEqual([]);
    const unknown = calls.filter((s) => s.name === "tools/call");
    expect(unknown).toHaveLength(2);
    for (const span of unknown) expect(span.attributes["rpc.response.status_code"]).toMatch(/^-32\d{3}$/);
  });

  it("counts refusals by status: 404 unknown session, 413 body too large, 403 foreign Origin, 404 route", async () => {
    const before = await metricsOf(srv);
    const count = (text: string, status: string, route = "mcp") =>
      sample(text, "toolshed_http_refusals_total", { status, route });
    const gone = await fetch(srv.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": randomUUID(), "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(gone.status).toBe(404);
    const big = await fetch(srv.url, {
      method: "POST",
      headers: MCP_HEADERS,
      body: JSON.stringify({ ...INITIALIZE, padding: "x".repeat(10_000) }),
    });
    expect(big.status).toBe(413);
    const rebinding = await fetch(srv.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, origin: "http://evil.example" },
      body: JSON.stringify(INITIALIZE),
    });
    expect(rebinding.status).toBe(403);
    expect((await fetch(srv.url.replace(/\/mcp$/, "/nope"))).status).toBe(404);
    expect((await fetch(srv.url.replace(/\/mcp$/, "/readyz"))).status).toBe(200);
    const after = await metricsOf(srv);
    expect(count(after, "404") - count(before, "404")).toBe(1);
    expect(count(after, "413") - count(before, "413")).toBe(1);
    expect(count(after, "403") - count(before, "403")).toBe(1);
    expect(count(after, "404", "other") - count(before, "404", "other")).toBe(1);
    // The path a scanner sends is not a label.
    expect(after).not.toContain("/nope");
    // Readiness, as /readyz answers it, is a series to alert on.
    expect(after).toMatch(/^toolshed_ready\{server="obs-test"\} 1$/m);
  });
});

describe("refusals of an authenticated server", () => {
  const key = generateApiKey();
  let srv: TestHttpServer;
  beforeAll(async () => {
    const auth = authFromSettings(
      {
        serverName: `obs-${randomUUID()}`,
        apiKeys: `ops:${hashApiKey(key)}:*`,
        rateLimit: "2,0.001",
        authFailureLimit: "off",
      },
      "http://127.0.0.1/mcp",
      createLogger({ name: "obs", level: "silent" }),
    )!;
    srv = await startTestHttpServer(server, { auth });
  });
  afterAll(async () => srv.close(1_000));

  it("counts 401 without a credential and 429 past the rate limit", async () => {
    const auth = { "x-api-key": key };
    const post = (headers: Record<string, string>) =>
      fetch(srv.url, {
        method: "POST",
        headers: { ...MCP_HEADERS, ...headers },
        body: JSON.stringify(INITIALIZE),
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ "x-api-key": "wrong" })).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(auth)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    const text = await metricsOf(srv, auth);
    expect(sample(text, "toolshed_http_refusals_total", { status: "401", route: "mcp" })).toBe(2);
    expect(sample(text, "toolshed_http_refusals_total", { status: "429", route: "mcp" })).toBe(
      statuses.filter((s) => s === 429).length,
    );
  });
});

describe("refusals of a server at its session cap", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(server, { maxSessions: 1 });
  });
  afterAll(async () => srv.close(1_000));

  it("counts 503 when the sessions are all taken", async () => {
    const open = async () => {
      const res = await fetch(srv.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      await res.text();
      return res.status;
    };
    expect(await open()).toBe(200);
    expect(await open()).toBe(503);
    const text = await metricsOf(srv);
    expect(sample(text, "toolshed_http_refusals_total", { status: "503", route: "mcp" })).toBe(1);
  });
});
