import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { createLogger } from "@toolshed/logging";
import { authFromSettings, defineServer, defineTool, z, type AnyTool } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  actAsPerson,
  eventually,
  spawnStdioServer,
  startTestHttpServer,
  textOf,
  type Era,
  type TestHttpServer,
} from "../src/index.js";

// Search mode: above the threshold (or when asked), tools/list answers search_tools, describe_tool
// and call_tool, and call_tool runs a tool exactly as a direct call of it would.

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));
const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

const notes: { title: string; body: string }[] = [];
const events = { cancelled: 0, deleted: [] as string[] };

const createNote = defineTool({
  name: "create_note",
  title: "Create a note",
  description: "Saves a new note with a title and a body. Answers the note's id.",
  input: z.object({
    title: z.string().min(1).describe("The note's title."),
    body: z.string().describe("The note's text."),
  }),
  output: z.object({ id: z.string(), title: z.string() }),
  annotations: write,
  handler: ({ title, body }) => {
    notes.push({ title, body });
    return { id: `note-${notes.length}`, title };
  },
});
const listNotes = defineTool({
  name: "list_notes",
  title: "List notes",
  description: "Lists the saved notes, newest first.",
  input: z.object({ limit: z.number().int().min(1).max(100).optional().describe("How many notes.") }),
  output: z.object({ titles: z.array(z.string()) }),
  annotations: read,
  handler: ({ limit }) => ({
    titles: notes
      .map((n) => n.title)
      .reverse()
      .slice(0, limit ?? 100),
  }),
});
const exportArchive = defineTool({
  name: "export_archive",
  title: "Export the archive",
  description: "Writes every note into a zip archive, reporting progress; stops when cancelled.",
  input: z.object({ steps: z.number().int().min(1).max(1000).describe("How many steps to take.") }),
  output: z.object({ steps: z.number() }),
  annotations: read,
  handler: async ({ steps }, ctx) => {
    try {
      for (let step = 1; step <= steps; step++) {
        await sleep(20, undefined, { signal: ctx.signal });
        await ctx.progress(step, steps, `step ${step}`);
      }
    } catch (err) {
      if (ctx.signal.aborted) events.cancelled++;
      throw err;
    }
    return { steps };
  },
});
const sleepy = defineTool({
  name: "sleepy_report",
  title: "A report that takes too long",
  description: "Builds a yearly report; never finishes within its 300 ms deadline.",
  input: z.object({}),
  output: z.object({ done: z.boolean() }),
  annotations: read,
  timeoutMs: 300,
  handler: async (_args, ctx) => {
    await sleep(60_000, undefined, { signal: ctx.signal });
    return { done: true };
  },
});
const deleteNote = defineTool({
  name: "delete_note",
  title: "Delete a note",
  description: "Deletes a note by title, after the user confirms.",
  input: z.object({ title: z.string().describe("The note's title.") }),
  output: z.object({ deleted: z.boolean() }),
  annotations: { ...write, destructiveHint: true },
  handler: async ({ title }, ctx) => {
    if (!(await ctx.confirm(`Delete the note '${title}'?`))) return { deleted: false };
    events.deleted.push(title);
    return { deleted: true };
  },
});
// Enough others that `auto` turns to search mode (the default threshold is 40).
const filler: AnyTool[] = Array.from({ length: 40 }, (_, i) =>
  defineTool({
    name: `gauge_${i}`,
    title: `Read gauge ${i}`,
    description: `Reads the pressure of boiler gauge number ${i}.`,
    input: z.object({}),
    output: z.object({ value: z.number() }),
    annotations: read,
    handler: () => ({ value: i }),
  }),
);

const server = defineServer({
  name: "notebook",
  version: "1.0.0",
  tools: [createNote, listNotes, exportArchive, sleepy, deleteNote, ...filler],
  // A renamed tool: its callers are told the new name (the error says it; the call is not redirected).
  unknownToolHint: (name) => (name === "add_note" ? "it is create_note now" : undefined),
});

const META = ["call_tool", "describe_tool", "search_tools"];
const names = (tools: { name: string }[]) => tools.map((t) => t.name).sort();
const data = (r: unknown) => (r as { structuredContent: Record<string, unknown> }).structuredContent;

describe.each<{ era: Era }>([{ era: "legacy" }, { era: "modern" }])(
  "search mode over HTTP ($era)",
  ({ era }) => {
    let srv: TestHttpServer;
    beforeAll(async () => {
      srv = await startTestHttpServer(server);
    });
    afterAll(async () => srv.close(1_000));

    it("lists three tools above the threshold, and finds, describes and calls the right one", async () => {
      const client = await srv.connect({}, undefined, era);
      try {
        expect(names((await client.listTools()).tools)).toEqual(META);

        const found = data(
          await client.callTool({ name: "search_tools", arguments: { query: "write a new note" } }),
        );
        const results = found.results as { name: string; title: string; summary: string }[];
        expect(results[0]).toMatchObject({
          name: "create_note",
          title: "Create a note",
          summary: "Saves a new note with a title and a body.",
        });
        expect(results.length).toBeLessThanOrEqual(8);
        const few = data(
          await client.callTool({ name: "search_tools", arguments: { query: "gauge", limit: 3 } }),
        );
        expect(few.results).toHaveLength(3);
        const none = data(await client.callTool({ name: "search_tools", arguments: { query: "zzqx" } }));
        expect(none).toMatchObject({ results: [], hint: expect.stringMatching(/other words/) });

        const described = data(
          await client.callTool({ name: "describe_tool", arguments: { name: "create_note" } }),
        );
        expect(described).toMatchObject({
          name: "create_note",
          title: "Create a note",
          inputSchema: { type: "object", required: ["title", "body"] },
          outputSchema: { type: "object" },
        });
        // Only the hints MCP would not assume (readOnly false and idempotent false are its defaults).
        expect((described as { annotations?: unknown }).annotations).toEqual({
          destructiveHint: false,
          openWorldHint: false,
        });

        const viaSearch = await client.callTool({
          name: "call_tool",
          arguments: { name: "create_note", arguments: { title: "groceries", body: "eggs" } },
        });
        expect(viaSearch.isError).toBeFalsy();
        expect(data(viaSearch)).toEqual({ id: `note-${notes.length}`, title: "groceries" });
        // A client that knows the name may still call the tool directly; the answer has the same shape.
        const direct = await client.callTool({
          name: "create_note",
          arguments: { title: "direct", body: "x" },
        });
        expect(data(direct)).toEqual({ id: `note-${notes.length}`, title: "direct" });
        expect(Object.keys(viaSearch).sort()).toEqual(Object.keys(direct).sort());
      } finally {
        await client.close();
      }
    });

    it("answers bad names and bad arguments with errors a model can act on", async () => {
      const client = await srv.connect({}, undefined, era);
      try {
        const unknown = await client.callTool({
          name: "call_tool",
          arguments: { name: "make_note", arguments: {} },
        });
        expect(unknown.isError).toBe(true);
        expect(textOf(unknown)).toMatch(/no tool named 'make_note'; call search_tools to find one/);
        const undescribed = await client.callTool({
          name: "describe_tool",
          arguments: { name: "make_note" },
        });
        expect(undescribed.isError).toBe(true);
        expect(textOf(undescribed)).toMatch(/not_found|no tool named 'make_note'/);
        // The server's advice for a name it knew once, both through call_tool and called directly.
        const renamed = await client.callTool({
          name: "call_tool",
          arguments: { name: "add_note", arguments: {} },
        });
        expect(textOf(renamed)).toMatch(
          /no tool named 'add_note' \(it is create_note now\); call search_tools to find one/,
        );
        await expect(client.callTool({ name: "add_note", arguments: {} })).rejects.toThrow(
          /unknown tool 'add_note' \(it is create_note now\); call tools\/list to see the available tools/,
        );
        // The tool's own validation applies, naming the tool.
        const invalid = await client.callTool({
          name: "call_tool",
          arguments: { name: "create_note", arguments: { title: "" } },
        });
        expect(invalid.isError).toBe(true);
        expect(textOf(invalid)).toMatch(/invalid arguments for tool 'create_note'/);
        const noQuery = await client.callTool({ name: "search_tools", arguments: { query: " " } });
        expect(noQuery.isError).toBe(true);
        expect(textOf(noQuery)).toMatch(/search_tools needs `query`/);
        const badArguments = await client.callTool({
          name: "call_tool",
          arguments: { name: "create_note", arguments: "title=x" },
        });
        expect(badArguments.isError).toBe(true);
        expect(textOf(badArguments)).toMatch(/invalid arguments for tool 'call_tool'/);
      } finally {
        await client.close();
      }
    });

    it("passes progress and cancellation through call_tool, and enforces the tool's deadline", async () => {
      const client = await srv.connect({}, undefined, era);
      try {
        const progress: number[] = [];
        const done = await client.callTool(
          { name: "call_tool", arguments: { name: "export_archive", arguments: { steps: 3 } } },
          { onprogress: (p) => progress.push(p.progress) },
        );
        expect(data(done)).toEqual({ steps: 3 });
        expect(progress).toEqual([1, 2, 3]);

        const before = events.cancelled;
        const abort = new AbortController();
        const pending = client.callTool(
          { name: "call_tool", arguments: { name: "export_archive", arguments: { steps: 1000 } } },
          { signal: abort.signal, onprogress: () => abort.abort() },
        );
        await expect(pending).rejects.toThrow();
        await eventually(() => expect(events.cancelled).toBe(before + 1));

        const late = await client.callTool({ name: "call_tool", arguments: { name: "sleepy_report" } });
        expect(late.isError).toBe(true);
        expect(textOf(late)).toMatch(/tool 'sleepy_report' did not finish within 0.3s/);
      } finally {
        await client.close();
      }
    });

    it("asks the person before a destructive call through call_tool, as a direct call does", async () => {
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      try {
        const asked = actAsPerson(client, () => ({ action: "accept", content: { confirm: true } }));
        const r = await client.callTool({
          name: "call_tool",
          arguments: { name: "delete_note", arguments: { title: `old-${era}` } },
        });
        expect(data(r)).toEqual({ deleted: true });
        expect(asked).toEqual([`Delete the note 'old-${era}'?`]);
        expect(events.deleted).toContain(`old-${era}`);
      } finally {
        await client.close();
      }
    });

    it("counts a call through call_tool under the tool's own name in /metrics", async () => {
      const client = await srv.connect({}, undefined, era);
      try {
        await client.callTool({ name: "call_tool", arguments: { name: "list_notes", arguments: {} } });
      } finally {
        await client.close();
      }
      const text = await (await fetch(srv.url.replace("/mcp", "/metrics"))).text();
      expect(text).toMatch(/mcp_server_operation_duration_seconds_count\{[^}]*tool="list_notes"/);
    });
  },
);

describe("choosing the mode", () => {
  it("lists every tool in all mode, and at or below the threshold in auto mode", async () => {
    const all = await startTestHttpServer(server, {}, { toolMode: "all" });
    const roomy = await startTestHttpServer(server, {}, { searchThreshold: 45 });
    const small = await startTestHttpServer(
      defineServer({ name: "small", version: "1.0.0", tools: [createNote] }),
    );
    const forced = await startTestHttpServer(
      defineServer({ name: "small", version: "1.0.0", tools: [createNote], toolMode: "search" }),
    );
    try {
      for (const [srv, expected] of [
        [all, 45],
        [roomy, 45],
        [small, 1],
        [forced, 3],
      ] as const) {
        const client = await srv.connect();
        expect((await client.listTools()).tools, srv.url).toHaveLength(expected);
        await client.close();
      }
    } finally {
      await Promise.all([all, roomy, small, forced].map((s) => s.close(1_000)));
    }
  });
});

describe("search mode with auth", () => {
  const reader = generateApiKey();
  let srv: TestHttpServer;
  beforeAll(async () => {
    const logger = createLogger({ name: "search-auth", level: "silent" });
    const auth = authFromSettings(
      { serverName: "notebook", apiKeys: `r:${hashApiKey(reader)}:notebook:read` },
      "http://127.0.0.1/mcp",
      logger,
    );
    srv = await startTestHttpServer(server, { auth: auth! }, { logger });
  });
  afterAll(async () => srv.close(1_000));

  it("finds and describes only what the caller may use, and call_tool checks the tool's scopes", async () => {
    const client = await srv.connect({}, { authorization: `Bearer ${reader}` }, "modern");
    try {
      const found = data(await client.callTool({ name: "search_tools", arguments: { query: "note" } }));
      const hits = (found.results as { name: string }[]).map((r) => r.name);
      expect(hits).toContain("list_notes");
      expect(hits).not.toContain("create_note");
      const described = await client.callTool({ name: "describe_tool", arguments: { name: "create_note" } });
      expect(textOf(described)).toMatch(/no tool named 'create_note'/);
      const denied = await client.callTool({
        name: "call_tool",
        arguments: { name: "create_note", arguments: { title: "t", body: "b" } },
      });
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toMatch(/needs scope notebook:write/);
      const allowed = await client.callTool({
        name: "call_tool",
        arguments: { name: "list_notes", arguments: {} },
      });
      expect(allowed.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});

describe.each<{ era: Era; how: string; args: string[]; env: Record<string, string> }>([
  { era: "legacy", how: "--tool-mode search", args: ["--tool-mode", "search"], env: {} },
  { era: "modern", how: "TOOLSHED_TOOL_MODE=search", args: [], env: { TOOLSHED_TOOL_MODE: "search" } },
])("search mode over stdio ($era, $how)", ({ era, args, env }) => {
  it("lists three tools, finds echo and calls it", async () => {
    const proc = await spawnStdioServer(process.execPath, [BIN, ...args], { era, env });
    try {
      expect(names((await proc.client.listTools()).tools)).toEqual(META);
      const found = data(
        await proc.client.callTool({
          name: "search_tools",
          arguments: { query: "send back a message", limit: 3 },
        }),
      );
      expect((found.results as { name: string }[]).map((r) => r.name)).toContain("echo");
      const echoed = await proc.client.callTool({
        name: "call_tool",
        arguments: { name: "echo", arguments: { message: "through search" } },
      });
      expect(textOf(echoed)).toBe("through search");
      expect(proc.nonProtocolLines()).toEqual([]);
    } finally {
      await proc.close();
    }
  });
});
