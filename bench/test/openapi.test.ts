// The openapi bench's own parts: the example answers it reads from a real document and the sample
// arguments it builds, which must satisfy a tool's input schema or the bench measures nothing.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { loadDocument } from "@toolshed/openapi";
import { describe, expect, it } from "vitest";
import { exampleAnswers, requiredArgs } from "../src/openapi/examples.js";

const require = createRequire(import.meta.url);
const BLOCKFROST = join(dirname(require.resolve("@blockfrost/openapi/package.json")), "openapi.yaml");

describe("the openapi bench's inputs", () => {
  it("reads an operation's example answer (Blockfrost gives it on the schema)", async () => {
    const doc = await loadDocument(BLOCKFROST);
    const [example] = exampleAnswers(doc, "get", "/blocks/{hash_or_number}/addresses");
    expect(example).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]),
    );
    expect(exampleAnswers(doc, "get", "/no/such/path")).toEqual([]);
  });

  it("builds required arguments from enums, defaults, formats and bounds", () => {
    const args = requiredArgs({
      type: "object",
      required: ["kind", "id", "n", "tags", "when"],
      properties: {
        kind: { type: "string", enum: ["b", "a"] },
        id: { type: "string", format: "uuid" },
        n: { type: "integer", minimum: 5 },
        tags: { type: "array", minItems: 1, items: { type: "string", minLength: 3 } },
        when: { type: "string", format: "date-time" },
        optional: { type: "string" },
      },
    });
    expect(args).toEqual({
      kind: "b",
      id: "0b6b5d9e-8a8f-4c35-9a55-4a3c6f1f2d10",
      n: 5,
      tags: ["xxx"],
      when: "2024-01-02T03:04:05Z",
    });
  });
});
