// A real 2025-only upstream: a server written with the v1 TypeScript SDK (`@modelcontextprotocol/sdk`,
// McpServer over its stateful Streamable HTTP transport, a session per client), as most MCP servers
// in the wild are today, behind the gateway (era probed, not pinned). Clients of both eras reach its
// tools (output schemas and structured results), progress, cancellation, questions (its
// elicitation/create, answered by a 2026-07-28 caller through input_required), log messages,
// resources and prompts. Real HTTP on loopback at every hop.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { connectHttpClient, MODERN_PROTOCOL_VERSION } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { startGateway, textOf, type TestGateway, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** What the v1 upstream saw: calls cancelled by their signal, and answers to its questions. */
const seen = {
  aborted: 0,
  answers: [] as unknown[],
  protocolVersions: new Set<string>(),
  /** Per count call, whether it came with a progressToken. */
  progressAsked: [] as boolean[],
};

function v1Server(): McpServer {
  const server = new McpServer({ name: "v1-upstream", version: "1.0.0" }, { capabilities: { logging: {} } });
  server.registerTool(
    "add",
    {
      description: "Adds two numbers.",
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
      annotations: { readOnlyHint: true },
    },
    ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );
  server.registerTool(
    "count",
    {
      description: "Counts to `to`, reporting progress and logging each step.",
      inputSchema: { to: z.number() },
    },
    async ({ to }, extra) => {
      seen.progressAsked.push(extra._meta?.progressToken !== undefined);
      for (let i = 1; i <= to; i++) {
        if (extra.signal.aborted) {
          seen.aborted++;
          return { content: [{ type: "text", text: "stopped" }] };
        }
        const token = extra._meta?.progressToken;
        if (token !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken: token, progress: i, total: to },
          });
        }
        // On the call's own stream (a notification related to the request), where the gateway
        // matches log messages to their call.
        await extra.sendNotification({
          method: "notifications/message",
          params: { level: "info", logger: "count", data: `step ${i}` },
        });
        await new Promise((r) => setTimeout(r, 40));
      }
      return { content: [{ type: "text", text: `counted to ${to}` }] };
    },
  );
  server.registerTool(
    "delete_thing",
    { description: "Deletes a thing after asking the user to confirm.", inputSchema: { name: z.string() } },
    async ({ name }) => {
      const answer = await server.server.elicitInput({
        message: `Delete ${name}?`,
        requestedSchema: {
          type: "object",
          properties: { confirm: { type: "boolean", title: "Delete it" } },
          required: ["confirm"],
        },
      });
      seen.answers.push(answer);
      const yes = answer.action === "accept" && answer.content?.confirm === true;
      return { content: [{ type: "text", text: yes ? `deleted ${name}` : `kept ${name}` }] };
    },
  );
  server.registerResource("readme", "v1://readme", { mimeType: "text/plain" }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: "hello from a v1 server" }],
  }));
  server.registerPrompt(
    "greet",
    { description: "Greets someone.", argsSchema: { who: z.string() } },
    ({ who }) => ({ messages: [{ role: "user", content: { type: "text", text: `Say hello to ${who}.` } }] }),
  );
  return server;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : undefined;
}

/** The v1 SDK's stateful Streamable HTTP server, as its README sets it up: a transport per session. */
async function startV1Upstream(): Promise<{ url: string; close(): Promise<void> }> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http: Server = createServer((req, res) => {
    void (async () => {
      const version = req.headers["mcp-protocol-version"];
      if (typeof version === "string") seen.protocolVersions.add(version);
      const sid = req.headers["mcp-session-id"];
      const body = req.method === "POST" ? await readBody(req) : undefined;
      let transport = typeof sid === "string" ? transports.get(sid) : undefined;
      if (!transport && req.method === "POST" && isInitializeRequest(body)) {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void transports.set(id, created),
        });
        created.onclose = () => {
          if (created.sessionId) transports.delete(created.sessionId);
        };
        await v1Server().connect(created);
        transport = created;
      }
      if (!transport) {
        res.writeHead(400, { "content-type": "application/json" }).end(
          JSON.stringify({
            jsonrpc: "2.0",
            error: { code: -32000, message: "Bad Request: No valid session ID provided" },
            id: null,
          }),
        );
        return;
      }
      await transport.handleRequest(req, res, body);
    })().catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500).end(err.message);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async close() {
      for (const t of transports.values()) await t.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

let upstream: { url: string; close(): Promise<void> };
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startV1Upstream();
  gw = await startGateway(`upstreams:\n  v1:\n    url: ${upstream.url}\n`);
  const { gateway } = await gw.deps();
  expect(gateway.down()).toEqual([]);
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

it("is reached on the 2025 handshake: the gateway's probe falls back when server/discover is not spoken", async () => {
  const { gateway } = await gw.deps();
  expect(gateway.upstreams.get("v1")!.era).toBe("legacy");
  // The probe's one server/discover carried 2026-07-28; the session speaks a 2025 revision.
  expect([...seen.protocolVersions].filter((v) => v !== MODERN_PROTOCOL_VERSION)).toEqual([
    expect.stringMatching(/^2025-/),
  ]);
});

describe.each(["modern", "legacy"] as const)("a %s client", (era) => {
  it("lists and calls its tools, with their output schemas and structured results", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        "read_result",
        "v1__add",
        "v1__count",
        "v1__delete_thing",
      ]);
      const add = tools.find((t) => t.name === "v1__add")!;
      expect(add.outputSchema).toMatchObject({ type: "object", properties: { sum: { type: "number" } } });
      expect(add.annotations?.readOnlyHint).toBe(true);
      const r = (await client.callTool({ name: "v1__add", arguments: { a: 2, b: 40 } })) as ToolResultShape;
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent).toEqual({ sum: 42 });
      expect(textOf(r)).toBe("42");
      // Its own argument check answers as it does: a tool error (or a JSON-RPC error) naming the field.
      const bad = await client.callTool({ name: "v1__add", arguments: { a: "two", b: 1 } }).then(
        (result) => {
          expect((result as ToolResultShape).isError).toBe(true);
          return textOf(result as ToolResultShape);
        },
        (err: Error) => err.message,
      );
      expect(bad).toMatch(/invalid/i);
    } finally {
      await client.close();
    }
  });

  it("passes its progress and log messages on during a call", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    const logs: unknown[] = [];
    client.setNotificationHandler("notifications/message", (n) => void logs.push(n.params.data));
    try {
      if (era === "legacy") await client.setLoggingLevel("info");
      const progress: number[] = [];
      const r = (await client.callTool(
        {
          name: "v1__count",
          arguments: { to: 4 },
          ...(era === "modern" ? { _meta: { "io.modelcontextprotocol/logLevel": "info" } } : {}),
        },
        { onprogress: (p) => progress.push(p.progress) },
      )) as ToolResultShape;
      expect(textOf(r)).toBe("counted to 4");
      expect(progress).toEqual([1, 2, 3, 4]);
      expect(logs).toEqual(["step 1", "step 2", "step 3", "step 4"]);
    } finally {
      await client.close();
    }
  });

  it("is asked for progress only when the caller asked for it (reporting it costs the upstream work)", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    try {
      const before = seen.progressAsked.length;
      await client.callTool({ name: "v1__count", arguments: { to: 1 } });
      await client.callTool({ name: "v1__count", arguments: { to: 1 } }, { onprogress: () => {} });
      expect(seen.progressAsked.slice(before)).toEqual([false, true]);
    } finally {
      await client.close();
    }
  });

  it("relays its question to the caller and its answer back", async () => {
    const client = await connectHttpClient(gw.url, { elicitation: { form: {} } }, undefined, era);
    const asked: string[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(String((request.params as { message?: string }).message));
      return Promise.resolve({ action: "accept", content: { confirm: true } });
    });
    try {
      const before = seen.answers.length;
      const r = (await client.callTool({
        name: "v1__delete_thing",
        arguments: { name: `box-${era}` },
      })) as ToolResultShape;
      expect(textOf(r)).toBe(`deleted box-${era}`);
      expect(asked).toEqual([`Delete box-${era}?`]);
      expect(seen.answers.slice(before)).toEqual([{ action: "accept", content: { confirm: true } }]);
    } finally {
      await client.close();
    }
  });

  it("reads its resources and gets its prompts", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    try {
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toContain("v1+v1://readme");
      const read = await client.readResource({ uri: "v1+v1://readme" });
      expect(read.contents).toEqual([
        { uri: "v1+v1://readme", mimeType: "text/plain", text: "hello from a v1 server" },
      ]);
      const prompt = await client.getPrompt({ name: "v1__greet", arguments: { who: "Ada" } });
      expect(prompt.messages[0]!.content).toEqual({ type: "text", text: "Say hello to Ada." });
    } finally {
      await client.close();
    }
  });
});

it("cancels the v1 server's call when the caller cancels", async () => {
  const client = await connectHttpClient(gw.url, {}, undefined, "modern");
  try {
    const before = seen.aborted;
    const controller = new AbortController();
    const call = client.callTool(
      { name: "v1__count", arguments: { to: 200 } },
      { signal: controller.signal, onprogress: () => {} },
    );
    setTimeout(() => controller.abort(), 300);
    await expect(call).rejects.toThrow();
    for (const until = Date.now() + 10_000; seen.aborted === before && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen.aborted).toBe(before + 1);
  } finally {
    await client.close();
  }
});
