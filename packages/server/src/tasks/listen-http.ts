import {
  type JSONRPCMessage,
  type JSONRPCNotification,
  type McpHandlerRequestOptions,
} from "@modelcontextprotocol/server";
import { closingMeta } from "../http/listen-follow.js";
import { RpcError } from "../rpc-error.js";
import type { Runtime } from "../runtime.js";
import { principalFromAuthInfo } from "../principal.js";
import { acknowledges, listensToTasks, TaskListen, withTaskIds } from "./listen.js";

type Fetch = (request: Request, options?: McpHandlerRequestOptions) => Promise<Response>;

/** How often an idle listen stream carries an SSE comment, so proxies do not time it out. */
const KEEP_ALIVE_MS = 15_000;

export interface TaskListenFetch {
  fetch: Fetch;
  /** Ends every open stream gracefully (the listen result), as the server shuts down. */
  closeAll(): void;
}

/**
 * The 2026-07-28 HTTP lane's fetch with task status notifications: a subscriptions/listen naming
 * task ids is served by the SDK (which validates it and delivers the change kinds) and its stream is
 * extended here: the acknowledgement lists the honored task ids, `notifications/tasks` are added,
 * and the stream stays open for them even when the SDK's part asked for nothing else.
 */
export function withTaskListen(rt: Runtime, sdkFetch: Fetch): TaskListenFetch {
  const open = new Set<() => void>();

  const fetch: Fetch = async (request, options) => {
    const body = options?.parsedBody;
    if (!rt.servesTasks || !listensToTasks(body)) return sdkFetch(request, options);
    const owner = options?.authInfo ? principalFromAuthInfo(options.authInfo).id : "";
    let listen: TaskListen;
    try {
      listen = await TaskListen.open(rt, body.params, owner, options?.authInfo);
    } catch (err) {
      const e = RpcError.from(err);
      return Response.json(
        {
          jsonrpc: "2.0",
          id: body.id,
          error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) },
        },
        { status: e.code === -32021 ? 400 : 200 },
      );
    }
    if (listen.taskIds.length === 0) return sdkFetch(request, options);
    const response = await sdkFetch(request, options);
    const sse = response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
    if (!sse || !response.body) {
      // Refused by the SDK (headers, envelope, version): its answer stands.
      listen.close();
      return response;
    }
    const id = body.id;
    const reader = response.body.getReader();
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    let keepAlive: NodeJS.Timeout | undefined;
    const write = (frame: string) => {
      if (closed) return;
      try {
        controller.enqueue(encoder.encode(frame));
      } catch {
        // the client is gone; cancel() tears down
      }
    };
    const writeMessage = (message: JSONRPCMessage) =>
      write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    const finish = (graceful: boolean) => {
      if (closed) return;
      if (graceful) {
        writeMessage({
          jsonrpc: "2.0",
          id,
          result: { resultType: "complete", _meta: closingMeta(rt, id) },
        });
      }
      closed = true;
      listen.close();
      clearInterval(keepAlive);
      open.delete(closeGracefully);
      reader.cancel().catch(() => {});
      try {
        controller.close();
      } catch {
        // already closed
      }
    };
    const closeGracefully = () => finish(true);
    open.add(closeGracefully);
    // A forwarded task no longer followed ends the stream with its result: the caller polls or listens again.
    listen.whenLost(closeGracefully);
    const pump = async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        let chunk: { done: boolean; value?: Uint8Array };
        try {
          chunk = (await reader.read()) as { done: boolean; value?: Uint8Array };
        } catch {
          return; // the SDK's part failed or was cancelled: finish() has run or the client is gone
        }
        // The SDK's part ended (it had nothing else to send): the tasks keep the stream open.
        if (chunk.done || closed) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          const frame = buffer.slice(0, cut + 2);
          buffer = buffer.slice(cut + 2);
          const message = messageOf(frame);
          if (message && acknowledges(message, id)) {
            writeMessage(withTaskIds(message, listen.taskIds));
            listen.start(id, writeMessage);
          } else if (!(message && "id" in message && "result" in message)) {
            // Everything but the SDK's closing result, which this stream sends itself when it ends.
            write(frame);
          }
        }
      }
    };
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        keepAlive = setInterval(() => write(": keepalive\n\n"), KEEP_ALIVE_MS);
        keepAlive.unref();
        void pump();
      },
      cancel() {
        finish(false);
      },
    });
    if (request.signal.aborted) finish(false);
    else request.signal.addEventListener("abort", () => finish(false), { once: true });
    return new Response(stream, { status: response.status, headers: response.headers });
  };

  return {
    fetch,
    closeAll() {
      for (const close of [...open]) close();
    },
  };
}

/** The JSON-RPC message of one SSE frame, or undefined for a comment or anything unreadable. */
function messageOf(frame: string): (JSONRPCNotification & { id?: unknown; result?: unknown }) | undefined {
  const data = frame
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trimStart())
    .join("\n");
  if (data === "") return undefined;
  try {
    return JSON.parse(data) as JSONRPCNotification & { id?: unknown; result?: unknown };
  } catch {
    return undefined;
  }
}
