import { describe, expect, it } from "vitest";
import { createMetrics } from "../src/index.js";

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
