import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createLogger } from "@toolshed/logging";
import { defineServer, defineTool, ToolshedError, z } from "@toolshed/server";
import { traceLogFields } from "@toolshed/server/internal";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestClient, spawnStdioServer, type TestClient } from "../src/index.js";

const exporter = new InMemorySpanExporter();
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const logLines: Record<string, unknown>[] = [];

const traced = defineTool({
  name: "traced",
  title: "Traced work",
  description: "Does a unit of work inside its own child span and logs one line.",
  input: z.object({ fail: z.boolean().default(false).describe("Fail with not_found instead.") }),
  output: z.object({ ok: z.boolean() }),
  annotations: hints,
  handler: async ({ fail }, ctx) => {
    await Promise.resolve();
    trace.getTracer("test").startActiveSpan("child work", (span) => {
      ctx.log.warn("inside the call");
      span.end();
    });
    if (fail) throw new ToolshedError("not_found", "no such thing; list things first");
    return { ok: true };
  },
});

const server = defineServer({ name: "trace-test", version: "1.0.0", tools: [traced] });

describe("spans per MCP request", () => {
  let t: TestClient;
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) logLines.push(JSON.parse(line));
        cb();
      },
    });
    t = await createTestClient(server, {
      logger: createLogger({ name: "trace-test", level: "info", destination, mixin: traceLogFields }),
    });
  });
  afterAll(async () => {
    await t.close();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  it("names the span after the tool, parents it on _meta.traceparent, and parents outbound work on it", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentSpanId = "00f067aa0ba902b7";
    await t.client.callTool({
      name: "traced",
      arguments: {},
      _meta: { traceparent: `00-${traceId}-${parentSpanId}-01` },
    });
    const spans = exporter.getFinishedSpans();
    const serverSpan = spans.find((s) => s.name === "tools/call traced")!;
    const child = spans.find((s) => s.name === "child work")!;
    expect(serverSpan.kind).toBe(SpanKind.SERVER);
    expect(serverSpan.spanContext().traceId).toBe(traceId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(parentSpanId);
    expect(serverSpan.attributes).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "traced",
      "gen_ai.operation.name": "execute_tool",
      "network.transport": "inproc",
    });
    expect(serverSpan.attributes["jsonrpc.request.id"]).toMatch(/^\d+$/);
    expect(serverSpan.attributes["error.type"]).toBeUndefined();
    expect(child.spanContext().traceId).toBe(traceId);
    expect(child.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
  });

  it("puts the trace and span ids on log lines written during the call", async () => {
    logLines.length = 0;
    await t.client.callTool({ name: "traced", arguments: {} });
    const child = exporter.getFinishedSpans().find((s) => s.name === "child work")!;
    const line = logLines.find((l) => l.msg === "inside the call")!;
    expect(line.trace_id).toBe(child.spanContext().traceId);
    expect(line.span_id).toBe(child.spanContext().spanId);
  });

  it("marks failed tool calls and protocol errors with error.type", async () => {
    await t.client.callTool({ name: "traced", arguments: { fail: true } });
    await t.client.callTool({ name: "nope", arguments: {} }).catch(() => undefined);
    const spans = exporter.getFinishedSpans();
    const failed = spans.find((s) => s.name === "tools/call traced")!;
    expect(failed.attributes).toMatchObject({
      "error.type": "tool_error",
      "toolshed.error.code": "not_found",
    });
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    // A tool name the server does not have stays out of the span name (one name per made-up tool
    // would flood the tracing backend) but is kept as an attribute.
    expect(spans.map((s) => s.name)).not.toContain("tools/call nope");
    const unknown = spans.find((s) => s.attributes["gen_ai.tool.name"] === "nope")!;
    expect(unknown.name).toBe("tools/call");
    expect(unknown.attributes).toMatchObject({
      "error.type": "-32602",
      "rpc.response.status_code": "-32602",
    });
    expect(unknown.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("traces non-tool methods under their method name", async () => {
    await t.client.listTools();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toContain("tools/list");
  });
});

describe("OTLP export from a server binary", () => {
  it("exports spans to OTEL_EXPORTER_OTLP_ENDPOINT and flushes them on shutdown", async () => {
    const bodies: string[] = [];
    const collector = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (d: string) => (body += d));
      req.on("end", () => {
        if (req.url === "/v1/traces") bodies.push(body);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const { port } = collector.address() as AddressInfo;
    try {
      const bin = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));
      const server = await spawnStdioServer(process.execPath, [bin], {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        },
      });
      await server.client.callTool({ name: "echo", arguments: { message: "traced" } });
      expect(await server.close()).toBe(0);
      const all = bodies.join("\n");
      expect(all).toContain("tools/call echo");
      expect(all).toContain("toolshed-everything");
      expect(server.stderr()).toContain("exporting traces over OTLP/HTTP");
    } finally {
      collector.close();
    }
  });
});
