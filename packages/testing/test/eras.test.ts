import { fileURLToPath } from "node:url";
import everything from "@toolshed/fixture-everything";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectV1HttpClient,
  connectV1StdioClient,
  MODERN_PROTOCOL_VERSION,
  modernPost as postModern,
  spawnStdioServer,
  startTestHttpServer,
  textOf,
  type TestHttpServer,
} from "../src/index.js";

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

/** A 2026-07-28 request as a client sends it: the envelope in _meta and the SEP-2243 headers. */
function modernPost(url: string, id: number, method: string, params: Record<string, unknown> = {}) {
  return postModern(url, method, params, { id });
}

/** The JSON-RPC messages of a JSON or SSE response body. */
async function messagesOf(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  if (text.startsWith("{")) return [JSON.parse(text) as Record<string, unknown>];
  return [...text.matchAll(/^data: ?(\{.*)$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
}

describe.each([
  { name: "sessionful", stateless: false },
  { name: "--stateless", stateless: true },
])("one /mcp endpoint, both protocol eras ($name)", ({ stateless }) => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(everything, { stateless });
  });
  afterAll(async () => srv.close(1_000));

  it("serves a v2 client pinned to 2026-07-28 without a session", async () => {
    const client = await srv.connect({}, undefined, "modern");
    expect(client.getProtocolEra()).toBe("modern");
    expect(client.getServerVersion()).toMatchObject({ name: everything.name });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("echo");
    expect(textOf(await client.callTool({ name: "echo", arguments: { message: "modern" } }))).toBe("modern");
    const progress: number[] = [];
    await client.callTool(
      { name: "slow", arguments: { ms: 20 } },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(progress.length).toBeGreaterThan(0);
    expect(srv.sessions).toBe(0);
    await client.close();
  });

  it("finds 2026-07-28 for a v2 client that probes (versionNegotiation auto)", async () => {
    const client = await srv.connect({}, undefined, "auto");
    expect(client.getProtocolEra()).toBe("modern");
    expect(textOf(await client.callTool({ name: "echo", arguments: { message: "auto" } }))).toBe("auto");
    await client.close();
  });

  it("keeps serving 2025 clients, v2 and v1, with sessions unless --stateless", async () => {
    const v2 = await srv.connect();
    expect(v2.getProtocolEra()).toBe("legacy");
    const v1 = await connectV1HttpClient(srv.url);
    expect(textOf(await v2.callTool({ name: "echo", arguments: { message: "v2" } }))).toBe("v2");
    expect(textOf(await v1.callTool({ name: "echo", arguments: { message: "v1" } }))).toBe("v1");
    expect(srv.sessions).toBe(stateless ? 0 : 2);
    await v1.close();
    await v2.close();
  });
});

describe("2026-07-28 on the wire", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(everything);
  });
  afterAll(async () => srv.close(1_000));

  it("answers server/discover with the server's identity in result _meta", async () => {
    const res = await modernPost(srv.url, 1, "server/discover");
    expect(res.status).toBe(200);
    const [reply] = await messagesOf(res);
    expect(reply).toMatchObject({
      id: 1,
      result: {
        supportedVersions: expect.arrayContaining([MODERN_PROTOCOL_VERSION]) as unknown,
        _meta: { "io.modelcontextprotocol/serverInfo": { name: everything.name } },
      },
    });
    expect(res.headers.get("mcp-session-id")).toBeNull();
  });

  it("sends log notifications only at the level the request's _meta asks for", async () => {
    const logs = (messages: Record<string, unknown>[]) =>
      messages
        .filter((m) => m.method === "notifications/message")
        .map((m) => (m.params as { level: string }).level);
    const quiet = await messagesOf(
      await modernPost(srv.url, 2, "tools/call", { name: "test_logging_tool", arguments: {} }),
    );
    expect(logs(quiet)).toEqual([]);
    expect(quiet.at(-1)).toMatchObject({ id: 2, result: { resultType: "complete" } });
    const asked = await messagesOf(
      await modernPost(srv.url, 6, "tools/call", {
        name: "test_logging_tool",
        arguments: {},
        _meta: { "io.modelcontextprotocol/logLevel": "info" },
      }),
    );
    expect(logs(asked)).toEqual(["info", "warning"]);
  });

  it("answers a call needing a capability the request did not declare with -32021 and HTTP 400", async () => {
    const res = await modernPost(srv.url, 7, "tools/call", {
      name: "test_missing_capability",
      arguments: {},
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      id: 7,
      error: { code: -32021, data: { requiredCapabilities: { sampling: {} } } },
    });
  });

  it("tells a 2025 client that lacks the capability which one, in a tool error", async () => {
    const client = await srv.connect();
    const result = await client.callTool({ name: "test_missing_capability", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/'sampling' capability/);
    await client.close();
  });

  it("refuses a request whose Mcp-Method header disagrees with its body (-32020)", async () => {
    const res = await fetch(srv.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
        "mcp-method": "prompts/list",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 3,
        method: "tools/list",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: 3, error: { code: -32020 } });
  });

  it("answers an unsupported revision with -32022 naming the supported ones", async () => {
    const res = await fetch(srv.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2099-01-01",
        "mcp-method": "tools/list",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 4,
        method: "tools/list",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2099-01-01",
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      id: 4,
      error: { code: -32022, data: { supported: [MODERN_PROTOCOL_VERSION] } },
    });
  });

  it("counts 2026-07-28 calls in the same metrics as 2025 ones", async () => {
    await modernPost(srv.url, 5, "tools/call", { name: "echo", arguments: { message: "m" } }).then((r) =>
      r.text(),
    );
    const text = await (await fetch(srv.url.replace(/\/mcp$/, "/metrics"))).text();
    expect(text).toMatch(/mcp_tool_calls_total\{tool="echo",outcome="ok"[^}]*\} [1-9]/);
  });
});

describe("stdio, both eras and both SDK clients (real binary, real pipes)", () => {
  it("serves a v2 client pinned to 2026-07-28 (server/discover, no initialize)", async () => {
    const server = await spawnStdioServer(process.execPath, [BIN], { era: "modern" });
    expect(server.client.getProtocolEra()).toBe("modern");
    expect(textOf(await server.client.callTool({ name: "echo", arguments: { message: "s" } }))).toBe("s");
    expect(server.stdout()).not.toContain('"method":"initialize"');
    expect(await server.close()).toBe(0);
    expect(server.nonProtocolLines()).toEqual([]);
  });

  it("serves a v2 client on the 2025 handshake and a v1 client", async () => {
    const v2 = await spawnStdioServer(process.execPath, [BIN]);
    expect(v2.client.getProtocolEra()).toBe("legacy");
    expect(textOf(await v2.client.callTool({ name: "echo", arguments: { message: "l" } }))).toBe("l");
    expect(await v2.close()).toBe(0);
    const v1 = await connectV1StdioClient(process.execPath, [BIN]);
    expect(textOf(await v1.callTool({ name: "echo", arguments: { message: "one" } }))).toBe("one");
    await v1.close();
  });
});
