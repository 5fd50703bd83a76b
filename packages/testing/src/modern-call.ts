import type { ClientCapabilities } from "@modelcontextprotocol/client";
import { MODERN_PROTOCOL_VERSION } from "./era.js";

/** What a client that may be asked anything declares. */
export const ASKING_CAPABILITIES: ClientCapabilities = {
  elicitation: {},
  sampling: { tools: {} },
  roots: {},
};

/**
 * One 2026-07-28 request over plain HTTP, the way the conformance suite sends it: for tests that
 * need to see (or alter) the raw `input_required` result and its `requestState`.
 */
export async function modernCall(
  url: string,
  method: string,
  params: Record<string, unknown>,
  capabilities: ClientCapabilities = ASKING_CAPABILITIES,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
      "mcp-method": method,
      ...(typeof params.name === "string" ? { "mcp-name": params.name } : {}),
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
          "io.modelcontextprotocol/clientInfo": { name: "raw", version: "0" },
          "io.modelcontextprotocol/clientCapabilities": capabilities,
        },
      },
    }),
  });
  const text = await res.text();
  const json = text.startsWith("{") ? text : /^data: ?(\{.*)$/m.exec(text)?.[1];
  if (!json) throw new Error(`no JSON-RPC message in HTTP ${res.status}: ${text}`);
  return JSON.parse(json) as Record<string, unknown>;
}

/** Flips a byte inside a requestState's signed body: what a client tampering with it sends. */
export function tamperedState(state: string): string {
  const [head, body, mac] = state.split(".");
  if (!body) return `${state}-TAMPERED`;
  const bytes = Buffer.from(body, "base64url");
  const at = bytes.length >> 1;
  bytes[at] = (bytes[at] ?? 0) ^ 1;
  return `${head}.${bytes.toString("base64url")}.${mac}`;
}
