import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createMetrics, DEFAULT_METRICS_DELAY_MS } from "../src/index.js";

describe("createMetrics", () => {
  it("exposes the standard MCP series after operations", async () => {
    const m = createMetrics({ defaultLabels: { server: "t" } });
    m.observeOperation("tools/call", "query", "ok", 0.015);
    m.observeOperation("tools/call", "query", "error", 0.2, {
      errorClass: "invalid_input",
      protocolVersion: "2026-07-28",
    });
    m.observeOperation("resources/read", "", "ok", 0.001);
    m.sessionsActive.inc();
    const text = await m.render();
    expect(text).toContain(
      'mcp_tool_calls_total{tool="query",outcome="ok",error_class="",mcp_protocol_version="",server="t"} 1',
    );
    expect(text).toContain(
      'mcp_tool_calls_total{tool="query",outcome="error",error_class="invalid_input",mcp_protocol_version="2026-07-28",server="t"} 1',
    );
    expect(text).toMatch(
      /mcp_server_operation_duration_seconds_bucket\{le="0.02",server="t",method="tools\/call",tool="query",outcome="ok",error_class="",mcp_protocol_version=""\} 1/,
    );
    expect(text).toContain(
      'mcp_server_operation_duration_seconds_count{server="t",method="resources/read",tool="",outcome="ok",error_class="",mcp_protocol_version=""} 1',
    );
    expect(text).toContain('mcp_sessions_active{server="t"} 1');
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(m.contentType).toMatch(/^text\/plain/);
  });

  it("counts HTTP refusals by status and route", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.countRefusal(429, "mcp");
    m.countRefusal(429, "mcp");
    m.countRefusal(401, "metrics");
    const text = await m.render();
    expect(text).toContain('toolshed_http_refusals_total{status="429",route="mcp"} 2');
    expect(text).toContain('toolshed_http_refusals_total{status="401",route="metrics"} 1');
  });

  it("keeps servers in one process apart", async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.observeOperation("tools/call", "x", "ok", 0.1);
    expect(await b.render()).not.toContain('tool="x"');
  });

  it("reports readiness at scrape time through toolshed_ready", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let ok = true;
    m.setReadinessCheck(() => Promise.resolve(ok));
    expect(await m.render()).toMatch(/^toolshed_ready 1$/m);
    ok = false;
    expect(await m.render()).toMatch(/^toolshed_ready 0$/m);
    m.setReadinessCheck(() => Promise.reject(new Error("store down")));
    expect(await m.render()).toMatch(/^toolshed_ready 0$/m);
  });
});

describe("what loading the metrics costs a cold start", () => {
  it("loads neither prom-client's index nor @opentelemetry/api until the process metrics are registered", () => {
    // A fresh process: vitest's own has prom-client loaded by other test files.
    const script = `
      import { createRequire } from "node:module";
      const { createMetrics } = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache);
      const m = createMetrics();
      const before = loaded();
      const text = await m.render();
      const after = loaded();
      console.log(JSON.stringify({
        index: before.some((f) => /prom-client[\\\\/]index\\.js$/.test(f)),
        otelBefore: before.some((f) => f.includes("@opentelemetry")),
        defaultsBefore: before.some((f) => /prom-client[\\\\/]lib[\\\\/]defaultMetrics\\.js$/.test(f)),
        otelAfter: after.some((f) => f.includes("@opentelemetry")),
        cpu: text.includes("process_cpu_user_seconds_total"),
      }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({
      index: false,
      otelBefore: false,
      defaultsBefore: false,
      // The first scrape registers them (prom-client's CPU collector loads the OpenTelemetry API).
      otelAfter: true,
      cpu: true,
    });
  });

  it(`registers the process metrics ${DEFAULT_METRICS_DELAY_MS} ms after start without a scrape`, async () => {
    const m = createMetrics();
    expect(m.registry.getSingleMetric("process_cpu_user_seconds_total")).toBeUndefined();
    await sleep(DEFAULT_METRICS_DELAY_MS + 200);
    expect(m.registry.getSingleMetric("process_cpu_user_seconds_total")).toBeDefined();
    // Registered once: a scrape after does not register them again (prom-client would throw).
    expect(await m.render()).toContain("process_cpu_user_seconds_total");
  });
});
