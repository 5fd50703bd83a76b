import { ToolshedError, defineServer, definePrompt, defineResource, defineTool, z } from "@toolshed/server";
import { hintsOf } from "@toolshed/server/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AjvJsonSchemaValidator as V1Validator } from "@modelcontextprotocol/sdk/validation/ajv";
import { AjvJsonSchemaValidator as V2Validator } from "@modelcontextprotocol/client/validators/ajv";
import { createTestClient, textOf, type TestClient } from "../src/index.js";

const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const add = defineTool({
  name: "add",
  title: "Add two numbers",
  description: "Adds a and b and returns the sum; use it for arithmetic checks.",
  input: z.object({
    a: z.number().describe("First addend."),
    b: z.number().max(1000).describe("Second addend, at most 1000."),
  }),
  output: z.object({ sum: z.number() }),
  annotations: hints,
  handler: ({ a, b }) => ({ sum: a + b }),
});

const chatty = defineTool({
  name: "chatty",
  title: "Log at every level",
  description: "Writes one log line at each level and reports three progress steps.",
  input: z.object({}),
  output: z.object({ ok: z.boolean() }),
  annotations: hints,
  handler: async (_args, ctx) => {
    ctx.log.debug("debug line");
    ctx.log.info({ rows: 3 }, "info line");
    ctx.log.warn("warn line");
    for (let i = 1; i <= 3; i++) await ctx.progress(i, 3, `step ${i}`);
    return { ok: true };
  },
});

const failing = defineTool({
  name: "failing",
  title: "Fail",
  description: "Fails in the requested way so the error paths can be observed.",
  input: z.object({
    mode: z.enum(["toolshed", "crash", "output", "timeout", "deps"]).describe("How to fail."),
  }),
  output: z.object({ ok: z.boolean() }),
  annotations: hints,
  timeoutMs: 200,
  handler: async ({ mode }) => {
    if (mode === "toolshed")
      throw new ToolshedError("not_found", "dataset 'sales' not found; call list_datasets");
    if (mode === "crash") throw new Error("ECONNREFUSED 10.1.2.3 password=hunter2");
    if (mode === "timeout") return new Promise<{ ok: boolean }>(() => {});
    return { ok: "nope" } as unknown as { ok: boolean };
  },
});

const scoped = defineTool({
  name: "scoped",
  title: "Needs a scope",
  description: "Only callable by a principal holding data:write when auth is on.",
  input: z.object({}),
  output: z.object({ ok: z.boolean() }),
  annotations: { ...hints, readOnlyHint: false },
  scopes: ["data:write"],
  handler: () => ({ ok: true }),
});

const datasets = ["sales", "salaries", "weather"];

const server = defineServer({
  name: "kit-test",
  version: "1.2.3",
  instructions: "Test server.",
  config: z.object({ greeting: z.string().default("hello").describe("Greeting used by the prompt.") }),
  setup: ({ config }) => ({ prefix: `${config.greeting}:` }),
  tools: [add, chatty, failing, scoped],
  resources: [
    defineResource({
      name: "readme",
      title: "Readme",
      description: "A fixed text resource.",
      mimeType: "text/plain",
      uri: "test://readme",
      read: (uri, ctx) => [
        { uri: uri.href, mimeType: "text/plain", text: `${(ctx.deps as { prefix: string }).prefix} readme` },
      ],
    }),
    defineResource({
      name: "dataset-schema",
      title: "Dataset schema",
      description: "The schema of a dataset.",
      mimeType: "application/json",
      uriTemplate: "dataset://{name}/schema",
      list: () => Promise.resolve(datasets.map((d) => ({ uri: `dataset://${d}/schema`, name: d }))),
      complete: { name: (value) => datasets.filter((d) => d.startsWith(value)) },
      read: (uri, { name }) => {
        if (!datasets.includes(String(name))) {
          throw new ToolshedError(
            "not_found",
            `dataset '${String(name)}' not found; list resources to see datasets`,
          );
        }
        return [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ name, columns: [] }) }];
      },
    }),
  ],
  prompts: [
    definePrompt({
      name: "analyse",
      title: "Analyse a dataset",
      description: "Walks through describing a dataset.",
      args: z.object({ dataset: z.string().describe("Dataset to analyse.") }),
      complete: { dataset: (value) => datasets.filter((d) => d.startsWith(value)) },
      handler: ({ dataset }) => ({
        messages: [{ role: "user", content: { type: "text", text: `Describe ${dataset}.` } }],
      }),
    }),
  ],
});

describe("tool calls through the kit", () => {
  let t: TestClient;
  beforeAll(async () => {
    t = await createTestClient(server);
  });
  afterAll(async () => t.close());

  it("returns structured content and a compact text rendering", async () => {
    const result = await t.client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    expect(result.structuredContent).toEqual({ sum: 5 });
    expect(textOf(result)).toBe('{"sum":5}');
    expect(result.isError).toBeFalsy();
  });

  it("lists tools with JSON Schemas, descriptions and the hints MCP would not assume", async () => {
    const { tools } = await t.client.listTools();
    const addTool = tools.find((x) => x.name === "add")!;
    expect(addTool.inputSchema).toMatchObject({
      type: "object",
      required: ["a", "b"],
      properties: { b: { type: "number", maximum: 1000, description: "Second addend, at most 1000." } },
    });
    expect(addTool.outputSchema).toMatchObject({ type: "object", properties: { sum: { type: "number" } } });
    // Read-only, so destructive/idempotent say nothing; open world is MCP's default. All four come back.
    expect(addTool.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
    expect(hintsOf(addTool.annotations)).toEqual(hints);
    expect(JSON.stringify(tools)).not.toContain("$schema");
  });

  it("lists integers and records without the bounds JSON implies, and SDK clients of both eras still check answers", async () => {
    const tally = defineTool({
      name: "tally",
      title: "Tally",
      description: "Counts things by kind; returns the total and the count of each kind.",
      input: z.object({ n: z.number().int().min(0).describe("How many.") }),
      output: z.object({ total: z.number().int(), by: z.record(z.string(), z.number().int()) }),
      annotations: hints,
      handler: ({ n }) => ({ total: n, by: { a: n } }),
    });
    const u = await createTestClient(defineServer({ name: "tally", version: "1.0.0", tools: [tally] }));
    try {
      const [tool] = (await u.client.listTools()).tools;
      // zod writes ±9007199254740991 for every .int() and propertyNames {type: string} for a record.
      expect(tool!.inputSchema.properties).toEqual({
        n: { type: "integer", minimum: 0, description: "How many." },
      });
      expect(tool!.outputSchema).toEqual({
        type: "object",
        properties: {
          total: { type: "integer" },
          by: { type: "object", additionalProperties: { type: "integer" } },
        },
        required: ["total", "by"],
      });
      // The v2 client checked this answer against the listed schema on arrival.
      const result = await u.client.callTool({ name: "tally", arguments: { n: 3 } });
      expect(result.structuredContent).toEqual({ total: 3, by: { a: 3 } });
      for (const validator of [new V1Validator(), new V2Validator()]) {
        const check = validator.getValidator(
          tool!.outputSchema as Parameters<typeof validator.getValidator>[0],
        );
        expect(check({ total: 3, by: { a: 3 } }).valid).toBe(true);
        expect(check({ total: 1.5, by: { a: 3 } }).valid).toBe(false);
        expect(check({ total: 3, by: { a: "3" } }).valid).toBe(false);
      }
      // The kit still parses arguments with the tool's zod schema, bounds included.
      const big = await u.client.callTool({ name: "tally", arguments: { n: 2 ** 60 } });
      expect(big.isError).toBe(true);
    } finally {
      await u.close();
    }
  });

  it("answers an unknown tool with a JSON-RPC invalid-params error naming tools/list", async () => {
    await expect(t.client.callTool({ name: "nope", arguments: {} })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("unknown tool 'nope'; call tools/list") as unknown,
    });
  });

  it("answers invalid arguments with an isError result that names the field", async () => {
    const result = await t.client.callTool({ name: "add", arguments: { a: "two", b: 5000 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^invalid_input: invalid arguments for tool 'add': a: .*; b: .*1000/);
  });

  it("passes a ToolshedError's message to the model", async () => {
    const result = await t.client.callTool({ name: "failing", arguments: { mode: "toolshed" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe("not_found: dataset 'sales' not found; call list_datasets");
  });

  it("hides the internals of a crashing handler", async () => {
    const result = await t.client.callTool({ name: "failing", arguments: { mode: "crash" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe("internal: internal error; the server log has the details");
    expect(JSON.stringify(result)).not.toMatch(/hunter2|10\.1\.2\.3/);
  });

  it("refuses output that breaks the declared schema", async () => {
    const result = await t.client.callTool({ name: "failing", arguments: { mode: "output" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/does not match its declared output/);
  });

  it("answers a handler that exceeds its timeout with a timeout result", async () => {
    const started = Date.now();
    const result = await t.client.callTool({ name: "failing", arguments: { mode: "timeout" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^timeout: tool 'failing' did not finish within 0.2s/);
    expect(Date.now() - started).toBeLessThan(5_000);
    // And the server still answers.
    expect((await t.client.callTool({ name: "add", arguments: { a: 1, b: 1 } })).structuredContent).toEqual({
      sum: 2,
    });
  });

  it("keeps metric labels bounded whatever names clients send", async () => {
    for (let i = 0; i < 50; i++) {
      await t.client.callTool({ name: `made_up_${i}`, arguments: {} }).catch(() => undefined);
      await t.client.request({ method: `made/up/${i}` }, z.object({})).catch(() => undefined);
    }
    const text = await t.runtime.metrics.render();
    expect(text).not.toMatch(/made_up_|made\/up\//);
    expect(text).toMatch(/mcp_server_operation_duration_seconds_count\{[^}]*method="other"[^}]*\} 50/);
  });

  it("skips scope checks without a principal (stdio, open HTTP)", async () => {
    const result = await t.client.callTool({ name: "scoped", arguments: {} });
    expect(result.structuredContent).toEqual({ ok: true });
  });

  it("counts calls by tool and outcome", async () => {
    const text = await t.runtime.metrics.render();
    expect(text).toMatch(
      /mcp_tool_calls_total\{tool="add",outcome="ok",error_class="",[^}]*server="kit-test"\} [1-9]/,
    );
    expect(text).toMatch(
      /mcp_tool_calls_total\{tool="failing",outcome="timeout",error_class="timeout",[^}]*server="kit-test"\} 1/,
    );
    // An unknown tool is the client's mistake (-32602), not a server fault.
    expect(text).toMatch(
      /mcp_tool_calls_total\{tool="unknown",outcome="error",error_class="invalid_input",[^}]*server="kit-test"\} 51/,
    );
    expect(text).not.toContain('tool="nope"');
  });
});

describe("logging and progress", () => {
  it("sends log notifications at or above the level the client set, and progress when asked", async () => {
    const t = await createTestClient(server);
    const logs: { level: string; data: unknown }[] = [];
    t.client.setNotificationHandler("notifications/message", (n) => {
      logs.push({ level: n.params.level, data: n.params.data });
    });
    const progress: number[] = [];
    await t.client.callTool({ name: "chatty", arguments: {} });
    expect(logs.map((l) => l.level)).toEqual(["warning"]);

    logs.length = 0;
    await t.client.setLoggingLevel("debug");
    await t.client.callTool(
      { name: "chatty", arguments: {} },
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    expect(logs.map((l) => l.level)).toEqual(["debug", "info", "warning"]);
    expect(logs[1]!.data).toEqual({ message: "info line", rows: 3 });
    expect(progress).toEqual([1, 2, 3]);
    await t.close();
  });

  it("sends no progress notification when the client gave no token", async () => {
    const t = await createTestClient(server);
    let seen = 0;
    t.client.setNotificationHandler("notifications/progress", () => void seen++);
    await t.client.callTool({ name: "chatty", arguments: {} });
    expect(seen).toBe(0);
    await t.close();
  });
});

describe("resources and prompts", () => {
  let t: TestClient;
  beforeAll(async () => {
    t = await createTestClient(server, { config: { greeting: "hi" } });
  });
  afterAll(async () => t.close());

  it("reads a fixed resource with the server's deps and config", async () => {
    const { contents } = await t.client.readResource({ uri: "test://readme" });
    expect(contents).toEqual([{ uri: "test://readme", mimeType: "text/plain", text: "hi: readme" }]);
  });

  it("lists templates and the resources they cover", async () => {
    const { resourceTemplates } = await t.client.listResourceTemplates();
    expect(resourceTemplates).toContainEqual(
      expect.objectContaining({ name: "dataset-schema", uriTemplate: "dataset://{name}/schema" }),
    );
    const { resources } = await t.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(
      expect.arrayContaining(["test://readme", "dataset://sales/schema", "dataset://weather/schema"]),
    );
  });

  it("reads a template resource and maps not_found to a JSON-RPC error with a hint", async () => {
    const { contents } = await t.client.readResource({ uri: "dataset://sales/schema" });
    expect(JSON.parse((contents[0] as { text: string }).text)).toEqual({ name: "sales", columns: [] });
    // SDK v2 answers resource-not-found -32602 with data.uri on every revision (2026-07-28 requires it).
    await expect(t.client.readResource({ uri: "dataset://nope/schema" })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("dataset 'nope' not found") as unknown,
      data: expect.objectContaining({ uri: "dataset://nope/schema" }) as unknown,
    });
  });

  it("completes template variables and prompt arguments", async () => {
    const templateCompletion = await t.client.complete({
      ref: { type: "ref/resource", uri: "dataset://{name}/schema" },
      argument: { name: "name", value: "sa" },
    });
    expect(templateCompletion.completion.values).toEqual(["sales", "salaries"]);
    const promptCompletion = await t.client.complete({
      ref: { type: "ref/prompt", name: "analyse" },
      argument: { name: "dataset", value: "w" },
    });
    expect(promptCompletion.completion.values).toEqual(["weather"]);
  });

  it("renders a prompt from its arguments", async () => {
    const { prompts } = await t.client.listPrompts();
    expect(prompts[0]).toMatchObject({
      name: "analyse",
      title: "Analyse a dataset",
      arguments: [{ name: "dataset", description: "Dataset to analyse.", required: true }],
    });
    const prompt = await t.client.getPrompt({ name: "analyse", arguments: { dataset: "sales" } });
    expect(prompt.messages).toEqual([{ role: "user", content: { type: "text", text: "Describe sales." } }]);
  });

  it("sends the server's instructions and version at initialize", () => {
    expect(t.client.getInstructions()).toBe("Test server.");
    expect(t.client.getServerVersion()).toMatchObject({ name: "kit-test", version: "1.2.3" });
  });
});
