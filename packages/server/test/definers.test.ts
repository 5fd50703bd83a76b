// Type-level guards of the definers: the `@ts-expect-error` lines fail `pnpm typecheck` (tsc over
// test/) when a typo in ctx.config or ctx.deps would compile again; vitest runs the value checks.
import { describe, expect, expectTypeOf, it } from "vitest";
import { defineTool, definers, z, type HandlerContext, type ReadContext } from "../src/index.js";

interface Config {
  greeting: string;
}
interface Deps {
  db: { query(sql: string): Promise<number> };
}

const typed = definers<Config, Deps>();

describe("definers", () => {
  it("types ctx.config and ctx.deps in tools, resources and prompts, and returns each definition as given", () => {
    const tool = typed.defineTool({
      name: "count",
      title: "Count",
      description: "Counts rows; a fixture for the definers' types.",
      input: z.object({ table: z.string().describe("A table") }),
      output: z.object({ n: z.number() }),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      toolset: "rows",
      handler: async ({ table }, ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<HandlerContext<Config, Deps>>();
        expectTypeOf(ctx.config.greeting).toBeString();
        // @ts-expect-error a typo in deps fails to type-check
        void ctx.deps.dbb;
        // @ts-expect-error a typo in config fails to type-check
        void ctx.config.greting;
        ctx.log.info({ table }, "counting"); // pino's order, as setup's log takes it
        // @ts-expect-error the message goes after the fields, never before them
        ctx.log.info("counting", { table });
        return { n: await ctx.deps.db.query(table) };
      },
    });
    const resource = typed.defineResource({
      name: "greeting",
      title: "Greeting",
      description: "The configured greeting.",
      mimeType: "text/plain",
      uri: "greeting://",
      read: (uri, ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<ReadContext<Config, Deps>>();
        // @ts-expect-error a typo in deps fails to type-check
        void ctx.deps.dbx;
        return [{ uri: uri.href, text: ctx.config.greeting }];
      },
    });
    const prompt = typed.definePrompt({
      name: "greet",
      title: "Greet",
      description: "Greets someone.",
      args: z.object({ who: z.string().describe("Who") }),
      handler: ({ who }, ctx) => {
        // @ts-expect-error a typo in config fails to type-check
        void ctx.config.greetin;
        return {
          messages: [{ role: "user", content: { type: "text", text: `${ctx.config.greeting} ${who}` } }],
        };
      },
    });
    expect([tool.name, tool.toolset, resource.name, prompt.name]).toEqual([
      "count",
      "rows",
      "greeting",
      "greet",
    ]);
  });

  it("makes a tool name one of the server's toolsets when the server lists them", () => {
    const grouped = definers<Config, Deps, "repos" | "issues">();
    const base = {
      title: "Grouped",
      description: "A tool of a server with toolsets.",
      input: z.object({}),
      output: z.object({}),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: () => ({}),
    };
    const tool = grouped.defineTool({ ...base, name: "in_repos", toolset: "repos" });
    expectTypeOf(tool.toolset).toEqualTypeOf<"repos" | "issues">();
    // @ts-expect-error a toolset the server does not list
    grouped.defineTool({ ...base, name: "in_typo", toolset: "repo" });
    // @ts-expect-error a tool without its toolset
    grouped.defineTool({ ...base, name: "in_none" });
    expect(tool.toolset).toBe("repos");
  });

  it("leaves config and deps unknown in the untyped defineTool, so they cannot be used unchecked", () => {
    const tool = defineTool({
      name: "plain",
      title: "Plain",
      description: "A tool of a server without config or deps.",
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: (_input, ctx) => {
        expectTypeOf(ctx.deps).toBeUnknown();
        expectTypeOf(ctx.config).toBeUnknown();
        // @ts-expect-error unknown deps cannot be read without a definers<Config, Deps>() type
        void ctx.deps.anything;
        return { ok: true };
      },
    });
    expect(tool.name).toBe("plain");
  });
});
