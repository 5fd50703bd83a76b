import type { IncomingMessage, ServerResponse } from "node:http";
import {
  PROTOCOL_VERSION_META_KEY,
  classifyInboundRequest,
  createMcpHandler,
  type AuthInfo,
  type McpHandlerRequestOptions,
} from "@modelcontextprotocol/server";
import { kitServerFactory } from "../connection.js";
import type { Runtime } from "../runtime.js";
import { withTaskListen } from "../tasks/listen-http.js";
import { withResourceFollowing } from "./listen-follow.js";
import { TASK_METHODS } from "../tasks/wire.js";
import { fastToolCall } from "./fast-call.js";

/**
 * The 2026-07-28 lane of /mcp: every request is self-describing (its `_meta` envelope carries the
 * protocol version and the client's capabilities), so it is answered by a fresh kit server with no
 * session, and any replica can answer any request. 2025 requests (initialize, Mcp-Session-Id, GET
 * streams) go to the 2025 lanes in legacy.ts; the SDK's own classifier decides which is which.
 */
export interface ModernLane {
  /** Whether a POST belongs to the 2025 lane; false means this lane answers it (or its error). */
  isLegacy(req: IncomingMessage, body: unknown): boolean;
  serve(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown): Promise<void>;
  close(): Promise<void>;
}

export function createModernLane(rt: Runtime, maxBodyBytes: number): ModernLane {
  const onerror = (err: Error) => rt.logger.debug({ err }, "2026-07-28 request refused or failed");
  // legacy: "reject" — 2025 traffic never reaches this handler; app.ts routes it to legacy.ts.
  // subscriptions/listen streams subscribe to the runtime's change bus (shared by replicas through
  // Redis when configured); the SDK's router filters each stream by what its client asked for.
  const handler = createMcpHandler(kitServerFactory(rt, "tcp", maxBodyBytes), {
    legacy: "reject",
    onerror,
    maxRequestBodySize: maxBodyBytes,
    bus: rt.changes,
  });
  // Listen streams that name task ids also carry their status notifications (tasks/listen-http.ts).
  const tasks = withTaskListen(rt, handler.fetch);
  // A forwarding server follows the resources a listen names while its stream is open.
  const fetch = withResourceFollowing(rt, tasks.fetch);
  return {
    isLegacy: isLegacyNodeRequest,
    serve: (req, res, body) => {
      const mismatch = rt.servesTasks ? taskNameMismatch(req, body) : undefined;
      if (mismatch) {
        rt.logger.debug({ reason: mismatch.message }, "2026-07-28 request refused: Mcp-Name");
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: mismatch.id,
            error: { code: -32020, message: mismatch.message },
          }),
        );
        return Promise.resolve();
      }
      // A forwarding server's plain tools/call, without an SDK server for it (fast-call.ts).
      const usual = () => answer(fetch, req, res, body, onerror);
      return fastToolCall(rt, req, res, body, usual) ?? usual();
    },
    async close() {
      tasks.closeAll();
      await handler.close();
    },
  };
}

/**
 * The tasks extension's routing header: `tasks/get`, `tasks/update` and `tasks/cancel` carry the
 * task id in `Mcp-Name` (so a load balancer can route on it), and it must match `params.taskId`
 * (SEP-2243: a missing or different value is a HeaderMismatch, -32020). The SDK checks the header
 * for the methods it knows; these are the kit's (tasks/wire.ts).
 */
function taskNameMismatch(
  req: IncomingMessage,
  body: unknown,
): { id: string | number | null; message: string } | undefined {
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const { method, params, id } = body as { method?: unknown; params?: { taskId?: unknown }; id?: unknown };
  if (typeof method !== "string" || !TASK_METHODS.has(method)) return undefined;
  const taskId = params?.taskId;
  if (typeof taskId !== "string") return undefined;
  const header = req.headers["mcp-name"];
  const value = typeof header === "string" ? header.trim() : undefined;
  if (value === taskId) return undefined;
  const replyId = typeof id === "string" || typeof id === "number" ? id : null;
  return {
    id: replyId,
    message:
      value === undefined
        ? `the body carries params.taskId="${taskId}" but the required Mcp-Name header is absent; send Mcp-Name: <taskId>`
        : `the body carries params.taskId="${taskId}" but the Mcp-Name header names "${value}"; send the task id in Mcp-Name`,
  };
}

/**
 * Whether a request belongs to the 2025 (sessionful) lane: the SDK's own classifier
 * (`classifyInboundRequest`, what its `isLegacyRequest` runs), fed the method and the three headers
 * it reads straight from the Node request, and the body app.ts already parsed. `isLegacyRequest`
 * wants a web `Request`, and building one (URL, Headers) for every call cost more than the decision.
 * No JSON body (undefined) is legacy, as there; a body the classifier refuses (not JSON-RPC, a
 * modern request with a mismatched header) is not: the modern lane answers it with its error.
 */
export function isLegacyNodeRequest(req: IncomingMessage, body: unknown): boolean {
  if (body === undefined) return true;
  // The common case, decided without the classifier's schema checks: a single message (not a batch,
  // not a posted response) other than `initialize` whose `_meta` holds the envelope claim is never
  // legacy, whatever else it holds; the modern lane classifies it again and answers any error.
  if (claimsModernEnvelope(body)) return false;
  const outcome = classifyInboundRequest({
    httpMethod: req.method ?? "POST",
    protocolVersionHeader: headerOf(req, "mcp-protocol-version"),
    mcpMethodHeader: headerOf(req, "mcp-method"),
    mcpNameHeader: headerOf(req, "mcp-name"),
    body,
  });
  return outcome.kind === "legacy";
}

/** A header as `Headers.get` reads it: repeated values joined with ", " (node joins these the same way). */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Whether a body carries the 2026-07-28 envelope claim in a way the SDK's classifier can only route
 * to the modern lane (`classifyInboundRequest`: a claim makes a request or notification modern or a
 * modern-lane rejection). `initialize` is left to the classifier (an invalid claim keeps it legacy),
 * and so is anything shaped like a response.
 */
function claimsModernEnvelope(body: unknown): boolean {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const message = body as { method?: unknown; params?: unknown; result?: unknown; error?: unknown };
  if (typeof message.method !== "string" || message.method === "initialize") return false;
  if ("result" in message || "error" in message) return false;
  const params = message.params;
  if (typeof params !== "object" || params === null || Array.isArray(params)) return false;
  const meta = (params as { _meta?: unknown })._meta;
  return (
    typeof meta === "object" && meta !== null && !Array.isArray(meta) && PROTOCOL_VERSION_META_KEY in meta
  );
}

type Fetch = (request: Request, options?: McpHandlerRequestOptions) => Promise<Response>;

/**
 * What `toNodeHandler` from `@modelcontextprotocol/node` does for this lane, for a body app.ts has
 * already read and parsed (the SDK classifies from `parsedBody` and never reads the request's own):
 * the web Request carries the method, headers and abort signal but no copy of the body, and a JSON
 * answer goes out in one write with its length, not as a chunked stream. An SSE answer streams as
 * there, honoring backpressure.
 */
async function answer(
  fetch: Fetch,
  req: IncomingMessage & { auth?: AuthInfo },
  res: ServerResponse,
  body: unknown,
  onerror: (err: Error) => void,
): Promise<void> {
  const abort = new AbortController();
  let finished = false;
  res.once("close", () => {
    if (!finished) abort.abort();
  });
  if (res.destroyed) abort.abort();
  let response: Response;
  try {
    response = await fetch(webRequest(req, abort.signal), {
      parsedBody: body,
      ...(req.auth !== undefined ? { authInfo: req.auth } : {}),
    });
  } catch (err) {
    onerror(err instanceof Error ? err : new Error(String(err)));
    finished = true;
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          jsonrpc: "2.0",
          id: echoableId(body),
          error: { code: -32603, message: "Internal server error" },
        }),
      );
    } else res.end();
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  if (response.body === null) {
    finished = true;
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!headers["content-type"]?.startsWith("text/event-stream")) {
    // A whole JSON-RPC answer (the result, or an error): read it and send it with its length.
    const text = await response.text();
    finished = true;
    headers["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(response.status, headers).end(text);
    return;
  }
  res.writeHead(response.status, headers);
  let drained: (() => void) | undefined;
  res.on("drain", () => {
    drained?.();
    drained = undefined;
  });
  const closed = new Promise<void>((resolve) =>
    abort.signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  try {
    for await (const chunk of response.body) {
      if (abort.signal.aborted) break;
      if (!res.write(chunk))
        await Promise.race([new Promise<void>((resolve) => (drained = resolve)), closed]);
    }
  } catch {
    // the stream failed or the client went away: end what was sent
  }
  finished = true;
  res.end();
}

/** The web Request the SDK's handler reads: method, URL, headers (not the body) and the abort signal. */
function webRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // The body is not carried, so neither are the headers that describe its bytes.
    if (
      value === undefined ||
      name === "content-length" ||
      name === "transfer-encoding" ||
      name === "content-encoding"
    )
      continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: req.method ?? "POST",
    headers,
    signal,
  });
}

/** The id an adapter-level error answer echoes: a single request's string or number id, else null. */
function echoableId(body: unknown): string | number | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const { method, id } = body as { method?: unknown; id?: unknown };
  if (typeof method !== "string") return null;
  return typeof id === "string" || typeof id === "number" ? id : null;
}
