import { describe, expect, it } from "vitest";
import { z } from "zod";
import { hintsOf, jsonSchema, wireAnnotations, wireOutputSchema } from "../src/tool-json.js";

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

  it("drops zod's additionalProperties: false from output schemas, and nothing else", () => {
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
        tags: { type: "object", propertyNames: { type: "string" }, additionalProperties: { type: "number" } },
      },
      required: ["items", "tags"],
    });
  });
});
