// Large answers through the gateway (`--large-result-bytes`, 64 KiB by default): a tool answer with
// more text than that (and no structured content) reaches the caller as its first page, a
// resource_link and a note; `read_result` and resources/read of the link give every page, to the
// caller that got it and nobody else. Structured answers, errors and small answers pass whole.
// Real HTTP on loopback: clients of both eras with API keys -> the gateway -> an upstream kit server.
import { defineServer, type WireResult } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PAGE_BYTES, PREVIEW_BYTES } from "../src/large-results.js";
import { startGatewayOver, textOf, type GatewayOver, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const KEYS = {
  ann: { key: "tsk_large_ann_0123456789abcdef", scopes: "*" },
  bob: { key: "tsk_large_bob_0123456789abcdef", scopes: "*" },
};

/** 100 KiB and a bit of lines, with multi-byte characters so that page cuts must respect them. */
const BIG = Array.from({ length: 2_000 }, (_, i) => `line ${i}: naïve café — ✓ ${"x".repeat(30)}`).join("\n");

function answer(name: string): WireResult {
  if (name === "big_structured") {
    return { content: [{ type: "text", text: BIG }], structuredContent: { text: BIG } };
  }
  if (name === "small") return { content: [{ type: "text", text: "short" }] };
  if (name === "big_error") return { isError: true, content: [{ type: "text", text: BIG }] };
  return { content: [{ type: "text", text: BIG }] };
}

const upstream = defineServer({
  name: "books",
  version: "0.0.0",
  tools: [],
  forward: {
    listTools: () => [
      { name: "big_text", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
      { name: "big_structured", inputSchema: { type: "object" } },
      { name: "small", inputSchema: { type: "object" } },
      { name: "big_error", inputSchema: { type: "object" } },
    ],
    callTool: (_deps, name) => Promise.resolve(answer(name)),
  },
});

let over: GatewayOver<"books">;

beforeAll(async () => {
  over = await startGatewayOver(
    { books: upstream },
    (urls) => `upstreams:
  books:
    url: ${urls.books}
    cache: { ttlSeconds: 60 }
`,
    { keys: KEYS },
  );
});

afterAll(async () => {
  await over?.close();
});

type Client = Awaited<ReturnType<GatewayOver<"books">["as"]>>;
type Content = { type: string; text?: string; uri?: string; size?: number; mimeType?: string };

async function call(c: Client, name: string, args: Record<string, unknown> = {}) {
  return (await c.callTool({ name, arguments: args })) as ToolResultShape & { content: Content[] };
}

/** Reads every page through read_result and returns them joined, checking the page notes. */
async function readAll(c: Client, id: string, first: string): Promise<string> {
  const parts = [first];
  for (let page = 2; ; page++) {
    const r = await call(c, "read_result", { id, page });
    expect(r.isError, textOf(r)).toBeFalsy();
    const text = r.content[0]!.text!;
    const note = /\n\n\[page (\d+) of (\d+)(; next: page \d+|, the last)\]$/.exec(text);
    expect(note, text.slice(-120)).not.toBeNull();
    expect(Number(note![1])).toBe(page);
    const body = text.slice(0, note!.index);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(PAGE_BYTES);
    parts.push(body);
    if (note![3] === ", the last") return parts.join("");
  }
}

describe("a large text answer", () => {
  it("comes as its first page, a resource_link and a note, and read_result gives back every byte (both eras)", async () => {
    for (const era of ["modern", "legacy"] as const) {
      const ann = await over.as("ann", era);
      try {
        const r = await call(ann, "books__big_text");
        expect(r.isError, textOf(r)).toBeFalsy();
        const [text, link] = r.content;
        expect(link).toMatchObject({
          type: "resource_link",
          mimeType: "text/plain",
          size: Buffer.byteLength(BIG),
        });
        expect(link!.uri).toMatch(/^toolshed-gateway:\/\/results\/[0-9a-f-]{36}$/);
        const id = link!.uri!.slice("toolshed-gateway://results/".length);
        const cut = text!.text!.indexOf("\n\n[The answer of books__big_text is ");
        expect(cut).toBeGreaterThan(0);
        const preview = text!.text!.slice(0, cut);
        expect(Buffer.byteLength(preview)).toBeLessThanOrEqual(PREVIEW_BYTES);
        expect(BIG.startsWith(preview)).toBe(true);
        expect(text!.text).toContain(`read_result { "id": "${id}", "page": 2 }`);
        // What the model sees is a few KiB, not 100.
        expect(Buffer.byteLength(JSON.stringify(r.content))).toBeLessThan(PREVIEW_BYTES + 1_000);
        expect(await readAll(ann, id, preview)).toBe(BIG);
      } finally {
        await ann.close();
      }
    }
  });

  it("is read through resources/read of its link too, page by page", async () => {
    const ann = await over.as("ann", "modern");
    try {
      const r = await call(ann, "books__big_text");
      const uri = r.content[1]!.uri!;
      const page1 = await ann.readResource({ uri });
      const page2 = await ann.readResource({ uri: `${uri}?page=2` });
      const viaTool = await call(ann, "read_result", { id: uri.split("/").pop(), page: 2 });
      expect((page1.contents[0] as { text: string }).text).toBe(
        r.content[0]!.text!.split("\n\n[The answer")[0],
      );
      expect(viaTool.content[0]!.text!.startsWith((page2.contents[0] as { text: string }).text)).toBe(true);
      const templates = await ann.listResourceTemplates();
      expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toContain(
        "toolshed-gateway://results/{id}{?page}",
      );
    } finally {
      await ann.close();
    }
  });

  it("belongs to the caller that got it: another caller, a made-up id and a page out of range are refused clearly", async () => {
    const ann = await over.as("ann", "modern");
    const bob = await over.as("bob", "modern");
    try {
      const r = await call(ann, "books__big_text");
      const id = r.content[1]!.uri!.split("/").pop()!;
      const stolen = await call(bob, "read_result", { id, page: 2 });
      expect(stolen.isError).toBe(true);
      expect(textOf(stolen)).toContain(`no kept answer '${id}'`);
      expect(textOf(stolen)).not.toContain("line 2000");
      await expect(bob.readResource({ uri: `${r.content[1]!.uri}?page=2` })).rejects.toThrow(
        /no kept answer/,
      );
      const madeUp = await call(ann, "read_result", { id: "00000000-0000-4000-8000-000000000000", page: 2 });
      expect(textOf(madeUp)).toContain("call the tool again");
      const outOfRange = await call(ann, "read_result", { id, page: 999 });
      expect(outOfRange.isError).toBe(true);
      expect(textOf(outOfRange)).toMatch(/page must be a whole number from 1 to \d+/);
    } finally {
      await ann.close();
      await bob.close();
    }
  });
});

describe("answers that pass whole", () => {
  it("structured answers, errors and small answers are not linked; read_result is listed with the tools", async () => {
    const ann = await over.as("ann", "modern");
    try {
      const structured = await call(ann, "books__big_structured");
      expect(structured.content).toEqual([{ type: "text", text: BIG }]);
      const failed = await call(ann, "books__big_error");
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toContain("line 1999");
      const small = await call(ann, "books__small");
      expect(small.content).toEqual([{ type: "text", text: "short" }]);
      const { tools } = await ann.listTools();
      expect(tools.map((t) => t.name)).toContain("read_result");
    } finally {
      await ann.close();
    }
  });

  it("with --large-result-bytes 0 every answer is whole and read_result is not listed", async () => {
    const whole = await startGatewayOver(
      { books: upstream },
      (urls) => `upstreams:\n  books:\n    url: ${urls.books}\n`,
      { largeResultBytes: 0 },
    );
    try {
      const c = await whole.as(undefined, "modern");
      try {
        const r = await call(c, "books__big_text");
        expect(r.content).toEqual([{ type: "text", text: BIG }]);
        const { tools } = await c.listTools();
        expect(tools.map((t) => t.name)).not.toContain("read_result");
      } finally {
        await c.close();
      }
    } finally {
      await whole.close();
    }
  });
});
