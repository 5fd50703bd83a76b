#!/usr/bin/env node
/**
 * The bare-SDK baseline: an SDK v2 `McpServer` with the fixture's `echo` tool (same schemas, same
 * result) and nothing else — no logging, no metrics, no guards. Served both protocol eras the way the
 * SDK documents it (docs/serving/legacy-clients.md, examples/legacy-routing):
 *
 * - HTTP on plain node:http: `isLegacyRequest` routes 2025 traffic to sessionful
 *   `NodeStreamableHTTPServerTransport`s kept in a map, and 2026-07-28 requests to a strict
 *   `createMcpHandler` (a fresh server per request, no session) — the same split the kit makes;
 * - stdio through `serveStdio`, which pins each connection's era from its opening message.
 *
 *   node dist/baseline/sdk-server.js [--transport stdio|http] [--port N]
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { NodeStreamableHTTPServerTransport, toNodeHandler } from "@modelcontextprotocol/node";
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  McpServer,
} from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { z } from "zod";

function createEchoServer(): McpServer {
  const server = new McpServer({ name: "sdk-baseline", version: "0.0.0" });
  server.registerTool(
    "echo",
    {
      title: "Echo a message",
      description: "Returns the message it is given, unchanged. Use it to check that the server answers.",
      inputSchema: z.object({ message: z.string().max(10_000).describe("The text to send back.") }),
      outputSchema: z.object({ message: z.string() }),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ message }) => ({ content: [{ type: "text", text: message }], structuredContent: { message } }),
  );
  return server;
}

function serveOnStdio(): void {
  serveStdio(createEchoServer);
  // The client closing the pipe ends the process.
  process.stdin.once("end", () => process.exit(0));
}

function serveHttp(port: number): Promise<void> {
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  const modern = toNodeHandler(createMcpHandler(createEchoServer, { legacy: "reject" }));

  async function legacy(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
    const header = req.headers["mcp-session-id"];
    const sessionId = Array.isArray(header) ? header[0] : header;
    const known = sessionId ? sessions.get(sessionId) : undefined;
    if (known) return known.handleRequest(req, res, body);
    if (sessionId) return reply(res, 404, -32001, "Session not found");
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      return reply(res, 400, -32000, "Bad Request: Session ID required");
    }
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await createEchoServer().connect(transport);
    return transport.handleRequest(req, res, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url ?? "/").split("?")[0] !== "/mcp") return reply(res, 404, -32000, "not found");
    if (req.method === "GET" || req.method === "DELETE") return legacy(req, res);
    if (req.method !== "POST") return reply(res, 405, -32000, "method not allowed");
    const body: unknown = JSON.parse((await readBody(req)).toString("utf8"));
    if (await isLegacyRequest(webRequest(req), body)) return legacy(req, res, body);
    return modern(req, res, body);
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`sdk-baseline: ${String(err)}\n`);
      if (!res.headersSent) reply(res, 500, -32603, "internal error");
      else res.end();
    });
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      http.closeAllConnections();
      http.close(() => process.exit(0));
    });
  }
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => {
      process.stderr.write(`sdk-baseline listening on http://127.0.0.1:${port}/mcp\n`);
      resolve();
    });
  });
}

/** Method and headers as the era classifier reads them; the parsed body is passed beside it. */
function webRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return new Request(`http://localhost${req.url ?? "/"}`, { method: req.method ?? "POST", headers });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function reply(res: ServerResponse, status: number, code: number, message: string): void {
  res
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

if (flag("transport") === "http") {
  serveHttp(Number(flag("port") ?? 3000)).catch((err: unknown) => {
    process.stderr.write(`sdk-baseline: failed to start: ${String(err)}\n`);
    process.exit(1);
  });
} else {
  serveOnStdio();
}
