// completion/complete on a forwarding server (`forward.completions`): the capability follows
// `offered` as each connection's server is built, the request reaches `complete` as sent, the kit
// caps the values at 100 (total kept, hasMore set), and a thrown invalid_input is the -32602 the
// kit answers for its own unknown prompts. Real HTTP on loopback, both client eras.
import { ToolshedError, defineServer, type CompletionValues, type ForwardCompletion } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHttpServer, type TestHttpServer } from "../src/index.js";

const seen: ForwardCompletion[] = [];
let offer = true;

const forwarding = defineServer({
  name: "forwarding",
  version: "0.0.0",
  tools: [],
  setup: () => ({ offer: () => offer }),
  forward: {
    listTools: () => [],
    callTool: () => Promise.resolve(undefined),
    prompts: {
      list: () => [{ name: "pick", arguments: [{ name: "word" }, { name: "many" }] }],
      get: () => Promise.resolve({ messages: [] }),
    },
    completions: {
      offered: (deps) => deps.offer(),
      complete(_deps, request): Promise<CompletionValues> {
        seen.push(request);
        if (request.ref.type === "ref/prompt" && request.ref.name !== "pick") {
          throw new ToolshedError("invalid_input", `unknown prompt '${request.ref.name}'`);
        }
        if (request.argument.name === "many") {
          return Promise.resolve({ values: Array.from({ length: 150 }, (_, i) => `v${i}`) });
        }
        return Promise.resolve({ values: [`${request.argument.value}!`], total: 7, hasMore: true });
      },
    },
  },
});

let server: TestHttpServer;

beforeAll(async () => {
  server = await startTestHttpServer(forwarding);
  // `offered` is read only once setup has opened the deps.
  await server.runtime.deps();
});

afterAll(async () => {
  await server?.close();
});

describe.each(["legacy", "modern"] as const)("a %s client", (era) => {
  it("gets the forward's answer, its total and hasMore, with the request as sent", async () => {
    offer = true;
    const c = await server.connect({}, undefined, era);
    try {
      expect(c.getServerCapabilities()?.completions).toEqual({});
      seen.length = 0;
      const result = await c.complete({
        ref: { type: "ref/resource", uri: "thing://{word}" },
        argument: { name: "word", value: "ab" },
        context: { arguments: { other: "x" } },
      });
      expect(result.completion).toEqual({ values: ["ab!"], total: 7, hasMore: true });
      expect(seen).toEqual([
        {
          ref: { type: "ref/resource", uri: "thing://{word}" },
          argument: { name: "word", value: "ab" },
          arguments: { other: "x" },
        },
      ]);
    } finally {
      await c.close();
    }
  });

  it("caps the values at 100, keeping the full count as total", async () => {
    offer = true;
    const c = await server.connect({}, undefined, era);
    try {
      const result = await c.complete({
        ref: { type: "ref/prompt", name: "pick" },
        argument: { name: "many", value: "" },
      });
      expect(result.completion.values).toHaveLength(100);
      expect(result.completion.values.at(-1)).toBe("v99");
      expect(result.completion.total).toBe(150);
      expect(result.completion.hasMore).toBe(true);
    } finally {
      await c.close();
    }
  });

  it("answers a thrown invalid_input with -32602", async () => {
    offer = true;
    const c = await server.connect({}, undefined, era);
    try {
      await expect(
        c.complete({ ref: { type: "ref/prompt", name: "nope" }, argument: { name: "word", value: "" } }),
      ).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/unknown prompt 'nope'/) });
    } finally {
      await c.close();
    }
  });

  it("declares nothing and answers method-not-found when `offered` says no", async () => {
    offer = false;
    const c = await server.connect({}, undefined, era);
    try {
      expect(c.getServerCapabilities()?.prompts).toBeDefined();
      expect(c.getServerCapabilities()?.completions).toBeUndefined();
      seen.length = 0;
      const err = await c
        .complete({ ref: { type: "ref/prompt", name: "pick" }, argument: { name: "word", value: "" } })
        .catch((e: unknown) => e);
      // A 2025 client gets the JSON-RPC error; the 2026-07-28 HTTP lane sends it with status 404.
      const rpc =
        era === "legacy"
          ? err
          : (JSON.parse((err as { data: { text: string } }).data.text) as { error: unknown }).error;
      expect(rpc).toMatchObject({ code: -32601 });
      expect(seen).toEqual([]);
    } finally {
      offer = true;
      await c.close();
    }
  });
});
