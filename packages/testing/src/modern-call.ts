import type { ClientCapabilities } from "@modelcontextprotocol/client";
import { MODERN_PROTOCOL_VERSION } from "./era.js";

/** What a client that may be asked anything declares. */
export const ASKING_CAPABILITIES: ClientCapabilities = {
  elicitation: {},
  sampling: { tools: {} },
  roots: {},
};

export interface ModernPostOptions {
  /** The JSON-RPC id. Default 1. */
  id?: number | string;
  /** The client capabilities declared in `_meta`. Default {}. */
  capabilities?: ClientCapabilities;
}

/**
 * One 2026-07-28 request over plain HTTP as a client sends it: the envelope in `_meta` (merged with
 * any `_meta` in `params`) and the SEP-2243 `Mcp-Method`/`Mcp-Name` headers. Returns the raw response.
 */
export function modernPost(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: ModernPostOptions = {},
): Promise<Response> {
  const { _meta, ...rest } = params as { _meta?: Record<string, unknown> } & Record<string, unknown>;
  // Mcp-Name: the tool or prompt name, the resource URI, or the task id of a tasks/* request.
  const name = [rest.name, rest.uri, rest.taskId].find((v): v is string => typeof v === "string");
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
      "mcp-method": method,
      ...(name !== undefined ? { "mcp-name": name } : {}),
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: options.id ?? 1,
      method,
      params: {
        ...rest,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
          "io.modelcontextprotocol/clientInfo": { name: "raw", version: "0" },
          "io.modelcontextprotocol/clientCapabilities": options.capabilities ?? {},
          ..._meta,
        },
      },
    }),
  });
}

/**
 * One 2026-07-28 request over plain HTTP, the way the conformance suite sends it: for tests that
 * need to see (or alter) the raw `input_required` result and its `requestState`. Resolves to the
 * JSON-RPC response message (of a JSON or an SSE body).
 */
export async function modernCall(
  url: string,
  method: string,
  params: Record<string, unknown>,
  capabilities: ClientCapabilities = ASKING_CAPABILITIES,
): Promise<Record<string, unknown>> {
  const res = await modernPost(url, method, params, { capabilities });
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
