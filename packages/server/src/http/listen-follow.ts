import type { McpHandlerRequestOptions } from "@modelcontextprotocol/server";
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
    for (const uri of listen.uris) {
      try {
        ends.push(await subscriptions.subscribe(deps, uri, principal));
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
    return new Response(endingWith(response.body, endAll), {
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

/** `body` as it is, calling `end` once when it finishes or its reader cancels it. */
function endingWith(body: ReadableStream<Uint8Array>, end: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          end();
          controller.close();
        } else controller.enqueue(chunk.value);
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
}

function rpcError(id: string | number, e: RpcError): Response {
  return Response.json({
    jsonrpc: "2.0",
    id,
    error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) },
  });
}
