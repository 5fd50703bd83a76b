import everything from "@toolshed/fixture-everything";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHttpServer, textOf, type TestHttpServer } from "../src/index.js";
import { INITIALIZE, MCP_HEADERS, rawSession } from "./sse.js";

/** The one JSON-RPC message of a JSON or SSE response. */
async function replyOf(res: Response): Promise<{ id?: unknown; error?: { code: number; message: string } }> {
  const text = await res.text();
  const json = text.startsWith("{") ? text : (/^data: (\{.*)$/m.exec(text)?.[1] ?? "{}");
  return JSON.parse(json) as { id?: unknown; error?: { code: number; message: string } };
}

describe("errors a client can act on", () => {
  let srv: TestHttpServer;
  let session: string;
  beforeAll(async () => {
    srv = await startTestHttpServer(everything);
    session = await rawSession(srv.url);
  });
  afterAll(async () => srv.close(1_000));

  const call = (body: unknown) =>
    fetch(srv.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify(body),
    });

  it("answers malformed params with -32602 and one readable line, not a dump of validator issues", async () => {
    for (const [method, params, field] of [
      ["tools/call", { name: 5 }, "params.name"],
      ["resources/read", {}, "params.uri"],
    ] as const) {
      const reply = await replyOf(await call({ jsonrpc: "2.0", id: 11, method, params }));
      expect(reply.error?.code, method).toBe(-32602);
      expect(reply.error?.message, method).toContain(`invalid params for ${method}: ${field}: `);
      expect(reply.error?.message, method).not.toMatch(/[[\]{}\n]/);
    }
  });

  it("names the request's id in HTTP-level errors when the body held one", async () => {
    const noSession = await fetch(srv.url, {
      method: "POST",
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: "2.0", id: 21, method: "tools/list" }),
    });
    expect(noSession.status).toBe(400);
    expect(await noSession.json()).toMatchObject({ id: 21, error: { code: -32000 } });
    const unknown = await fetch(srv.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": "not-a-session" },
      body: JSON.stringify({ jsonrpc: "2.0", id: "x-22", method: "tools/list" }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ id: "x-22", error: { code: -32001 } });
  });
});

describe("--stateless offers no capability that needs a session", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(everything, { stateless: true });
  });
  afterAll(async () => srv.close(1_000));

  it("declares neither logging nor resource subscriptions to 2025 clients", async () => {
    const res = await fetch(srv.url, {
      method: "POST",
      headers: MCP_HEADERS,
      body: JSON.stringify(INITIALIZE),
    });
    const reply = (await replyOf(res)) as { result?: { capabilities: Record<string, unknown> } };
    expect(reply.result?.capabilities.logging).toBeUndefined();
    expect(reply.result?.capabilities.resources).toMatchObject({ subscribe: false });
  });

  it("answers a tool that asks the client at once, saying why, instead of hanging", async () => {
    const client = await srv.connect({ sampling: {}, elicitation: {} });
    client.setRequestHandler("sampling/createMessage", () => ({
      role: "assistant" as const,
      content: { type: "text" as const, text: "never asked" },
      model: "test",
    }));
    const started = Date.now();
    const result = await client.callTool({ name: "test_sampling", arguments: { prompt: "hi" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/--stateless/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await client.close();
  });
});
