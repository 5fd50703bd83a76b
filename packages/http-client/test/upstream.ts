import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ToolshedError } from "@toolshed/errors";
import { expect } from "vitest";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface Upstream {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request the server received, in arrival order: the attempt count as the server saw it. */
  readonly seen: SeenRequest[];
  /** Requests being handled right now, and the most at once. */
  readonly inFlight: { now: number; max: number };
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  seen: SeenRequest,
  index: number,
) => void | Promise<void>;

/**
 * A real node:http server on 127.0.0.1 that misbehaves on purpose. It counts requests and keeps
 * their headers; `close()` drops every connection, and an unref'd timer closes it anyway after
 * `lifetimeMs`, so no test leaves it running.
 */
export async function startUpstream(handler: Handler, lifetimeMs = 20_000): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const inFlight = { now: 0, max: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const entry: SeenRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(entry);
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        inFlight.now--;
      };
      res.once("close", finish);
      Promise.resolve(handler(req, res, entry, seen.length - 1)).catch(() => {
        res.destroy();
      });
    });
  });
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const stop = setTimeout(() => void close(), lifetimeMs);
  stop.unref();
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    clearTimeout(stop);
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  }
  return { port, url: `http://127.0.0.1:${port}`, seen, inFlight, connections: () => connections, close };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Resolves after `ms`, for slow handlers. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The ToolshedError a request fails with; fails the test when it succeeds or throws something else. */
export async function failure(promise: Promise<unknown>): Promise<ToolshedError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ToolshedError);
    return err as ToolshedError;
  }
  throw new Error("expected the request to fail");
}
