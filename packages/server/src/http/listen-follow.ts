import {
  SERVER_INFO_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  type McpHandlerRequestOptions,
} from "@modelcontextprotocol/server";
import { principalFromAuthInfo } from "../principal.js";
import { RpcError } from "../rpc-error.js";
import type { Runtime } from "../runtime.js";

type Fetch = (request: Request, options?: McpHandlerRequestOptions) => Promise<Response>;

/** At most this many URIs in one listen request's `resourceSubscriptions`. */
export const MAX_URIS = 100;

/**
 * The 2026-07-28 HTTP lane's fetch for a forwarding server that follows resources (the gateway): a
 * subscriptions/listen naming resource URIs starts following each for its caller before the SDK
 * serves the stream (a URI the caller may not see refuses the whole listen with a JSON-RPC error),
 * and stops following when the stream ends. The SDK's stream delivers the updates, by URI.
 */
export function withResourceFollowing(rt: Runtime, inner: Fetch): Fetch {
  const subscriptions = rt.def.forward?.resources?.subscriptions;
  if (!subscriptions || !rt.notifications.resourceUpdated) return inner;
  return async (request, options) => {
    const listen = listenedUris(options?.parsedBody);
    const deps = rt.openedDeps;
    // Not offered (the SDK then honors no URI), or nothing to follow: the SDK answers as it is.
    if (!listen || deps === undefined || !subscriptions.offered(deps)) return inner(request, options);
    if (listen.uris.length > MAX_URIS) {
      return rpcError(
        listen.id,
        new RpcError(-32602, `a listen request may name at most ${MAX_URIS} resources`),
      );
    }
    const principal = options?.authInfo ? principalFromAuthInfo(options.authInfo) : undefined;
    const ends: (() => void)[] = [];
    const endAll = () => {
      for (const end of ends.splice(0)) end();
    };
    // Access to one of its URIs taken by a reload: the stream is closed with the listen's result.
    let revoke: (() => void) | undefined;
    const revoked = () => revoke?.();
    for (const uri of listen.uris) {
      try {
        ends.push(await subscriptions.subscribe(deps, uri, principal, revoked));
      } catch (err) {
        endAll();
        const e = RpcError.from(err);
        const data = typeof e.data === "object" && e.data !== null ? e.data : {};
        return rpcError(listen.id, new RpcError(e.code, e.message, { ...data, uri }));
      }
    }
    let response: Response;
    try {
      response = await inner(request, options);
    } catch (err) {
      endAll();
      throw err;
    }
    const sse = response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
    if (!sse || !response.body) {
      // Refused by the SDK (headers, envelope, version): nothing to follow.
      endAll();
      return response;
    }
    if (request.signal.aborted) endAll();
    else request.signal.addEventListener("abort", endAll, { once: true });
    const closing = `event: message\ndata: ${JSON.stringify({
      jsonrpc: "2.0",
      id: listen.id,
      result: { resultType: "complete", _meta: closingMeta(rt, listen.id) },
    })}\n\n`;
    const body = endingWith(response.body, endAll, (close) => (revoke = () => close(closing)));
    return new Response(body, {
      status: response.status,
      headers: response.headers,
    });
  };
}

/** The listen request's id and distinct resource URIs, when it is one that names some. */
export function listenedUris(message: unknown): { id: string | number; uris: string[] } | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const { method, id, params } = message as { method?: unknown; id?: unknown; params?: unknown };
  if (method !== "subscriptions/listen" || (typeof id !== "string" && typeof id !== "number"))
    return undefined;
  const filter = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)
    ?.notifications;
  const uris = filter?.resourceSubscriptions;
  if (!Array.isArray(uris) || !uris.length || !uris.every((u) => typeof u === "string")) return undefined;
  return { id, uris: [...new Set(uris)] };
}

/**
 * `body` as it is, calling `end` once when it finishes or its reader cancels it; `closer` is given
 * what ends it from this side: a last frame, then the end (the inner stream is cancelled).
 */
function endingWith(
  body: ReadableStream<Uint8Array>,
  end: () => void,
  closer: (close: (lastFrame: string) => void) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let closed = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      closer((lastFrame) => {
        if (closed) return;
        closed = true;
        end();
        reader.cancel().catch(() => {});
        try {
          controller.enqueue(new TextEncoder().encode(lastFrame));
          controller.close();
        } catch {
          // the client is gone
        }
      });
    },
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (closed) return;
        if (chunk.done) {
          closed = true;
          end();
          controller.close();
        } else controller.enqueue(chunk.value);
      } catch (err) {
        if (closed) return;
        closed = true;
        end();
        controller.error(err);
      }
    },
    cancel(reason) {
      closed = true;
      end();
      return reader.cancel(reason);
    },
  });
}

/** The `_meta` of a listen's closing result: its subscription id and the server's identity. */
export function closingMeta(rt: Runtime, id: string | number): Record<string, unknown> {
  const { name, version, title } = rt.def;
  return {
    [SUBSCRIPTION_ID_META_KEY]: id,
    [SERVER_INFO_META_KEY]: { name, version, ...(title ? { title } : {}) },
  };
}

function rpcError(id: string | number, e: RpcError): Response {
  return Response.json({
    jsonrpc: "2.0",
    id,
    error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) },
  });
}
