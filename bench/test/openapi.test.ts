// The openapi bench's own parts: the example answers it reads from a real document and the sample
// arguments it builds, which must satisfy a tool's input schema or the bench measures nothing.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { loadDocument } from "@toolshed/openapi";
import { describe, expect, it } from "vitest";
import { answerSchema, exampleAnswers, requiredArgs } from "../src/openapi/examples.js";
import { ExampleJudge } from "../src/openapi/judge.js";

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

  it("judges examples against their document's own schema: allowed, only incomplete, or contradicted", async () => {
    const doc = await loadDocument(BLOCKFROST);
    const judge = new ExampleJudge(doc);
    const verdict = (path: string) => {
      const schema = answerSchema(doc, "get", path);
      const [example] = exampleAnswers(doc, "get", path);
      expect(schema, path).toBeDefined();
      return judge.judge(schema, example);
    };
    expect(verdict("/blocks/{hash_or_number}/addresses")).toEqual({ kind: "valid" });
    // Blockfrost's example leaves out the deprecated `tx_index` its schema requires: incomplete, and
    // generated tools accept it (they are lenient about missing required properties).
    expect(verdict("/addresses/{address}/utxos")).toEqual({
      kind: "incomplete",
      error: "/0 must have required property 'tx_index'",
    });
    // Its example of /pools/extended pasted a schema (`{ type: number, example: 0.93 }`) where a
    // number belongs, and the xpub example is an array where the schema says object.
    expect(verdict("/pools/extended")).toEqual({
      kind: "contradicted",
      error: "/0/live_saturation must be number",
    });
    expect(verdict("/utils/addresses/xpub/{xpub}/{role}/{index}")).toEqual({
      kind: "contradicted",
      error: "(root) must be object",
    });
    // OpenAPI 3.0's `nullable` without a `type` beside it (an allOf of a $ref) is understood.
    const nullable = { nullable: true, allOf: [{ $ref: "#/components/schemas/block_content" }] };
    expect(judge.judge(nullable, null)).toEqual({ kind: "valid" });
    expect(judge.judge(nullable, 7)?.kind).toBe("contradicted");
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
