import { describe, expect, it } from "vitest";
import { z } from "zod";
import { hintsOf, jsonSchema, wireAnnotations, wireOutputSchema, wireSchema } from "../src/tool-json.js";

describe("the tools/list wire form", () => {
  it("lists only the hints MCP would not assume, and the spec's defaults give the rest back", () => {
    for (const readOnlyHint of [true, false])
      for (const destructiveHint of readOnlyHint ? [false] : [true, false])
        for (const idempotentHint of [true, false])
          for (const openWorldHint of [true, false]) {
            const hints = { readOnlyHint, destructiveHint, idempotentHint, openWorldHint };
            const wire = wireAnnotations(hints);
            const back = hintsOf(wire);
            expect(back.readOnlyHint).toBe(readOnlyHint);
            expect(back.openWorldHint).toBe(openWorldHint);
            if (!readOnlyHint) expect(back).toEqual(hints);
            for (const [key, value] of Object.entries(wire)) {
              // Nothing listed is what a client would assume without it.
              expect(value, key).toBe(key === "readOnlyHint" || key === "idempotentHint");
            }
          }
    expect(
      wireAnnotations({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      }),
    ).toEqual({
      readOnlyHint: true,
    });
    expect(
      wireAnnotations({
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      }),
    ).toEqual({});
  });

  it("drops zod's additionalProperties: false from output schemas, not a property of that name", () => {
    const output = z.object({
      items: z.array(z.object({ additionalProperties: z.string(), n: z.number().optional() })),
      tags: z.record(z.string(), z.number()),
    });
    const strict = jsonSchema(output, "output");
    expect(JSON.stringify(strict)).toContain('"additionalProperties":false');
    const wire = wireOutputSchema(strict);
    expect(JSON.stringify(wire)).not.toContain('"additionalProperties":false');
    expect(wire).toEqual({
      type: "object",
      properties: {
        items: {
          type: "array",
          items: {
            type: "object",
            // A property that happens to be called additionalProperties is data and stays.
            properties: { additionalProperties: { type: "string" }, n: { type: "number" } },
            required: ["additionalProperties"],
          },
        },
        // A record's propertyNames {type: string} goes too (see the next test).
        tags: { type: "object", additionalProperties: { type: "number" } },
      },
      required: ["items", "tags"],
    });
  });

  it("drops the safe-integer bounds of .int() and a record's string propertyNames, and no other bound", () => {
    const input = z.object({
      n: z.number().int().describe("Any integer"),
      page: z.number().int().min(1).describe("From 1"),
      capped: z.number().int().min(-5).max(100).describe("Small"),
      big: z.number().max(Number.MAX_SAFE_INTEGER).describe("A number, not an integer"),
      tags: z.record(z.string(), z.number().int()).describe("Counts"),
      codes: z.record(z.string().regex(/^[a-z]+$/), z.string()).describe("Lower-case keys"),
      maximum: z.object({ propertyNames: z.string() }).describe("Names that are keywords"),
    });
    const json = jsonSchema(input, "input");
    expect(JSON.stringify(json)).toContain("9007199254740991");
    const wire = wireSchema(json) as { properties: Record<string, unknown> };
    expect(wire.properties).toEqual({
      n: { type: "integer", description: "Any integer" },
      page: { type: "integer", minimum: 1, description: "From 1" },
      capped: { type: "integer", minimum: -5, maximum: 100, description: "Small" },
      big: { type: "number", maximum: Number.MAX_SAFE_INTEGER, description: "A number, not an integer" },
      tags: { type: "object", additionalProperties: { type: "integer" }, description: "Counts" },
      codes: {
        type: "object",
        propertyNames: { type: "string", pattern: "^[a-z]+$" },
        additionalProperties: { type: "string" },
        description: "Lower-case keys",
      },
      maximum: {
        type: "object",
        properties: { propertyNames: { type: "string" } },
        required: ["propertyNames"],
        description: "Names that are keywords",
      },
    });
  });
});
