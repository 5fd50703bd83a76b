import { createRuntime, definers, defineServer, UsageError, z } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestClient, type TestClient } from "../src/index.js";

// A server whose tool list follows its config and whose completions read its deps: two runtimes of
// it in one process each answer from their own config and deps.
const configSchema = z.object({
  shelf: z.string().default("fruit").describe("Which shelf the store serves."),
  writable: z.boolean().default(false).describe("Whether the stock tool is listed."),
});
type Config = z.output<typeof configSchema>;
interface Deps {
  items: string[];
}
const { defineTool, defineResource, definePrompt } = definers<Config, Deps>();
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const look = defineTool({
  name: "look",
  title: "Look at the shelf",
  description: "Lists the items on this server's shelf.",
  input: z.object({}),
  output: z.object({ items: z.array(z.string()) }),
  annotations: hints,
  handler: (_input, ctx) => ({ items: ctx.deps.items }),
});
const stock = defineTool({
  name: "stock",
  title: "Stock the shelf",
  description: "Adds an item to this server's shelf.",
  input: z.object({ item: z.string().describe("The item to add.") }),
  output: z.object({ items: z.array(z.string()) }),
  annotations: { ...hints, readOnlyHint: false, idempotentHint: false },
  handler: ({ item }, ctx) => ({ items: [...ctx.deps.items, item] }),
});

const server = defineServer({
  name: "store",
  version: "1.0.0",
  config: configSchema,
  setup: ({ config }): Deps => ({
    items: config.shelf === "fruit" ? ["apple", "apricot", "banana"] : ["asparagus", "beet"],
  }),
  tools: (config) => {
    if (config.shelf === "none") throw new UsageError("--shelf none has no tools; pick fruit or veg");
    return config.writable ? [look, stock] : [look];
  },
  resources: [
    defineResource({
      name: "item",
      title: "An item",
      description: "One item of the shelf.",
      mimeType: "text/plain",
      uriTemplate: "item://{name}",
      complete: {
        name: (value, ctx) => {
          ctx.log.debug({ value }, "completing");
          return ctx.deps.items.filter((i) => i.startsWith(value));
        },
      },
      read: (uri, { name }) => [{ uri: uri.href, text: String(name) }],
    }),
  ],
  prompts: (config) => [
    definePrompt({
      name: `pick_${config.shelf}`,
      title: "Pick an item",
      description: "Asks about one item of the shelf.",
      args: z.object({ item: z.string().describe("The item.") }),
      complete: { item: (value, { deps }) => deps.items.filter((i) => i.startsWith(value)) },
      handler: ({ item }) => ({
        messages: [{ role: "user", content: { type: "text", text: `About ${item}?` } }],
      }),
    }),
  ],
});

describe("tools, resources and prompts from the config; completions with deps", () => {
  let fruit: TestClient;
  let veg: TestClient;
  beforeAll(async () => {
    fruit = await createTestClient(server, { config: configSchema.parse({ writable: true }) });
    veg = await createTestClient(server, { config: configSchema.parse({ shelf: "veg" }) });
  });
  afterAll(async () => {
    await fruit.close();
    await veg.close();
  });

  it("lists the tools and prompts each runtime's config chose", async () => {
    expect((await fruit.client.listTools()).tools.map((t) => t.name)).toEqual(["look", "stock"]);
    expect((await veg.client.listTools()).tools.map((t) => t.name)).toEqual(["look"]);
    expect((await veg.client.listPrompts()).prompts.map((p) => p.name)).toEqual(["pick_veg"]);
  });

  it("completes resource variables and prompt arguments from each runtime's own deps", async () => {
    const ref = { type: "ref/resource" as const, uri: "item://{name}" };
    const argument = { name: "name", value: "a" };
    expect((await fruit.client.complete({ ref, argument })).completion.values).toEqual(["apple", "apricot"]);
    expect((await veg.client.complete({ ref, argument })).completion.values).toEqual(["asparagus"]);
    const prompt = await veg.client.complete({
      ref: { type: "ref/prompt", name: "pick_veg" },
      argument: { name: "item", value: "b" },
    });
    expect(prompt.completion.values).toEqual(["beet"]);
  });

  it("refuses a config its tool list refuses, with the list's usage error", () => {
    expect(() =>
      createRuntime(server, { config: configSchema.parse({ shelf: "none" }), logLevel: "silent" }),
    ).toThrow(/--shelf none has no tools/);
  });
});
