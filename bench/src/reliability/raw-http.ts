import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { connect } from "node:net";
import { Agent, request, type Dispatcher } from "undici";

export const PROTOCOL_VERSION = LATEST_PROTOCOL_VERSION;

export interface RawResponse {
  /** 0 when no HTTP response arrived (connection reset, timeout). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** JSON-RPC messages in the body (a JSON body or the `data:` lines of an SSE stream). */
  messages: unknown[];
  error?: string;
}

export function agent(connections: number): Agent {
  return new Agent({ connections, pipelining: 1, keepAliveTimeout: 4_000 });
}

/** A raw POST to the MCP endpoint; never throws. */
export async function rawPost(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  dispatcher?: Dispatcher,
  timeoutMs = 15_000,
): Promise<RawResponse> {
  try {
    const res = await request(url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...headers,
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = await res.body.text();
    const type = String(res.headers["content-type"] ?? "");
    return { status: res.statusCode, headers: res.headers, body: text, messages: parseMessages(type, text) };
  } catch (err) {
    return { status: 0, headers: {}, body: "", messages: [], error: (err as Error).message };
  }
}

export function parseMessages(contentType: string, body: string): unknown[] {
  const out: unknown[] = [];
  const tryParse = (text: string) => {
    try {
      out.push(JSON.parse(text));
    } catch {
      // not JSON: the caller sees no message
    }
  };
  if (contentType.includes("text/event-stream")) {
    for (const line of body.split("\n")) if (line.startsWith("data:")) tryParse(line.slice(5).trim());
  } else if (body) {
    tryParse(body);
  }
  return out.flatMap((m) => (Array.isArray(m) ? (m as unknown[]) : [m]));
}

/** A `tools/call` request as JSON text. */
export function callMessage(id: number, name: string, args: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
}

export function initializeMessage(id: string | number = "init"): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "toolshed-reliability", version: "0.0.0" },
    },
  });
}

/** Initializes a session with raw POSTs; returns its id and the headers that go with it. */
export async function openSession(
  url: string,
  headers: Record<string, string> = {},
  dispatcher?: Dispatcher,
): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const res = await rawPost(url, initializeMessage(), headers, dispatcher);
  const sessionId = res.headers["mcp-session-id"];
  if (res.status !== 200 || typeof sessionId !== "string") {
    throw new Error(`initialize failed: HTTP ${res.status} ${res.error ?? res.body.slice(0, 200)}`);
  }
  const sessionHeaders = {
    ...headers,
    "mcp-session-id": sessionId,
    "mcp-protocol-version": PROTOCOL_VERSION,
  };
  const done = await rawPost(
    url,
    JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    sessionHeaders,
    dispatcher,
  );
  if (done.status !== 202) throw new Error(`notifications/initialized answered HTTP ${done.status}`);
  return { sessionId, headers: sessionHeaders };
}

/**
 * Raw bytes on a socket, for requests no HTTP client would send (or a body announced but not sent);
 * resolves with the status (0 when none came) and the body.
 */
export function rawRequest(
  port: number,
  text: string,
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const done = () => {
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const split = data.indexOf("\r\n\r\n");
      const body = split === -1 ? "" : data.slice(split + 4);
      resolve({
        status,
        body: /transfer-encoding: chunked/i.test(data.slice(0, split)) ? dechunk(body) : body,
      });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      data += chunk;
      if (
        /\r\n\r\n/.test(data) &&
        /transfer-encoding: chunked/i.test(data) &&
        data.endsWith("\r\n0\r\n\r\n")
      ) {
        clearTimeout(timer);
        done();
      } else if (/\r\n\r\n/.test(data) && /content-length: (\d+)/i.test(data)) {
        const length = Number(/content-length: (\d+)/i.exec(data)![1]);
        if (Buffer.byteLength(data.slice(data.indexOf("\r\n\r\n") + 4)) >= length) {
          clearTimeout(timer);
          done();
        }
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      done();
    });
    socket.write(text);
  });
}

function dechunk(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = eol === -1 ? 0 : parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** The tool result of one raw `tools/call` (its JSON-RPC error, if it was one, as an error result). */
export async function callTool(
  url: string,
  headers: Record<string, string>,
  id: number,
  name: string,
  args: Record<string, unknown>,
): Promise<{ isError: boolean; text: string }> {
  const res = await rawPost(url, callMessage(id, name, args), headers);
  const [message] = parseMessages(String(res.headers["content-type"] ?? ""), res.body) as {
    result?: { isError?: boolean; content?: { text?: string }[] };
    error?: { message?: string };
  }[];
  if (message?.error) return { isError: true, text: message.error.message ?? "" };
  const text = (message?.result?.content ?? []).map((c) => c.text ?? "").join("\n");
  return { isError: message?.result?.isError === true, text: text || `HTTP ${res.status}` };
}
