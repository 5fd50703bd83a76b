// The lean path of a plain 2026-07-28 tools/call (the kit's `fastCall`, the client's
// `callToolDirect`): it must answer every call exactly as the usual path does. Each call is sent
// twice as raw HTTP: plain (the lean path) and with a W3C traceparent in `_meta` (which sends it the
// usual way; no tracing is set up, so that changes nothing else), and the two answers compared.
import everything from "@toolshed/fixture-everything";
import { startHttpServer } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import gatewayServer, { type GatewayDeps } from "../src/server.js";
import { gatewayAuth, startGateway, type TestGateway } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const KEYS = {
  alice: { key: "tsk_alice_fast_path_3b9e", scopes: "fx:use" },
  bob: { key: "tsk_bob_fast_path_51c2", scopes: "" },
};

let fixture: { url: string; close(): Promise<void> };
let gw: TestGateway;
let deps: GatewayDeps;

beforeAll(async () => {
  fixture = await startHttpServer(everything, {}, { logLevel: "silent" });
  gw = await startGateway(
    `upstreams:
  fx:
    url: ${fixture.url}
    scopes: [fx:use]
  cached:
    url: ${fixture.url}
    cache: { ttlSeconds: 60 }
  legacy:
    url: ${fixture.url}
    protocol: "2025"
`,
    { http: { auth: gatewayAuth(KEYS) }, largeResultBytes: 64 },
  );
  deps = await gw.deps();
  expect(deps.gateway.down()).toEqual([]);
});

afterAll(async () => {
  await gw?.close();
  await fixture?.close();
});

let ids = 0;

/** One tools/call as raw HTTP: the status and the parsed answer (its id taken out). */
async function call(
  name: string,
  args: Record<string, unknown>,
  options: {
    usual?: boolean;
    key?: string;
    capabilities?: Record<string, unknown>;
    extra?: Record<string, unknown>;
  } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const id = ++ids;
  const res = await fetch(gw.url, {
    method: "POST",
    headers: {
      accept: "application/json, text/event-stream",
      "content-type": "application/json",
      "mcp-method": "tools/call",
      "mcp-name": name,
      "mcp-protocol-version": "2026-07-28",
      authorization: `Bearer ${options.key ?? KEYS.alice.key}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: {
        name,
        arguments: args,
        ...options.extra,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: "fast-path-test", version: "0" },
          "io.modelcontextprotocol/clientCapabilities": options.capabilities ?? {},
          ...(options.usual ? { traceparent: TRACEPARENT } : {}),
        },
      },
    }),
  });
  const text = await res.text();
  const body = (res.headers.get("content-type") ?? "").includes("event-stream")
    ? (JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as Record<string, unknown>)
    : (JSON.parse(text) as Record<string, unknown>);
  // Refusals before the request is read (403) carry a null id.
  expect(body.id).toBe(res.status === 403 ? null : id);
  delete body.id;
  return { status: res.status, body };
}

/** Answers whose large-result ids differ per call compare equal with the id blanked. */
const sameIds = (v: unknown): unknown =>
  JSON.parse(
    JSON.stringify(v).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>"),
  );

describe("a plain 2026-07-28 tools/call", () => {
  it.each([
    ["fx__echo", { message: "hi" }],
    ["fx__echo", {}],
    ["fx__echo", { message: "a long answer ".repeat(20) }],
    ["fx__fail", { mode: "not_found" }],
    ["fx__fail", { mode: "crash" }],
    ["fx__fail", { mode: "bad_output" }],
    ["fx__test_simple_text", {}],
    ["fx__test_image_content", {}],
    ["fx__test_embedded_resource", {}],
    ["fx__test_error_handling", {}],
    ["fx__test_missing_capability", {}],
    ["fx__test_input_required_result_elicitation", {}],
    ["fx__test_tool_with_logging", {}],
    ["fx__test_tool_with_progress", {}],
    ["fx__greet", { name: "Ada" }],
    ["fx__no_such_tool", {}],
    ["cached__echo", { message: "kept" }],
    ["legacy__echo", { message: "old" }],
  ])("%s %j: the lean path answers as the usual one", async (name, args) => {
    const lean = await call(name, args);
    const usual = await call(name, args, { usual: true });
    expect(sameIds(lean)).toEqual(sameIds(usual));
  });

  it("is refused the same way to a caller without the upstream's scope", async () => {
    const lean = await call("fx__echo", { message: "x" }, { key: KEYS.bob.key });
    const usual = await call("fx__echo", { message: "x" }, { key: KEYS.bob.key, usual: true });
    expect(lean.status).toBe(403);
    expect(lean).toEqual(usual);
  });

  it("goes the lean way only for a served, usable, uncached tool of a 2026-07-28 HTTP upstream", () => {
    const forward = gatewayServer.forward!;
    const signal = new AbortController().signal;
    const alice = { id: "alice", scopes: ["fx:use"], claims: {} };
    const taken = (name: string, principal = alice) =>
      forward.fastCall!(deps, { name, args: {}, principal, signal }) !== undefined;
    expect(taken("fx__echo")).toBe(true);
    expect(taken("fx__echo", { id: "bob", scopes: [], claims: {} })).toBe(false);
    expect(taken("fx__no_such_tool")).toBe(false);
    // read-only and cached: the cache answers it.
    expect(taken("cached__fail")).toBe(false);
    expect(taken("cached__echo")).toBe(
      deps.gateway.catalog.tools.get("cached__echo")?.entry.annotations?.readOnlyHint !== true,
    );
    expect(taken("legacy__echo")).toBe(false);
  });
});

describe("a tools/call from a caller that can be asked (elicitation, sampling, roots)", () => {
  const ASKABLE = { elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } };

  /** Counts the lean posts to upstream fx (the real method, wrapped), and what they came back with. */
  function countDirect() {
    const fx = deps.gateway.upstreams.get("fx")!;
    const real = fx.callToolDirect.bind(fx);
    const seen: ("answered" | "asked")[] = [];
    fx.callToolDirect = async (...args) => {
      const r = await real(...args);
      seen.push(r ? "answered" : "asked");
      return r;
    };
    return { seen, restore: () => void delete (fx as { callToolDirect?: unknown }).callToolDirect };
  }

  it.each([
    ["fx__echo", { message: "hi" }],
    ["fx__fail", { mode: "not_found" }],
    ["fx__greet", { name: "Ada" }],
    ["fx__test_simple_text", {}],
  ])("%s %j goes the lean way and answers as the usual one", async (name, args) => {
    const count = countDirect();
    try {
      const lean = await call(name, args, { capabilities: ASKABLE });
      expect(count.seen).toEqual(["answered"]);
      const usual = await call(name, args, { capabilities: ASKABLE, usual: true });
      expect(count.seen).toEqual(["answered"]);
      expect(sameIds(lean)).toEqual(sameIds(usual));
    } finally {
      count.restore();
    }
  });

  it("a question from the upstream sends the call the usual way, which relays it, and the answer completes it", async () => {
    const count = countDirect();
    try {
      const asked = await call("fx__test_input_required_result_elicitation", {}, { capabilities: ASKABLE });
      // Tried lean, the upstream asked, and the usual path made the call again and relayed it.
      expect(count.seen).toEqual(["asked"]);
      const result = asked.body.result as Record<string, unknown>;
      expect(result.resultType).toBe("input_required");
      const requests = result.inputRequests as Record<string, { method: string }>;
      expect(Object.values(requests).map((r) => r.method)).toEqual(["elicitation/create"]);
      const usual = await call(
        "fx__test_input_required_result_elicitation",
        {},
        { capabilities: ASKABLE, usual: true },
      );
      const usualResult = usual.body.result as Record<string, unknown>;
      expect(Object.keys(usualResult.inputRequests as object)).toEqual(Object.keys(requests));
      // The caller answers under the key it was given, with the gateway's requestState.
      const [key] = Object.keys(requests);
      const done = await call(
        "fx__test_input_required_result_elicitation",
        {},
        {
          capabilities: ASKABLE,
          extra: {
            inputResponses: { [key!]: { action: "accept", content: { name: "Ada" } } },
            requestState: result.requestState,
          },
        },
      );
      expect(JSON.stringify(done.body.result)).toContain("Hello, Ada!");
    } finally {
      count.restore();
    }
  });

  it("a caller that declares the tasks extension still takes the usual way", async () => {
    const count = countDirect();
    try {
      const r = await call(
        "fx__echo",
        { message: "t" },
        { capabilities: { ...ASKABLE, extensions: { "io.modelcontextprotocol/tasks": {} } } },
      );
      expect(JSON.stringify(r.body.result)).toContain("t");
      expect(count.seen).toEqual([]);
    } finally {
      count.restore();
    }
  });
});
