// Scopes per upstream and per tool (`scopes:` and `tools: { name: { scopes } }` in the gateway
// config), checked against the kit's API keys: a caller sees only the tools, resources and prompts
// its scopes allow (tools/list, search_tools, describe_tool), a tools/call without the scope is
// refused as the kit refuses its own tools' (HTTP 403, `WWW-Authenticate: Bearer
// error="insufficient_scope", scope="..."`: MCP step-up), call_tool in search mode, a read or a
// prompt with `forbidden` naming it; none reaches the upstream; an upstream without
// `scopes` is open to every caller as before, and a reload applies new scopes (tools/list_changed).
// Real HTTP on loopback: clients of both eras -> the gateway (API keys) -> a recording upstream and
// the kit's fixture.
import { writeFileSync } from "node:fs";
import everything from "@toolshed/fixture-everything";
import { defineServer } from "@toolshed/server";
import { MODERN_PROTOCOL_VERSION, recordChanges } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseGatewayFile } from "../src/config.js";
import {
  startGateway,
  startGatewayOver,
  textOf,
  type GatewayOver,
  type TestGateway,
  type ToolResultShape,
} from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

type Era = "legacy" | "modern";
const ERAS: Era[] = ["legacy", "modern"];
const TOOLS_CHANGED = "notifications/tools/list_changed";

/** Three callers: one that may read notes, one that may read and write them, one with other scopes. */
const KEYS = {
  reader: { key: "tsk_scopes_reader_0123456789", scopes: "notes:read" },
  writer: { key: "tsk_scopes_writer_0123456789", scopes: "notes:read,notes:write" },
  outsider: { key: "tsk_scopes_outsider_0123456789", scopes: "other:read" },
};
type Who = keyof typeof KEYS;

/** Every request the notes upstream was sent, beyond its lists: the proof a refusal never reached it. */
const received: string[] = [];

/** An upstream with two tools, a resource and a prompt, recording each call, read and prompt get. */
const notesServer = defineServer({
  name: "notes",
  version: "0.0.0",
  tools: [],
  forward: {
    listTools: () => [
      {
        name: "read_note",
        description: "Reads the note with the given title.",
        inputSchema: { type: "object", properties: { title: { type: "string" } } },
        annotations: { readOnlyHint: true },
      },
      {
        name: "write_note",
        description: "Writes a note with a title and a text, replacing one of the same title.",
        inputSchema: {
          type: "object",
          properties: { title: { type: "string" }, text: { type: "string" } },
        },
      },
    ],
    callTool(_deps, name, args) {
      received.push(`tools/call ${name}`);
      if (name !== "read_note" && name !== "write_note") return Promise.resolve(undefined);
      return Promise.resolve({ content: [{ type: "text", text: `${name} ${JSON.stringify(args)}` }] });
    },
    resources: {
      list: () => [{ uri: "note://welcome", name: "welcome", mimeType: "text/plain" }],
      templates: () => [],
      read(_deps, uri) {
        received.push(`resources/read ${uri}`);
        return Promise.resolve({ contents: [{ uri, mimeType: "text/plain", text: "welcome to the notes" }] });
      },
    },
    prompts: {
      list: () => [{ name: "summarize", description: "Summarize every note." }],
      get(_deps, name) {
        received.push(`prompts/get ${name}`);
        return Promise.resolve({
          messages: [{ role: "user", content: { type: "text", text: "Summarize my notes." } }],
        });
      },
    },
  },
});

let over: GatewayOver<"notes" | "open">;
let gw: TestGateway;

/** The config under test; `writeScopes` is what `write_note` needs on top of `notes:read`. */
function config(writeScopes = "[notes:write]", urls = over.urls): string {
  return `upstreams:
  notes:
    url: ${urls.notes}
    scopes: [notes:read]
    tools:
      write_note: { scopes: ${writeScopes} }
      erase_note: { scopes: [notes:admin] }
      notes__read_note: { scopes: [notes:read] }
  open:
    url: ${urls.open}
`;
}

beforeAll(async () => {
  over = await startGatewayOver({ notes: notesServer, open: everything }, (urls) => config(undefined, urls), {
    keys: KEYS,
  });
  gw = over.gw;
});

afterAll(async () => {
  await over?.close();
});

function as(who: Who, era: Era, url = gw.url) {
  return over.as(who, era, {}, url);
}

/**
 * One tools/call over plain HTTP as `who` (a 2026-07-28 request, or in a new 2025 session): the
 * status and the `WWW-Authenticate` challenge, which the SDK client does not show.
 */
async function rawCall(who: Who, era: Era, name: string): Promise<{ status: number; challenge: string }> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    authorization: `Bearer ${KEYS[who].key}`,
  };
  const post = (extra: Record<string, string>, body: unknown) =>
    fetch(gw.url, { method: "POST", headers: { ...headers, ...extra }, body: JSON.stringify(body) });
  const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name, arguments: {} } };
  let res: Response;
  if (era === "modern") {
    res = await post(
      { "mcp-protocol-version": MODERN_PROTOCOL_VERSION, "mcp-method": "tools/call", "mcp-name": name },
      {
        ...call,
        params: {
          ...call.params,
          _meta: {
            "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
            "io.modelcontextprotocol/clientInfo": { name: "raw", version: "0" },
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      },
    );
  } else {
    const init = await post(
      {},
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: "raw", version: "0" },
        },
      },
    );
    await init.text();
    const session = init.headers.get("mcp-session-id")!;
    res = await post({ "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" }, call);
  }
  await res.text();
  return { status: res.status, challenge: res.headers.get("www-authenticate") ?? "" };
}

describe.each(ERAS)("a %s client", (era) => {
  it("is shown only the tools, resources and prompts its scopes allow", async () => {
    const reader = await as("reader", era);
    const writer = await as("writer", era);
    const outsider = await as("outsider", era);
    try {
      const tools = async (c: typeof reader) => (await c.listTools()).tools.map((t) => t.name);
      const readerTools = await tools(reader);
      const writerTools = await tools(writer);
      const outsiderTools = await tools(outsider);
      expect(readerTools.filter((n) => n.startsWith("notes__"))).toEqual(["notes__read_note"]);
      expect(writerTools.filter((n) => n.startsWith("notes__"))).toEqual([
        "notes__read_note",
        "notes__write_note",
      ]);
      expect(outsiderTools.filter((n) => n.startsWith("notes__"))).toEqual([]);
      // The upstream without `scopes` is everyone's, as before.
      for (const list of [readerTools, writerTools, outsiderTools]) expect(list).toContain("open__echo");

      const resources = async (c: typeof reader) => (await c.listResources()).resources.map((r) => r.uri);
      const prompts = async (c: typeof reader) => (await c.listPrompts()).prompts.map((p) => p.name);
      // A tool's own scopes guard that tool; the upstream's guard its resources and prompts.
      expect(await resources(reader)).toContain("notes+note://welcome");
      expect(await prompts(reader)).toContain("notes__summarize");
      const outsiderResources = await resources(outsider);
      expect(outsiderResources.some((u) => u.startsWith("open+"))).toBe(true);
      expect(outsiderResources.filter((u) => u.startsWith("notes+"))).toEqual([]);
      const outsiderPrompts = await prompts(outsider);
      expect(outsiderPrompts.some((p) => p.startsWith("open__"))).toBe(true);
      expect(outsiderPrompts.filter((p) => p.startsWith("notes__"))).toEqual([]);
    } finally {
      await Promise.all([reader.close(), writer.close(), outsider.close()]);
    }
  });

  it("refuses a call without the scope with 403 insufficient_scope naming it (step-up), before the upstream", async () => {
    const reader = await as("reader", era);
    const writer = await as("writer", era);
    const outsider = await as("outsider", era);
    try {
      received.length = 0;
      // As the kit refuses its own tools: the SDK client reads the challenge, naming the scope to ask for.
      await expect(
        reader.callTool({ name: "notes__write_note", arguments: { title: "t", text: "x" } }),
      ).rejects.toThrow('Insufficient scope: required "notes:write"');
      expect(await rawCall("reader", era, "notes__write_note")).toEqual({
        status: 403,
        challenge:
          'Bearer error="insufficient_scope", error_description="this call needs the scope notes:write; request a token or key that grants it", scope="notes:write"',
      });
      // Without the upstream's scope, every tool of it is refused, naming all that is missing.
      await expect(outsider.callTool({ name: "notes__write_note", arguments: {} })).rejects.toThrow(
        'Insufficient scope: required "notes:read notes:write"',
      );
      expect((await rawCall("outsider", era, "notes__write_note")).challenge).toContain(
        'scope="notes:read notes:write"',
      );
      const outsideRead = await rawCall("outsider", era, "notes__read_note");
      expect(outsideRead.status).toBe(403);
      expect(outsideRead.challenge).toContain('scope="notes:read"');
      // A tool the gateway does not serve is no scope question: the call goes on and is unknown.
      expect((await rawCall("outsider", era, "notes__no_such_tool")).status).toBe(200);
      expect(received).toEqual([]);

      // Callers holding the scopes reach the upstream.
      const written = (await writer.callTool({
        name: "notes__write_note",
        arguments: { title: "t", text: "x" },
      })) as ToolResultShape;
      expect(written.isError, textOf(written)).toBeFalsy();
      expect(textOf(written)).toBe('write_note {"title":"t","text":"x"}');
      const read = (await reader.callTool({
        name: "notes__read_note",
        arguments: { title: "t" },
      })) as ToolResultShape;
      expect(read.isError, textOf(read)).toBeFalsy();
      expect(received).toEqual(["tools/call write_note", "tools/call read_note"]);
      // And an unscoped upstream's tool stays callable by anyone.
      const echoed = (await outsider.callTool({
        name: "open__echo",
        arguments: { message: "hi" },
      })) as ToolResultShape;
      expect(textOf(echoed)).toBe("hi");
    } finally {
      await Promise.all([reader.close(), writer.close(), outsider.close()]);
    }
  });

  it("refuses a resource read or a prompt of a scoped upstream without its scope, before the upstream", async () => {
    const reader = await as("reader", era);
    const outsider = await as("outsider", era);
    try {
      received.length = 0;
      await expect(outsider.readResource({ uri: "notes+note://welcome" })).rejects.toMatchObject({
        code: -32003,
        message: expect.stringMatching(/resource 'notes\+note:\/\/welcome' needs scope notes:read$/),
      });
      await expect(outsider.getPrompt({ name: "notes__summarize", arguments: {} })).rejects.toMatchObject({
        code: -32003,
        message: expect.stringMatching(/prompt 'notes__summarize' needs scope notes:read$/),
      });
      expect(received).toEqual([]);

      const read = await reader.readResource({ uri: "notes+note://welcome" });
      expect(read.contents).toEqual([
        { uri: "notes+note://welcome", mimeType: "text/plain", text: "welcome to the notes" },
      ]);
      const prompt = await reader.getPrompt({ name: "notes__summarize", arguments: {} });
      expect(prompt.messages).toHaveLength(1);
      expect(received).toEqual(["resources/read note://welcome", "prompts/get summarize"]);
    } finally {
      await Promise.all([reader.close(), outsider.close()]);
    }
  });
});

describe("search mode", () => {
  let search: TestGateway;
  beforeAll(async () => {
    search = await startGateway(config(), { http: { auth: over.auth! }, mode: "search" });
    expect((await search.deps()).gateway.down()).toEqual([]);
  });
  afterAll(async () => {
    await search?.close();
  });

  const call = async (c: Awaited<ReturnType<typeof as>>, name: string, args: Record<string, unknown>) =>
    (await c.callTool({ name, arguments: args })) as ToolResultShape;
  const hits = async (c: Awaited<ReturnType<typeof as>>, query: string) => {
    const r = await call(c, "search_tools", { query, limit: 20 });
    expect(r.isError, textOf(r)).toBeFalsy();
    return (r.structuredContent as { results: { name: string }[] }).results.map((h) => h.name);
  };

  it.each(ERAS)("finds, describes and runs only what the caller may use (%s client)", async (era) => {
    const reader = await as("reader", era, search.url);
    const writer = await as("writer", era, search.url);
    const outsider = await as("outsider", era, search.url);
    try {
      received.length = 0;
      expect(await hits(writer, "write a note")).toContain("notes__write_note");
      const readerHits = await hits(reader, "write a note");
      expect(readerHits).toContain("notes__read_note");
      expect(readerHits).not.toContain("notes__write_note");
      expect((await hits(outsider, "note")).filter((n) => n.startsWith("notes__"))).toEqual([]);

      // describe_tool does not reveal a tool the caller may not use...
      const described = await call(reader, "describe_tool", { name: "notes__write_note" });
      expect(described.isError).toBe(true);
      expect(textOf(described)).toBe(
        "not_found: no tool named 'notes__write_note'; call search_tools to find one",
      );
      const mine = await call(writer, "describe_tool", { name: "notes__write_note" });
      expect(mine.structuredContent).toMatchObject({ name: "notes__write_note", upstream: "notes" });
      // ...and call_tool refuses it as a direct call would, without reaching the upstream.
      const refused = await call(reader, "call_tool", {
        name: "notes__write_note",
        arguments: { title: "t", text: "x" },
      });
      expect(textOf(refused)).toBe("forbidden: tool 'notes__write_note' needs scope notes:write");
      expect(received).toEqual([]);
      const ran = await call(writer, "call_tool", {
        name: "notes__write_note",
        arguments: { title: "t", text: "y" },
      });
      expect(ran.isError, textOf(ran)).toBeFalsy();
      expect(received).toEqual(["tools/call write_note"]);
    } finally {
      await Promise.all([reader.close(), writer.close(), outsider.close()]);
    }
  });
});

it("warns once in the log of a tools: entry the upstream does not list, naming the file and field", async () => {
  const { gateway } = await gw.deps();
  const logs = () => gw.logs().split("\n").filter(Boolean);
  const warnings = () => logs().filter((l) => l.includes("names a tool upstream 'notes' does not list"));
  const file = gw.configPath.replace(/[.\\]/g, "\\$&");
  await vi.waitFor(() => expect(warnings()).toHaveLength(2));
  expect(warnings().join("\n")).toMatch(
    new RegExp(
      `gateway config ${file}: upstreams\\.notes\\.tools\\.erase_note names a tool upstream 'notes' does not list; its scopes apply if the upstream adds it`,
    ),
  );
  // The likely slip, the exposed name for the upstream's own, gets the name to write instead.
  expect(warnings().join("\n")).toMatch(
    /upstreams\.notes\.tools\.notes__read_note names a tool upstream 'notes' does not list; write the upstream's own name 'read_note', without the 'notes__' prefix/,
  );
  // A refresh of the upstream's lists (every 30 s) does not repeat them.
  await gateway.upstreams.get("notes")!.refresh();
  expect(warnings()).toHaveLength(2);
});

it("refuses a bad scopes value, naming the file and the field", () => {
  const bad = (entry: string) => () =>
    parseGatewayFile(`upstreams:\n  notes:\n    url: http://127.0.0.1:1/mcp\n${entry}`, "gw.yaml");
  const invalid = "gw.yaml is not a valid gateway config:\n- ";
  expect(bad("    scopes: notes:read\n")).toThrow(
    `${invalid}upstreams.notes.scopes: a list of scope names, e.g. [github:read]`,
  );
  expect(bad("    scopes: [notes:read, 7]\n")).toThrow(
    `${invalid}upstreams.notes.scopes.1: a scope name (text), e.g. github:read`,
  );
  expect(bad("    scopes: []\n")).toThrow(
    `${invalid}upstreams.notes.scopes: a list of scope names, e.g. [github:read]; leave \`scopes\` out when every caller may use it`,
  );
  expect(bad('    scopes: ["notes read"]\n')).toThrow(
    `${invalid}upstreams.notes.scopes.0: a scope name: printable characters, no spaces, quotes or backslashes`,
  );
  expect(bad("    scopes: ['notes:*']\n")).toThrow(
    `${invalid}upstreams.notes.scopes.0: a scope a caller must hold, not a pattern`,
  );
  expect(bad("    tools: [write_note]\n")).toThrow(
    `${invalid}upstreams.notes.tools: a map of the upstream's tool names to { scopes: [...] }`,
  );
  expect(bad("    tools:\n      write_note: { scopes: notes:write }\n")).toThrow(
    `${invalid}upstreams.notes.tools.write_note.scopes: a list of scope names`,
  );
  expect(bad("    tools:\n      write_note: {}\n")).toThrow(
    `${invalid}upstreams.notes.tools.write_note.scopes: a list of scope names`,
  );
  expect(bad("    tools:\n      write_note: { scope: [notes:write] }\n")).toThrow(
    /upstreams\.notes\.tools\.write_note: Unrecognized key: "scope"/,
  );
  // A well-formed entry parses as written.
  expect(
    parseGatewayFile(
      `upstreams:\n  notes:\n    url: http://127.0.0.1:1/mcp\n    scopes: [notes:read]\n    tools:\n      write_note: { scopes: [notes:write] }\n`,
      "gw.yaml",
    ).upstreams.notes,
  ).toMatchObject({ scopes: ["notes:read"], tools: { write_note: { scopes: ["notes:write"] } } });
});

// Last: it changes the running config.
it("applies new scopes on reload, telling listening clients of both eras, and keeps the connection", async () => {
  const { gateway } = await gw.deps();
  const upstream = gateway.upstreams.get("notes")!;
  const modern = await as("writer", "modern");
  const legacy = await as("writer", "legacy");
  try {
    const modernChanges = recordChanges(modern);
    const legacyChanges = recordChanges(legacy);
    const sub = await modern.listen({ toolsListChanged: true });
    try {
      expect((await legacy.listTools()).tools.map((t) => t.name)).toContain("notes__write_note");

      // A bad scopes value on reload is refused, in the log naming the file and field; scopes stay.
      writeFileSync(gw.configPath, config("notes:admin"));
      expect(await gateway.reload()).toBe(false);
      expect(gw.logs()).toMatch(/gateway config reload refused/);
      expect(gw.logs()).toMatch(
        /gateway\.yaml is not a valid gateway config:\\n- upstreams\.notes\.tools\.write_note\.scopes: a list of scope names/,
      );
      expect((await modern.listTools()).tools.map((t) => t.name)).toContain("notes__write_note");

      // write_note now needs notes:admin, which the writer lacks.
      writeFileSync(gw.configPath, config("[notes:admin]"));
      await modernChanges.until(TOOLS_CHANGED, undefined, 10_000);
      await legacyChanges.until(TOOLS_CHANGED, undefined, 10_000);
      for (const client of [modern, legacy]) {
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toContain("notes__read_note");
        expect(names).not.toContain("notes__write_note");
      }
      received.length = 0;
      await expect(
        legacy.callTool({ name: "notes__write_note", arguments: { title: "t", text: "z" } }),
      ).rejects.toThrow('Insufficient scope: required "notes:admin"');
      expect(received).toEqual([]);
      // Only who may use it changed: the same connection serves on.
      expect(gateway.upstreams.get("notes")).toBe(upstream);
      expect(upstream.state).toBe("ready");
    } finally {
      await sub.close();
    }
  } finally {
    await Promise.all([modern.close(), legacy.close()]);
  }
});
