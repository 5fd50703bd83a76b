import { StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import type { Readable, Writable } from "node:stream";
import { createMcpServer, instrumentTransport } from "./connection.js";
import { guardInput, LineGuard } from "./line-guard.js";
import type { Runtime } from "./runtime.js";

export interface StdioHandle {
  /** Resolves when the client closes stdin or the transport closes. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Serves one client over stdin/stdout. stdout carries protocol only; logs go to stderr. */
export async function serveStdio(
  rt: Runtime,
  streams: { stdin?: Readable; stdout?: Writable; maxMessageBytes?: number } = {},
): Promise<StdioHandle> {
  const stdin = streams.stdin ?? process.stdin;
  const stdout = streams.stdout ?? process.stdout;
  const maxBytes = streams.maxMessageBytes ?? 4 * 1024 * 1024;
  const guarded = guardInput(
    stdin,
    new LineGuard(maxBytes, () => {
      rt.logger.warn({ maxBytes }, "dropped an oversized message");
      stdout.write(
        `${JSON.stringify({
          // Its id is unknowable; MCP's schema lets an error omit it (a null id would not parse).
          jsonrpc: "2.0",
          error: { code: -32600, message: `message exceeds ${maxBytes} bytes; send smaller requests` },
        })}\n`,
      );
    }),
  );
  const transport = new StdioServerTransport(guarded, stdout);
  const mcp = createMcpServer(rt);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  await mcp.connect(transport);
  instrumentTransport(rt, transport, "pipe");
  rt.metrics.sessionsActive.inc();
  const previous = transport.onclose;
  transport.onclose = () => {
    previous?.();
    rt.metrics.sessionsActive.dec();
    resolveClosed();
  };
  // The SDK transport does not notice the end of stdin; a client closing the pipe ends the session.
  stdin.once("end", resolveClosed);
  stdin.once("close", resolveClosed);
  return { closed, close: () => mcp.close() };
}
