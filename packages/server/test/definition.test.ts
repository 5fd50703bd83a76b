import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createRuntime, defineTool, InvalidServerDefinition, selfDescribing } from "../src/index.js";
import { definitionProblems } from "../src/validate-definition.js";

const good = defineTool({
  name: "list_things",
  title: "List things",
  description: "Lists the things; use it before anything else.",
  input: z.object({ limit: z.number().optional().default(10).describe("How many.") }),
  output: z.object({ things: z.array(z.string()) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: () => ({ things: [] }),
});

describe("definitionProblems", () => {
  it("accepts a complete server", () => {
    expect(definitionProblems({ name: "ok", version: "1.0.0", tools: [good] })).toEqual([]);
  });

  it("names every gap at once", () => {
    const bad = {
      ...good,
      name: "BadName",
      title: "",
      description: "short",
      input: z.object({ q: z.string() }),
      output: z.string(),
      annotations: { readOnlyHint: true, destructiveHint: true },
    };
    const problems = definitionProblems({ name: "x", version: "1", tools: [bad as never, good, good] });
    expect(problems).toEqual([
      "tool 'BadName': name must be snake_case, 1-64 of [a-z0-9_]",
      "tool 'BadName': title is missing",
      "tool 'BadName': description is missing or shorter than 20 characters",
      "tool 'BadName': input field 'q' has no .describe(...) (or selfDescribing(...))",
      "tool 'BadName': output must be a z.object(...)",
      "tool 'BadName': annotations.idempotentHint must be set",
      "tool 'BadName': annotations.openWorldHint must be set",
      "tool 'BadName': a read-only tool cannot be destructive",
      "tool 'list_things' is defined twice",
    ]);
  });

  it("checks resources and prompts too", () => {
    const resource = { name: "r", title: "", description: "d", mimeType: "", uri: "x://r", read: () => [] };
    const prompt = {
      name: "p",
      title: "P",
      description: "",
      args: z.object({ a: z.string() }),
      handler: () => ({ messages: [] }),
    };
    expect(
      definitionProblems({
        name: "x",
        version: "1",
        tools: [good],
        resources: [resource, resource],
        prompts: [prompt],
      }),
    ).toEqual([
      "resource 'r': title is missing",
      "resource 'r': mimeType is missing",
      "resource 'r' is defined twice",
      "resource 'r': title is missing",
      "resource 'r': mimeType is missing",
      "prompt 'p': description is missing",
      "prompt 'p': args field 'a' has no .describe(...) (or selfDescribing(...))",
    ]);
  });

  it("takes a field marked selfDescribing, through its optional and default wrappers, without a description", () => {
    const page = selfDescribing(z.number().int().min(1));
    const input = z.object({ owner: selfDescribing(z.string()), page: page.default(1), q: z.string() });
    expect(definitionProblems({ name: "x", version: "1", tools: [{ ...good, input }] })).toEqual([
      "tool 'list_things': input field 'q' has no .describe(...) (or selfDescribing(...))",
    ]);
    // Listed as written: no description is made up for it.
    const t = createRuntime({
      name: "x",
      version: "1",
      tools: [{ ...good, input: input.omit({ q: true }) }],
    });
    expect(t.toolList[0]?.inputSchema).toEqual({
      type: "object",
      properties: { owner: { type: "string" }, page: { type: "integer", minimum: 1, default: 1 } },
      required: ["owner"],
    });
  });

  it("makes the kit refuse to start an incomplete server", () => {
    const def = { name: "x", version: "1", tools: [{ ...good, title: "" }] };
    expect(() => createRuntime(def)).toThrow(InvalidServerDefinition);
    expect(() => createRuntime(def)).toThrow(/tool 'list_things': title is missing/);
  });
});
