#!/usr/bin/env node
/**
 * The bare-SDK baseline: an `McpServer` with the fixture's `echo` tool (same schemas, same result)
 * and nothing else — no logging, no metrics, no guards. Served the way the SDK documents it: stdio
 * through `StdioServerTransport`, HTTP through `StreamableHTTPServerTransport` in stateful mode with
 * a map of sessions, on plain node:http.
 *
 *   node dist/baseline/sdk-server.js [--transport stdio|http] [--port N]
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

function createEchoServer(): McpServer {
  const server = new McpServer({ name: "sdk-baseline", version: "0.0.0" });
  server.registerTool(
    "echo",
    {
      title: "Echo a message",
      description: "Returns the message it is given, unchanged. Use it to check that the server answers.",
      inputSchema: { message: z.string().max(10_000).describe("The text to send back.") },
      outputSchema: { message: z.string() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ message }) => ({ content: [{ type: "text", text: message }], structuredContent: { message } }),
  );
  return server;
}

async function serveStdio(): Promise<void> {
  const server = createEchoServer();
  await server.connect(new StdioServerTransport());
  // The transport does not notice the end of stdin; the client closing the pipe ends the process.
  process.stdin.once("end", () => process.exit(0));
}

function serveHttp(port: number): Promise<void> {
  const transports = new Map<string, StreamableHTTPServerTransport>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url ?? "/").split("?")[0] !== "/mcp") return reply(res, 404, "not found");
    const header = req.headers["mcp-session-id"];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (req.method === "POST") {
      const body: unknown = JSON.parse((await readBody(req)).toString("utf8"));
      let transport = sessionId ? transports.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId || !isInitializeRequest(body)) return reply(res, 400, "no valid session id");
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (sid) => {
            transports.set(sid, created);
          },
        });
        created.onclose = () => {
          if (created.sessionId) transports.delete(created.sessionId);
        };
        await createEchoServer().connect(created);
        transport = created;
      }
      return transport.handleRequest(req, res, body);
    }
    if (req.method === "GET" || req.method === "DELETE") {
      const transport = sessionId ? transports.get(sessionId) : undefined;
      if (!transport) return reply(res, 400, "no valid session id");
      return transport.handleRequest(req, res);
    }
    return reply(res, 405, "method not allowed");
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`sdk-baseline: ${String(err)}\n`);
      if (!res.headersSent) reply(res, 500, "internal error");
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

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function reply(res: ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const transport = flag("transport") ?? "stdio";
const start = transport === "http" ? serveHttp(Number(flag("port") ?? 3000)) : serveStdio();
start.catch((err: unknown) => {
  process.stderr.write(`sdk-baseline: failed to start: ${String(err)}\n`);
  process.exit(1);
});
