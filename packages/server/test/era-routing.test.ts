// Which lane of /mcp a POST takes (2025 sessions or 2026-07-28 per-request), decided from the Node
// request's headers: real requests over loopback HTTP, each checked against the expected lane and
// against the SDK's own `isLegacyRequest` on a web Request built from the same request.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isLegacyRequest } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLegacyNodeRequest } from "../src/http/modern.js";

const MODERN = "2026-07-28";
const envelope = (version = MODERN) => ({
  "io.modelcontextprotocol/protocolVersion": version,
  "io.modelcontextprotocol/clientInfo": { name: "t", version: "0" },
  "io.modelcontextprotocol/clientCapabilities": {},
});
const call = (meta?: Record<string, unknown>) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "echo", arguments: { message: "hi" }, ...(meta ? { _meta: meta } : {}) },
});

/** The request the SDK classifier saw before: a web Request with the same method and headers. */
function webRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return new Request(`http://localhost${req.url ?? "/"}`, { method: req.method ?? "POST", headers });
}

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body: unknown = text ? JSON.parse(text) : undefined;
      const node = isLegacyNodeRequest(req, body);
      void isLegacyRequest(webRequest(req), body).then((sdk) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ node, sdk }));
      });
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  server.close();
  await once(server, "close");
});

async function lane(
  headers: Record<string, string>,
  body: unknown,
): Promise<{ node: boolean; sdk: boolean }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as { node: boolean; sdk: boolean };
}

describe("isLegacyNodeRequest", () => {
  it.each<[string, Record<string, string>, unknown, boolean]>([
    [
      "initialize (the 2025 handshake)",
      { "mcp-protocol-version": "2025-11-25" },
      { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25" } },
      true,
    ],
    [
      "a 2025 call in a session",
      { "mcp-protocol-version": "2025-11-25", "mcp-session-id": "s1" },
      call(),
      true,
    ],
    ["a 2025 call with no version header", {}, call(), true],
    ["a 2025 notification", {}, { jsonrpc: "2.0", method: "notifications/initialized" }, true],
    ["a posted response (2025 session traffic)", {}, { jsonrpc: "2.0", id: 7, result: {} }, true],
    ["a 2025 batch", {}, [call(), { ...call(), id: 2 }], true],
    ["no body", {}, undefined, true],
    [
      "a 2026-07-28 call with its headers",
      { "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "echo" },
      call(envelope()),
      false,
    ],
    ["a 2026-07-28 call with the envelope only", {}, call(envelope()), false],
    [
      "a 2026-07-28 header with no envelope (refused by the modern lane)",
      { "mcp-protocol-version": MODERN },
      call(),
      false,
    ],
    [
      "an Mcp-Method header that contradicts the body (refused by the modern lane)",
      { "mcp-protocol-version": MODERN, "mcp-method": "prompts/list" },
      call(envelope()),
      false,
    ],
    [
      "an unsupported revision in the envelope (refused by the modern lane)",
      { "mcp-protocol-version": "2099-01-01" },
      call(envelope("2099-01-01")),
      false,
    ],
    ["a body that is not JSON-RPC (refused by the modern lane)", {}, { hello: "world" }, false],
    // Bodies near the shortcut that skips the classifier for a plain envelope claim.
    [
      "a 2026-07-28 notification",
      { "mcp-protocol-version": MODERN },
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, _meta: envelope() } },
      false,
    ],
    [
      "initialize carrying a valid 2026-07-28 envelope",
      {},
      { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: MODERN, _meta: envelope() } },
      false,
    ],
    [
      "initialize carrying a broken envelope (still the handshake)",
      {},
      {
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", _meta: { "io.modelcontextprotocol/protocolVersion": 7 } },
      },
      true,
    ],
    [
      "a body with both a result and a method (left to the classifier)",
      {},
      { jsonrpc: "2.0", id: 7, result: {}, method: "tools/call", params: { _meta: envelope() } },
      false,
    ],
    [
      "an envelope claim with an unusable version (refused by the modern lane)",
      {},
      call({ "io.modelcontextprotocol/protocolVersion": 7 }),
      false,
    ],
  ])("%s", async (_name, headers, body, legacy) => {
    const verdict = await lane(headers, body);
    expect(verdict).toEqual({ node: legacy, sdk: legacy });
  });
});
