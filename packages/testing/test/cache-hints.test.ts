import { defineResource, defineServer, defineTool, z } from "@toolshed/server";
import { definitionProblems } from "@toolshed/server/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modernCall, startTestHttpServer, type TestHttpServer } from "../src/index.js";
import { MCP_HEADERS, rawSession } from "./sse.js";

const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const server = defineServer({
  name: "cache-test",
  version: "1.0.0",
  cacheHint: { ttlMs: 60_000, cacheScope: "public" },
  tools: [
    defineTool({
      name: "noop",
      title: "Does nothing",
      description: "Returns an empty object; here to be listed.",
      input: z.object({}),
      output: z.object({}),
      annotations: hints,
      handler: () => ({}),
    }),
  ],
  resources: [
    defineResource({
      name: "clock",
      title: "Clock",
      description: "Changes every call, so it must not be cached.",
      mimeType: "text/plain",
      uri: "test://clock",
      cacheHint: { ttlMs: 0, cacheScope: "private" },
      read: (uri) => [{ uri: uri.href, text: String(Date.now()) }],
    }),
    defineResource({
      name: "motd",
      title: "Message of the day",
      description: "Fixed text that follows the server's hint.",
      mimeType: "text/plain",
      uri: "test://motd",
      read: (uri) => [{ uri: uri.href, text: "hello" }],
    }),
  ],
});

async function modern(url: string, method: string, params: Record<string, unknown> = {}) {
  const message = await modernCall(url, method, params, {});
  return message.result as Record<string, unknown>;
}

describe("cache hints for 2026-07-28 clients", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(server);
  });
  afterAll(async () => srv.close(1_000));

  it("puts the server's hint on lists and reads, and a resource's own hint on its reads", async () => {
    expect(await modern(srv.url, "tools/list")).toMatchObject({ ttlMs: 60_000, cacheScope: "public" });
    expect(await modern(srv.url, "resources/list")).toMatchObject({ ttlMs: 60_000, cacheScope: "public" });
    expect(await modern(srv.url, "resources/read", { uri: "test://motd" })).toMatchObject({
      ttlMs: 60_000,
      cacheScope: "public",
    });
    expect(await modern(srv.url, "resources/read", { uri: "test://clock" })).toMatchObject({
      ttlMs: 0,
      cacheScope: "private",
    });
  });

  it("leaves 2025 results as they were (on the wire)", async () => {
    const session = await rawSession(srv.url);
    const res = await fetch(srv.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    const text = await res.text();
    expect(text).toContain('"tools"');
    expect(text).not.toContain("ttlMs");
  });

  it("refuses a definition whose hint is not a whole number of milliseconds", () => {
    expect(definitionProblems({ ...server, cacheHint: { ttlMs: -1 } })).toContain(
      "server: cacheHint.ttlMs must be a whole number of milliseconds, 0 or more",
    );
  });
});
