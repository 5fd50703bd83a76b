import { fileURLToPath } from "node:url";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema as V1ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Client, ClientCapabilities } from "@modelcontextprotocol/client";
import everything from "@toolshed/fixture-everything";
import { defineServer, defineTool, z } from "@toolshed/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ASKING_CAPABILITIES,
  modernCall,
  spawnStdioServer,
  startRoundRobinProxy,
  startTestHttpServer,
  textOf,
  type Era,
  type TestHttpServer,
} from "../src/index.js";

// Asking the user (ctx.ask & co.) through one handler API on both protocol eras: a 2026-07-28 client
// gets input_required results and retries with a signed requestState; a 2025 client gets
// elicitation/create, sampling/createMessage and roots/list over its session.

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));
const KEY_A = "a".repeat(16) + "-request-state-key-one";
const KEY_B = "b".repeat(16) + "-request-state-key-two";
const ASKING: ClientCapabilities = ASKING_CAPABILITIES;

/** Answers every question the way a user and a model would; records what it was asked. */
function answerEverything(
  client: Client,
  asked: string[] = [],
  kinds: readonly ("elicitation" | "sampling" | "roots")[] = ["elicitation", "sampling", "roots"],
): string[] {
  if (kinds.includes("elicitation"))
    client.setRequestHandler("elicitation/create", (request) => {
      const message = request.params.message;
      asked.push(message);
      const content: Record<string, string | boolean> = message.includes("color")
        ? { color: "blue" }
        : message.includes("context")
          ? { context: "release notes" }
          : message.includes("confirm")
            ? { ok: true }
            : { name: "Alice" };
      return { action: "accept", content };
    });
  if (kinds.includes("sampling"))
    client.setRequestHandler("sampling/createMessage", (request) => {
      asked.push("sampling");
      if (request.params.tools?.length) {
        return {
          role: "assistant",
          model: "test-model",
          stopReason: "toolUse",
          content: [{ type: "tool_use", id: "call-1", name: "lookup", input: { q: "weather" } }],
        };
      }
      return { role: "assistant", model: "test-model", content: { type: "text", text: "Paris" } };
    });
  if (kinds.includes("roots"))
    client.setRequestHandler("roots/list", () => {
      asked.push("roots");
      return { roots: [{ uri: "file:///work/project", name: "project" }] };
    });
  return asked;
}

/** Round 1 of the multi-round tool: the input_required result and its requestState. */
async function firstRound(url: string): Promise<{ requestState: string }> {
  const r1 = await modernCall(url, "tools/call", {
    name: "test_input_required_result_multi_round",
    arguments: {},
  });
  const result = r1.result as { resultType: string; requestState: string };
  expect(result.resultType).toBe("input_required");
  return result;
}

const step1 = { step1: { action: "accept", content: { name: "Alice" } } };

describe.each<{ era: Era }>([{ era: "modern" }, { era: "legacy" }])(
  "one handler API over HTTP ($era client, v2 SDK)",
  ({ era }) => {
    let srv: TestHttpServer;
    let client: Client;
    beforeAll(async () => {
      srv = await startTestHttpServer(everything);
    });
    afterEach(async () => client?.close());
    afterAll(async () => srv.close(1_000));

    it("asks twice in turn and finishes with both answers (multi-round)", async () => {
      client = await srv.connect(ASKING, undefined, era);
      expect(client.getProtocolEra()).toBe(era);
      const asked = answerEverything(client);
      const r = await client.callTool({ name: "test_input_required_result_multi_round", arguments: {} });
      expect(textOf(r)).toBe("Alice likes blue");
      expect(asked).toEqual(["Step 1: What is your name?", "Step 2: What is your favorite color?"]);
    });

    it("asks the user, the model and the client's roots in one round", async () => {
      client = await srv.connect(ASKING, undefined, era);
      const asked = answerEverything(client);
      const r = await client.callTool({ name: "test_input_required_result_multiple_inputs", arguments: {} });
      expect(textOf(r)).toBe("Paris Alice (1 roots)");
      expect([...asked].sort()).toEqual(["What is your name?", "roots", "sampling"]);
    });

    it("asks from a prompt handler (prompts/get)", async () => {
      client = await srv.connect(ASKING, undefined, era);
      answerEverything(client);
      const prompt = await client.getPrompt({ name: "test_input_required_result_prompt", arguments: {} });
      expect(prompt.messages[0]?.content).toEqual({ type: "text", text: "Use this context: release notes" });
    });

    it("accepts a sampling reply with tool_use content", async () => {
      client = await srv.connect(ASKING, undefined, era);
      answerEverything(client);
      const r = await client.callTool({ name: "test_sampling_with_tools", arguments: {} });
      expect(r.isError).toBeFalsy();
      expect(textOf(r)).toBe('tool_use lookup {"q":"weather"}');
    });

    it("tells a client without the elicitation capability so, naming it, without asking", async () => {
      client = await srv.connect({ sampling: {} }, undefined, era);
      const asked = answerEverything(client, [], ["sampling"]);
      const call = client.callTool({ name: "test_input_required_result_elicitation", arguments: {} });
      if (era === "modern") {
        // 2026-07-28: the revision's MissingRequiredClientCapability protocol error.
        await expect(call).rejects.toMatchObject({
          code: -32021,
          message: expect.stringContaining("'elicitation'"),
        });
      } else {
        const r = await call;
        expect(r.isError).toBe(true);
        expect(textOf(r)).toMatch(/'elicitation' capability, which this client did not declare/);
      }
      expect(asked).toEqual([]);
    });
  },
);

describe.each([
  { flag: "--stateless", http: { stateless: true } },
  { flag: "--json-response", http: { jsonResponse: true } },
])("2025 clients of a $flag server", ({ flag, http }) => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(everything, http);
  });
  afterAll(async () => srv.close(1_000));

  it("get a clear tool error instead of a question that could never be answered", async () => {
    const client = await srv.connect(ASKING);
    const asked = answerEverything(client);
    const started = performance.now();
    const r = await client.callTool({ name: "test_input_required_result_elicitation", arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(`run it without ${flag}, or connect with protocol 2026-07-28`);
    expect(asked).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5_000);
    await client.close();
  });

  it("while a 2026-07-28 client of the same server is asked as usual", async () => {
    const client = await srv.connect(ASKING, undefined, "modern");
    answerEverything(client);
    const r = await client.callTool({ name: "test_input_required_result_elicitation", arguments: {} });
    expect(textOf(r)).toBe("Hello, Alice!");
    await client.close();
  });
});

describe("a v1 SDK client (2025-11-25)", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(everything);
  });
  afterAll(async () => srv.close(1_000));

  it("gets elicitation/create and its answer reaches the handler", async () => {
    const client = new V1Client({ name: "v1", version: "0" }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    client.setRequestHandler(V1ElicitRequestSchema, (request) => {
      asked.push(request.params.message);
      return { action: "accept", content: { name: "Bob" } };
    });
    await client.connect(new V1HttpTransport(new URL(srv.url)));
    const r = await client.callTool({ name: "test_input_required_result_elicitation", arguments: {} });
    expect(textOf(r)).toBe("Hello, Bob!");
    expect(asked).toEqual(["What is your name?"]);
    await client.close();
  });
});

describe.each<{ era: Era }>([{ era: "modern" }, { era: "legacy" }])("over stdio ($era client)", ({ era }) => {
  it("asks and resumes on the same handler", async () => {
    const proc = await spawnStdioServer(process.execPath, [BIN], { era, capabilities: ASKING });
    try {
      expect(proc.client.getProtocolEra()).toBe(era);
      const asked = answerEverything(proc.client);
      const r = await proc.client.callTool({ name: "test_input_required_result_multi_round", arguments: {} });
      expect(textOf(r)).toBe("Alice likes blue");
      expect(asked).toHaveLength(2);
      expect(proc.nonProtocolLines()).toEqual([]);
    } finally {
      await proc.close();
    }
  });
});

describe("the signed requestState", () => {
  const servers: TestHttpServer[] = [];
  const start = async (keys: string[] | undefined, ttl?: number) => {
    const srv = await startTestHttpServer(
      everything,
      {},
      { ...(keys ? { requestStateKeys: keys } : {}), ...(ttl ? { requestStateTtlSeconds: ttl } : {}) },
    );
    servers.push(srv);
    return srv;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close(1_000)));
  });

  it("changes every round and carries the earlier answers", async () => {
    const srv = await start([KEY_A]);
    const { requestState } = await firstRound(srv.url);
    const r2 = await modernCall(srv.url, "tools/call", {
      name: "test_input_required_result_multi_round",
      arguments: {},
      inputResponses: step1,
      requestState,
    });
    const second = r2.result as { resultType: string; requestState: string; inputRequests: object };
    expect(second.resultType).toBe("input_required");
    expect(Object.keys(second.inputRequests)).toEqual(["step2"]);
    expect(second.requestState).not.toBe(requestState);
    // Only this round's answer comes back: step1 rides in the state.
    const r3 = await modernCall(srv.url, "tools/call", {
      name: "test_input_required_result_multi_round",
      arguments: {},
      inputResponses: { step2: { action: "accept", content: { color: "green" } } },
      requestState: second.requestState,
    });
    expect(textOf(r3.result)).toBe("Alice likes green");
  });

  it("refuses a tampered state with -32602 and says how to start over", async () => {
    const srv = await start([KEY_A]);
    const { requestState } = await firstRound(srv.url);
    const [head, body, mac] = requestState.split(".");
    const forged = JSON.parse(Buffer.from(body!, "base64url").toString()) as { p: { a: object } };
    forged.p.a = { step1: { action: "accept", content: { name: "Mallory" } } };
    for (const state of [
      `${requestState}-TAMPERED`,
      `${head}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${mac}`,
    ]) {
      const r = await modernCall(srv.url, "tools/call", {
        name: "test_input_required_result_multi_round",
        arguments: {},
        inputResponses: { step2: { action: "accept", content: { color: "red" } } },
        requestState: state,
      });
      expect(r.error).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/integrity check.*start over/),
      });
    }
  });

  it("refuses a state minted for another tool or other arguments", async () => {
    const srv = await start([KEY_A]);
    const { requestState } = await firstRound(srv.url);
    const r = await modernCall(srv.url, "tools/call", {
      name: "test_input_required_result_request_state",
      arguments: {},
      inputResponses: { confirm: { action: "accept", content: { ok: true } } },
      requestState,
    });
    expect(r.error).toMatchObject({
      code: -32602,
      message: expect.stringContaining("belongs to another call"),
    });
  });

  it("expires", async () => {
    const srv = await start([KEY_A], 1);
    const { requestState } = await firstRound(srv.url);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const r = await modernCall(srv.url, "tools/call", {
      name: "test_input_required_result_multi_round",
      arguments: {},
      inputResponses: step1,
      requestState,
    });
    expect(r.error).toMatchObject({ code: -32602, message: expect.stringContaining("expired") });
  });

  it("survives a key rotation: the new key signs, the old one still verifies until it is removed", async () => {
    const before = await start([KEY_A]);
    const rotated = await start([KEY_B, KEY_A]);
    const after = await start([KEY_B]);
    const { requestState } = await firstRound(before.url);
    const retry = (url: string) =>
      modernCall(url, "tools/call", {
        name: "test_input_required_result_multi_round",
        arguments: {},
        inputResponses: step1,
        requestState,
      });
    const ok = (await retry(rotated.url)).result as { resultType: string; requestState: string };
    expect(ok.resultType).toBe("input_required");
    // The rotated server signs with the new key, which the old server does not hold.
    const onOld = await modernCall(before.url, "tools/call", {
      name: "test_input_required_result_multi_round",
      arguments: {},
      inputResponses: { step2: { action: "accept", content: { color: "blue" } } },
      requestState: ok.requestState,
    });
    expect(onOld.error).toMatchObject({ code: -32602 });
    expect((await retry(after.url)).error).toMatchObject({ code: -32602 });
  });
});

describe("two replicas behind a round-robin proxy", () => {
  const servers: TestHttpServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close(1_000)));
  });
  const pair = async (keys: [string, string]) => {
    const a = await startTestHttpServer(everything, {}, { requestStateKeys: [keys[0]] });
    const b = await startTestHttpServer(everything, {}, { requestStateKeys: [keys[1]] });
    servers.push(a, b);
    return startRoundRobinProxy([new URL(a.url).origin, new URL(b.url).origin]);
  };

  it("resume each other's questions with a shared key (every round on the other replica)", async () => {
    const proxy = await pair([KEY_A, KEY_A]);
    try {
      for (let i = 0; i < 5; i++) {
        const { requestState } = await firstRound(proxy.url);
        const r2 = await modernCall(proxy.url, "tools/call", {
          name: "test_input_required_result_multi_round",
          arguments: {},
          inputResponses: step1,
          requestState,
        });
        const second = r2.result as { requestState: string };
        const r3 = await modernCall(proxy.url, "tools/call", {
          name: "test_input_required_result_multi_round",
          arguments: {},
          inputResponses: { step2: { action: "accept", content: { color: "teal" } } },
          requestState: second.requestState,
        });
        expect(textOf(r3.result)).toBe("Alice likes teal");
      }
      expect(proxy.counts).toEqual([8, 7]);
    } finally {
      await proxy.close();
    }
  });

  it("a v2 client pinned to 2026-07-28 finishes a multi-round call through the proxy", async () => {
    const proxy = await pair([KEY_A, KEY_A]);
    const { connectHttpClient } = await import("../src/index.js");
    const client = await connectHttpClient(proxy.url, ASKING, undefined, "modern");
    try {
      answerEverything(client);
      const r = await client.callTool({ name: "test_input_required_result_multi_round", arguments: {} });
      expect(textOf(r)).toBe("Alice likes blue");
      expect(proxy.counts.every((n) => n > 0)).toBe(true);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("refuse each other's questions without a shared key", async () => {
    const proxy = await pair([KEY_A, KEY_B]);
    try {
      const { requestState } = await firstRound(proxy.url);
      const r2 = await modernCall(proxy.url, "tools/call", {
        name: "test_input_required_result_multi_round",
        arguments: {},
        inputResponses: step1,
        requestState,
      });
      expect(r2.error).toMatchObject({ code: -32602 });
    } finally {
      await proxy.close();
    }
  });
});

describe("a server's own asking tool", () => {
  // A tool written against the kit, not the fixture: the handler sees typed, validated answers and
  // side effects after the questions run once.
  let effects = 0;
  const book = defineTool({
    name: "book_room",
    title: "Books a room",
    description: "Asks which room and whether to confirm, then books it.",
    input: z.object({ day: z.string().describe("The day to book, e.g. Friday.") }),
    output: z.object({ booked: z.string() }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    handler: async ({ day }, ctx) => {
      const { room, sure } = await ctx.askAll({
        room: ctx.ask(z.object({ room: z.enum(["red", "blue"]) }), `Which room on ${day}?`),
        sure: ctx.ask(z.object({ ok: z.boolean() }), "Please confirm"),
      });
      if (room.action !== "accept" || sure.action !== "accept" || !sure.content.ok)
        return { booked: "nothing" };
      effects += 1;
      return { booked: `${room.content.room} on ${day}` };
    },
  });
  const def = defineServer({ name: "rooms", version: "0.0.0", tools: [book] });
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(def);
  });
  afterAll(async () => srv.close(1_000));

  it.each<Era>(["modern", "legacy"])(
    "asks again when an answer does not fit the schema (%s)",
    async (era) => {
      effects = 0;
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      let roomAsks = 0;
      client.setRequestHandler("elicitation/create", (request) => {
        let content: Record<string, string | boolean> = { ok: true };
        if (request.params.message.startsWith("Which room")) {
          roomAsks += 1;
          // The first answer is not one of the rooms: the kit asks again instead of failing the call.
          content = { room: roomAsks === 1 ? "green" : "blue" };
        }
        return { action: "accept", content };
      });
      const r = await client.callTool({ name: "book_room", arguments: { day: "Friday" } });
      expect(r.structuredContent).toEqual({ booked: "blue on Friday" });
      expect(roomAsks).toBe(2);
      expect(effects).toBe(1);
      await client.close();
    },
  );
});
