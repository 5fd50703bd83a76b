// An independent judge of a document's example answers: the JSON Schema validator of the field (Ajv)
// checks each example against the response schema the document itself gives for it, so the bench
// can tell an example a generated tool wrongly refuses from one its own document contradicts.
//
// Two verdicts, because generated tools are lenient by design about one thing: a required property
// missing from an answer (documents' own examples often leave some out; @toolshed/openapi's
// zod-emit.ts `lenient`). An example that is only missing required properties must be accepted; one
// whose values contradict the document's types, enums or shapes must be refused.
import { Ajv, type ValidateFunction } from "ajv";
import type { OpenApiDocument } from "@toolshed/openapi";

type Json = Record<string, unknown>;

const DOCUMENT = "urn:toolshed:document";

/**
 * A copy of `schema` as JSON Schema: its local `$ref`s ("#/components/…") point into the document
 * Ajv holds, and OpenAPI 3.0's `nullable: true` becomes a `null` alternative (Ajv's own `nullable`
 * needs a `type` beside it, which OpenAPI does not: `{ nullable: true, allOf: [{ $ref }] }`).
 * `dropRequired` leaves out every `required` list.
 */
function asJsonSchema(schema: unknown, dropRequired: boolean): unknown {
  if (Array.isArray(schema)) return schema.map((s) => asJsonSchema(s, dropRequired));
  if (!schema || typeof schema !== "object") return schema;
  const { nullable, ...rest } = schema as Json;
  const kept = nullable === undefined || typeof nullable === "boolean" ? rest : (schema as Json);
  const out = Object.fromEntries(
    Object.entries(kept)
      .filter(([k, v]) => !(dropRequired && k === "required" && Array.isArray(v)))
      .map(([k, v]) => [
        k,
        k === "$ref" && typeof v === "string" && v.startsWith("#")
          ? `${DOCUMENT}${v}`
          : asJsonSchema(v, dropRequired),
      ]),
  );
  return nullable === true ? { anyOf: [out, { type: "null" }] } : out;
}

export type Verdict =
  /** The document's schema allows it. */
  | { kind: "valid" }
  /** Allowed but for required properties it leaves out: a generated tool accepts it. */
  | { kind: "incomplete"; error: string }
  /** Its values contradict the document's schema: a generated tool refuses it. */
  | { kind: "contradicted"; error: string };

class Validator {
  readonly #ajv: Ajv;
  readonly #compiled = new Map<unknown, ValidateFunction | null>();

  constructor(
    doc: OpenApiDocument,
    readonly dropRequired: boolean,
  ) {
    // OpenAPI schemas carry keywords JSON Schema does not know (example, xml, x-…): ignored. Formats
    // are not judged (a generated tool does not refuse an answer over a format either).
    this.#ajv = new Ajv({ strict: false, validateFormats: false });
    this.#ajv.addSchema({ ...(asJsonSchema(doc, dropRequired) as Json), $id: DOCUMENT });
  }

  /** undefined when Ajv cannot compile the schema; else "" when valid, or the first error. */
  check(schema: unknown, example: unknown): string | undefined {
    let validate = this.#compiled.get(schema);
    if (validate === undefined) {
      try {
        validate = this.#ajv.compile(asJsonSchema(schema, this.dropRequired) as Json);
      } catch {
        validate = null;
      }
      this.#compiled.set(schema, validate);
    }
    if (!validate) return undefined;
    if (validate(example)) return "";
    const e = validate.errors?.[0];
    return e ? `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}` : "(root) is invalid";
  }
}

/** Judges examples against schemas of one document (a schema object of it, `$ref`s into it). */
export class ExampleJudge {
  readonly #strict: Validator;
  readonly #lenient: Validator;

  constructor(doc: OpenApiDocument) {
    this.#strict = new Validator(doc, false);
    this.#lenient = new Validator(doc, true);
  }

  /** undefined when the schema cannot be compiled (the bench then counts the example as valid). */
  judge(schema: unknown, example: unknown): Verdict | undefined {
    const strict = this.#strict.check(schema, example);
    if (strict === undefined) return undefined;
    if (strict === "") return { kind: "valid" };
    const lenient = this.#lenient.check(schema, example);
    if (lenient === "") return { kind: "incomplete", error: strict };
    return { kind: "contradicted", error: lenient ?? strict };
  }
}
