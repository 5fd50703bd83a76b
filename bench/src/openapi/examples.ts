// The document's own example answers, per operation, and arguments that satisfy a tool's input schema.
import type { OpenApiDocument } from "@toolshed/openapi";

type Json = Record<string, unknown>;

function deref(doc: OpenApiDocument, value: unknown): unknown {
  let current = value;
  for (let i = 0; i < 10; i++) {
    const ref = (current as { $ref?: unknown } | null)?.$ref;
    if (typeof ref !== "string" || !ref.startsWith("#/")) return current;
    current = ref
      .slice(2)
      .split("/")
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce<unknown>((node, key) => (node as Json | undefined)?.[key], doc);
  }
  return current;
}

/** The media-type object of the operation's first 2xx JSON answer, if it has one. */
function answerMedia(doc: OpenApiDocument, method: string, path: string): Json | undefined {
  const op = doc.paths?.[path]?.[method] as Json | undefined;
  const responses = (op?.responses ?? {}) as Json;
  const status = Object.keys(responses)
    .filter((s) => /^2\d\d$/.test(s))
    .sort()[0];
  if (!status) return undefined;
  const content = ((deref(doc, responses[status]) as Json | undefined)?.content ?? {}) as Json;
  return Object.entries(content).find(([type]) => /json/i.test(type))?.[1] as Json | undefined;
}

/** The schema of the operation's first 2xx JSON answer, as the document gives it (maybe a `$ref`). */
export function answerSchema(doc: OpenApiDocument, method: string, path: string): unknown {
  return answerMedia(doc, method, path)?.schema;
}

/** Every example of the operation's first 2xx JSON answer (media-type `example` and `examples`). */
export function exampleAnswers(doc: OpenApiDocument, method: string, path: string): unknown[] {
  const media = answerMedia(doc, method, path);
  if (!media) return [];
  const out: unknown[] = [];
  if (media.example !== undefined) out.push(media.example);
  for (const ex of Object.values((media.examples ?? {}) as Json)) {
    const value = (deref(doc, ex) as Json | undefined)?.value;
    if (value !== undefined) out.push(value);
  }
  // Some documents (Blockfrost's) give the example on the schema instead.
  const schemaExample = (deref(doc, media.schema) as Json | undefined)?.example;
  if (out.length === 0 && schemaExample !== undefined) out.push(schemaExample);
  return out;
}

const SAMPLE_FORMATS: Record<string, string> = {
  uuid: "0b6b5d9e-8a8f-4c35-9a55-4a3c6f1f2d10",
  "date-time": "2024-01-02T03:04:05Z",
  date: "2024-01-02",
  email: "a@example.com",
  uri: "https://example.com/",
  url: "https://example.com/",
};

/** A value for a JSON Schema (as tools/list shows it): enum, default or a plain one of its type. */
export function sample(schema: Json | undefined, depth = 0): unknown {
  if (!schema || depth > 6) return "x";
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  for (const key of ["anyOf", "oneOf"]) {
    const members = schema[key] as Json[] | undefined;
    if (members?.length) return sample(members.find((m) => m.type !== "null") ?? members[0], depth + 1);
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== "null") : schema.type;
  switch (type) {
    case "string": {
      const base = SAMPLE_FORMATS[String(schema.format)] ?? "x";
      const min = typeof schema.minLength === "number" ? schema.minLength : 0;
      return base.length >= min ? base : base.padEnd(min, "x");
    }
    case "integer":
    case "number": {
      const min = typeof schema.minimum === "number" ? schema.minimum : undefined;
      const gt = typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum + 1 : undefined;
      return Math.max(1, min ?? 1, gt ?? 1);
    }
    case "boolean":
      return true;
    case "array": {
      const min = typeof schema.minItems === "number" ? schema.minItems : 0;
      return Array.from({ length: min }, () => sample(schema.items as Json | undefined, depth + 1));
    }
    case "object":
      return requiredArgs(schema, depth + 1);
    default:
      return "x";
  }
}

/** The required properties of an object schema, each with a sample value. */
export function requiredArgs(schema: Json, depth = 0): Json {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const required = (schema.required ?? []) as string[];
  return Object.fromEntries(required.map((k) => [k, sample(props[k], depth)]));
}
