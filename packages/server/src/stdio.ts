import { serveStdio as serveStdioEntry, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import type { Readable, Writable } from "node:stream";
import { kitServerFactory } from "./connection.js";
import { guardInput, LineGuard } from "./line-guard.js";
import type { Runtime } from "./runtime.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./define.js";
import { followResourcesOnPipe } from "./stdio-listen-follow.js";
import { serveTaskListensOnPipe } from "./tasks/listen.js";
import { invalidLineAnswer, ReportingReadBuffer } from "./stdio-read-buffer.js";

export interface StdioHandle {
  /** Resolves when the client closes stdin or the transport closes. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves one client over stdin/stdout, in whichever era its first message opens: the 2025 handshake
 * (initialize) or 2026-07-28 (server/discover, per-request `_meta`). stdout carries protocol only;
 * logs go to stderr.
 */
export function serveStdio(
  rt: Runtime,
  streams: { stdin?: Readable; stdout?: Writable; maxMessageBytes?: number } = {},
): Promise<StdioHandle> {
  const stdin = streams.stdin ?? process.stdin;
  const stdout = streams.stdout ?? process.stdout;
  const maxBytes = streams.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const guarded = guardInput(
    stdin,
    new LineGuard(maxBytes, (id) => {
      rt.logger.warn({ maxBytes, id }, "dropped an oversized message");
      stdout.write(
        `${JSON.stringify({
          // The id when it could be read off the line's ends (so the client's call fails at once);
          // otherwise none: MCP's schema lets an error omit it (a null id would not parse).
          jsonrpc: "2.0",
          ...(id === undefined ? {} : { id }),
          error: { code: -32600, message: `message exceeds ${maxBytes} bytes; send smaller requests` },
        })}\n`,
      );
    }),
  );
  const transport = new StdioServerTransport(guarded, stdout);
  coalesceWrites(transport, stdout);
  // The SDK's reader would drop a non-JSON line silently; this one answers it and logs it.
  const reader = transport as unknown as { _readBuffer?: unknown };
  if (reader._readBuffer === undefined) {
    rt.logger.warn("the SDK's stdio transport changed: invalid lines go unanswered");
  } else {
    reader._readBuffer = new ReportingReadBuffer((kind, id) => {
      rt.logger.warn({ reason: kind }, "answered an invalid stdio line with an error");
      stdout.write(invalidLineAnswer(kind, id));
    });
  }
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  // The entry owns the transport and picks the era from the opening message; each server instance it
  // builds (the pinned one, and a discarded discover probe) is instrumented as it connects.
  const entry = serveStdioEntry(kitServerFactory(rt, "pipe", maxBytes), {
    transport,
    onerror: (err) => rt.logger.debug({ err }, "stdio message refused or failed"),
  });
  // Listens naming a forwarding server's resources follow them (first: the task part wraps it, and
  // so hears of a listen this part refuses); listens naming task ids also get the tasks' status
  // notifications (the entry knows only changes).
  const endFollows = followResourcesOnPipe(rt, transport);
  const endTaskListens = serveTaskListensOnPipe(rt, transport);
  rt.metrics.sessionsActive.inc();
  void closed.then(() => {
    endTaskListens();
    endFollows();
    rt.metrics.sessionsActive.dec();
  });
  const onclose = transport.onclose;
  transport.onclose = () => {
    onclose?.();
    resolveClosed();
  };
  // A client closing the pipe ends the session.
  stdin.once("end", resolveClosed);
  stdin.once("close", resolveClosed);
  return Promise.resolve({ closed, close: () => entry.close() });
}

/**
 * Messages sent in one turn of the event loop leave in one write: the first send of a turn corks
 * stdout and the turn's end uncorks it, so answers to calls that arrived together (a client with
 * calls in flight) cost one syscall, not one each. Order is kept (cork buffers every write to the
 * stream, the kit's own error lines too), and nothing waits longer than the current turn.
 */
function coalesceWrites(transport: StdioServerTransport, stdout: Writable): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    stdout.uncork();
  };
  const send = transport.send.bind(transport);
  transport.send = (message) => {
    if (!corked && !stdout.writableEnded) {
      corked = true;
      stdout.cork();
      process.nextTick(uncork);
    }
    return send(message);
  };
}
