import type { Client } from "@modelcontextprotocol/client";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { resolveDefinition, type AnyServerDefinition, type z } from "@toolshed/server";
import { hintsOf, isSelfDescribing, toolScopesOf } from "@toolshed/server/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { format } from "prettier";
import { connectHttpClient } from "./http-harness.js";
import { spawnStdioServer } from "./stdio-harness.js";
import { createTestClient, type TestClient } from "./test-client.js";
import { connectV1HttpClient, connectV1StdioClient } from "./v1-client.js";

export interface ContractOptions {
  /** The tool names the server must list (exactly). */
  tools: string[];
  resources?: string[];
  prompts?: string[];
  /** Server config for the test (defaults from the server's config schema otherwise). */
  config?: unknown;
}

/**
 * The contract every Toolshed server keeps: its tools are listed with complete metadata, their
 * schemas are valid JSON Schema objects, and bad input is answered with `isError`, never a crash.
 */
export function runContractTests(def: AnyServerDefinition, options: ContractOptions): void {
  describe(`${def.name} contract`, () => {
    let t: TestClient;
    let client: Client;
    beforeAll(async () => {
      // All mode, however many tools: the contract reads every tool's metadata from tools/list.
      t = await createTestClient(def, {
        toolMode: "all",
        ...(options.config === undefined ? {} : { config: options.config }),
      });
      client = t.client;
    });
    afterAll(async () => t?.close());

    it("in search mode, lists three tools that find and describe every tool", async () => {
      const search = await createTestClient(def, {
        toolMode: "search",
        ...(options.config === undefined ? {} : { config: options.config }),
      });
      try {
        const { tools } = await search.client.listTools();
        expect(tools.map((x) => x.name).sort()).toEqual(["call_tool", "describe_tool", "search_tools"]);
        for (const name of options.tools) {
          const described = await search.client.callTool({ name: "describe_tool", arguments: { name } });
          expect(described.isError, name).toBeFalsy();
          expect((described.structuredContent as { name?: string }).name).toBe(name);
        }
      } finally {
        await search.close();
      }
    });

    it("identifies itself", () => {
      expect(client.getServerVersion()).toMatchObject({ name: def.name, version: def.version });
    });

    it("lists exactly the expected tools", async () => {
      const { tools } = await client.listTools();
      expect(tools.map((x) => x.name).sort()).toEqual([...options.tools].sort());
    });

    it("gives every tool a title, description, annotations and object schemas", async () => {
      const { tools } = await client.listTools();
      const resolved = resolveDefinition(def, options.config);
      for (const tool of tools) {
        expect(tool.title, tool.name).toBeTruthy();
        expect(tool.description?.length ?? 0, tool.name).toBeGreaterThanOrEqual(20);
        expect(tool.inputSchema.type, tool.name).toBe("object");
        expect(tool.outputSchema?.type, tool.name).toBe("object");
        // The list leaves out hints at MCP's defaults; read by those defaults, all four are the author's.
        // (destructive/idempotent mean something only on a tool that is not read-only).
        const authored = resolved.tools.find((t) => t.name === tool.name)!.annotations;
        const read = hintsOf(tool.annotations);
        const meaningful = (h: typeof read) =>
          h.readOnlyHint
            ? { readOnlyHint: true, openWorldHint: h.openWorldHint }
            : { ...h, readOnlyHint: false };
        expect(meaningful(read), `${tool.name} annotations`).toEqual(meaningful(authored));
        // Every input field has a description, or says it all by name and type (marked selfDescribing).
        const props = (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
        const shape = (resolved.tools.find((t) => t.name === tool.name)!.input as z.ZodObject)
          .shape as Record<string, z.ZodType | undefined>;
        for (const [key, prop] of Object.entries(props)) {
          if (shape[key] && isSelfDescribing(shape[key])) continue;
          expect(prop.description, `${tool.name}.${key} description`).toBeTruthy();
        }
      }
    });

    it("gives every tool scopes: its own, or <server>:read / <server>:write from its annotations", () => {
      const resolved = resolveDefinition(def, options.config);
      const scopes = toolScopesOf(resolved);
      for (const tool of resolved.tools) {
        const expected = tool.scopes?.length
          ? tool.scopes
          : [`${def.name}:${tool.annotations.readOnlyHint === true ? "read" : "write"}`];
        expect(scopes.get(tool.name), tool.name).toEqual(expected);
      }
    });

    it("answers bad input with isError, not a crash", async () => {
      const { tools } = await client.listTools();
      for (const tool of tools) {
        const result = await client.callTool({
          name: tool.name,
          arguments: { __not_a_field__: [1, { x: null }] },
        });
        const required = tool.inputSchema.required ?? [];
        if (required.length) {
          expect(result.isError, tool.name).toBe(true);
          expect(JSON.stringify(result.content), tool.name).toMatch(/invalid_input|invalid arguments/);
        }
        // The server still answers after each bad call.
        await expect(client.ping()).resolves.toBeDefined();
      }
    });

    it("refuses an unknown tool with a JSON-RPC error that says what to do", async () => {
      await expect(client.callTool({ name: "__no_such_tool__", arguments: {} })).rejects.toThrow(
        /tools\/list/,
      );
    });

    if (options.resources) {
      it("lists the expected resources and templates", async () => {
        const caps = client.getServerCapabilities();
        expect(caps?.resources).toBeDefined();
        const names = [
          ...(await client.listResources()).resources.map((r) => r.name),
          ...(await client.listResourceTemplates()).resourceTemplates.map((r) => r.name),
        ];
        for (const name of options.resources!) expect(names).toContain(name);
      });
    }

    if (options.prompts) {
      it("lists the expected prompts", async () => {
        const { prompts } = await client.listPrompts();
        expect(prompts.map((p) => p.name).sort()).toEqual([...options.prompts!].sort());
      });
    }
  });
}

/**
 * Pins a server's `tools/list` in all mode (names, descriptions, schemas) to `file`, a path relative to the
 * calling test file, formatted as Prettier would so `prettier --check` and the snapshot agree.
 * Run vitest with `-u` to accept a deliberate change.
 */
export async function expectToolsSnapshot(
  def: AnyServerDefinition,
  options: { config?: unknown; file?: string } = {},
): Promise<void> {
  // The catalogue in all mode, also for a server that starts in search mode.
  const t = await createTestClient(def, {
    toolMode: "all",
    ...(options.config === undefined ? {} : { config: options.config }),
  });
  try {
    const { tools } = await t.client.listTools();
    const text = await format(JSON.stringify(tools), { parser: "json", printWidth: 110 });
    await expect(text).toMatchFileSnapshot(options.file ?? "__snapshots__/tools.json");
  } finally {
    await t.close();
  }
}

export interface ClientMatrixTarget {
  /** The built binary (`command args`), with its env and cwd; run over stdio and over HTTP. */
  command: string;
  args: string[];
  /** Arguments for the HTTP process, which runs beside the stdio ones (e.g. its own data dir). */
  httpArgs?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** A tool call every client makes; it must succeed. */
  call: { name: string; arguments: Record<string, unknown> };
}

const ERAS = [
  ["an SDK v2 client pinned to 2026-07-28", "modern"],
  ["an SDK v2 client that probes (versionNegotiation auto)", "auto"],
  ["an SDK v2 client on the 2025 handshake", "legacy"],
] as const;

/**
 * Every kind of client a server must serve — SDK v2 on 2026-07-28, probing, and on 2025, and the SDK
 * v1 client — over stdio and over Streamable HTTP (the real binary both times), each making one tool
 * call. `target` is read in beforeAll, so it may depend on fixtures the test file starts first.
 */
export function runClientMatrix(name: string, target: () => ClientMatrixTarget): void {
  describe(`${name} with every kind of client`, () => {
    let t: ClientMatrixTarget;
    let http: { url: string; child: ChildProcess } | undefined;
    beforeAll(async () => {
      t = target();
      http = await spawnHttpServer(t);
    });
    afterAll(async () => {
      if (!http || http.child.exitCode !== null) return;
      const exited = once(http.child, "exit");
      http.child.kill("SIGTERM");
      await exited;
    });

    const succeeds = async (client: { callTool(p: ClientMatrixTarget["call"]): Promise<unknown> }) => {
      const result = (await client.callTool(t.call)) as { isError?: boolean; content?: unknown };
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    };
    const stdioOptions = () => ({ env: t.env, cwd: t.cwd });

    for (const [label, era] of ERAS) {
      it(`serves ${label} over stdio`, async () => {
        const server = await spawnStdioServer(t.command, t.args, { ...stdioOptions(), era });
        try {
          expect(server.client.getProtocolEra()).toBe(era === "legacy" ? "legacy" : "modern");
          await succeeds(server.client);
        } finally {
          expect(await server.close()).toBe(0);
        }
      });
      it(`serves ${label} over HTTP`, async () => {
        const client = await connectHttpClient(http!.url, {}, undefined, era);
        try {
          expect(client.getProtocolEra()).toBe(era === "legacy" ? "legacy" : "modern");
          await succeeds(client);
        } finally {
          await client.close();
        }
      });
    }

    it("serves an SDK v1 client over stdio", async () => {
      const client = await connectV1StdioClient(t.command, t.args, stdioOptions());
      try {
        await succeeds(client);
      } finally {
        await client.close();
      }
    });
    it("serves an SDK v1 client over HTTP", async () => {
      const client = await connectV1HttpClient(http!.url);
      try {
        await succeeds(client);
      } finally {
        await client.close();
      }
    });
  });
}

/** Starts the binary on a free loopback port; resolves once it logs the URL it listens on. */
async function spawnHttpServer(t: ClientMatrixTarget): Promise<{ url: string; child: ChildProcess }> {
  const args = [...(t.httpArgs ?? t.args), "--transport", "http", "--host", "127.0.0.1", "--port", "0"];
  const child = spawn(t.command, args, {
    cwd: t.cwd,
    env: { ...process.env, ...t.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no HTTP listener within 30 s:\n${stderr.slice(-2000)}`)),
      30_000,
    );
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening:\n${stderr.slice(-2000)}`));
    });
  });
  return { url, child };
}
