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
  /** The client name declared in `_meta`. Default "raw". */
  clientName?: string;
  /** More HTTP headers (credentials, say). */
  headers?: Record<string, string>;
  /** Aborts the request (and closes its stream). */
  signal?: AbortSignal;
}

/** The `_meta` envelope every 2026-07-28 request carries. */
export function modernEnvelope(
  capabilities: ClientCapabilities = {},
  clientName = "raw",
): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
    "io.modelcontextprotocol/clientInfo": { name: clientName, version: "0" },
    "io.modelcontextprotocol/clientCapabilities": capabilities,
  };
}

/**
 * The JSON-RPC response message in an HTTP body: the body itself when it is JSON, else the first
 * SSE event carrying a result or an error. Throws when there is none (yet).
 */
export function readReply(text: string): Record<string, unknown> {
  if (text.startsWith("{")) return JSON.parse(text) as Record<string, unknown>;
  for (const line of text.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const message = JSON.parse(line.slice(5)) as Record<string, unknown>;
    if ("result" in message || "error" in message) return message;
  }
  throw new Error(`no JSON-RPC response in: ${text.slice(0, 500)}`);
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
    ...(options.signal ? { signal: options.signal } : {}),
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
      "mcp-method": method,
      ...(name !== undefined ? { "mcp-name": name } : {}),
      ...options.headers,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: options.id ?? 1,
      method,
      params: {
        ...rest,
        _meta: { ...modernEnvelope(options.capabilities, options.clientName), ..._meta },
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
  try {
    return readReply(text);
  } catch {
    throw new Error(`no JSON-RPC response in HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
}

/** A JSON-RPC message as a test reads it. */
export interface RawMessage {
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

export interface ModernListen {
  /** The HTTP response (its status and headers); its body is being read into `messages`. */
  response: Response;
  /** Every message of the stream so far, in order. */
  messages: RawMessage[];
  /** Closes the stream. */
  close: () => void;
}

/**
 * A 2026-07-28 `subscriptions/listen` over plain HTTP (`notifications` as the request names them:
 * `{ taskIds }`, `{ resources }`, ...): collects the messages of its SSE stream as they come, until
 * `close()` or the server ends it.
 */
export async function modernListen(
  url: string,
  notifications: Record<string, unknown>,
  options: Omit<ModernPostOptions, "signal"> = {},
): Promise<ModernListen> {
  const stop = new AbortController();
  const response = await modernPost(
    url,
    "subscriptions/listen",
    { notifications },
    { ...options, signal: stop.signal },
  );
  const messages: RawMessage[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          const data = buffer
            .slice(0, cut)
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5))
            .join("");
          buffer = buffer.slice(cut + 2);
          if (data) messages.push(JSON.parse(data) as RawMessage);
        }
      }
    } catch {
      // closed
    }
  })();
  return { response, messages, close: () => stop.abort() };
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
