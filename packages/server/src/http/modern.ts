import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { classifyInboundRequest, createMcpHandler, type AuthInfo } from "@modelcontextprotocol/server";
import { kitServerFactory } from "../connection.js";
import type { Runtime } from "../runtime.js";
import { withTaskListen } from "../tasks/listen-http.js";
import { withResourceFollowing } from "./listen-follow.js";
import { TASK_METHODS } from "../tasks/wire.js";

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
  const node = toNodeHandler({ fetch }, { onerror, maxRequestBodySize: maxBodyBytes });
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
      return node(req, res, body);
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
