// JSON Schema (as OpenAPI 3.0/3.1 writes it) -> zod source code. Inputs keep every constraint the
// document states (enums, formats, bounds, patterns, defaults); outputs are lenient about what the
// upstream may add (loose objects, no bounds or enums) so a new field or value does not break a tool.
import { resolveRef, type OpenApiDocument, type Schema } from "./document.js";

export type Mode = "input" | "output";

export interface EmitOptions {
  doc: OpenApiDocument;
  mode: Mode;
  /** Nesting beyond this becomes z.unknown() (huge or recursive schemas). */
  maxDepth: number;
  /**
   * Set inside oneOf/anyOf: objects keep keys they do not list, so the variant that matches is sent
   * whole rather than stripped to its own properties (a key-less variant would otherwise eat the input).
   */
  loose?: boolean;
  /**
   * Outputs only: required properties may be missing. The schema a tool advertises, so an answer that
   * leaves out what the document requires (as its own examples often do) still reaches the model.
   */
  lenient?: boolean;
}

const MAX_DESCRIPTION = 600;

/** A description fit for a model: whitespace collapsed, HTML tags dropped, bounded. */
export function cleanDescription(text: unknown, max = MAX_DESCRIPTION): string | undefined {
  if (typeof text !== "string") return undefined;
  let s = text
    .replace(
      /<\/?(p|br|a|b|i|u|em|strong|code|pre|ul|ol|li|table|thead|tbody|tr|td|th|div|span|h[1-6]|img|sup|sub|hr|details|summary|blockquote)\b[^>]*>/gi,
      " ",
    )
    .replace(/\s+/g, " ")
    .trim();
  if (!s) return undefined;
  if (s.length > max) s = s.slice(0, max - 1).replace(/\s+\S*$/, "") + "…";
  return s;
}

const lit = (v: unknown) => JSON.stringify(v);

export interface ZodCode {
  /** The expression, without `.optional()`/`.default()`/`.describe()`. */
  base: string;
  description: string | undefined;
  defaultValue: unknown;
  nullable: boolean;
}

/** The zod expression for a schema, finished: nullability, default, description. */
export function zodExpression(schema: Schema | undefined, opts: EmitOptions, depth = 0): string {
  return finish(zodParts(schema, opts, depth, new Set()), { optional: false, mode: opts.mode });
}

export function finish(
  code: ZodCode,
  {
    optional,
    mode,
    description,
    absentOnly,
  }: { optional: boolean; mode: Mode; description?: string | undefined; absentOnly?: boolean },
): string {
  let out = code.base;
  if (code.nullable) out += ".nullable()";
  // An optional field's default is shown to the model but not filled in: the API applies its own, and
  // a call sends only what the model chose. A required field with a default is filled.
  if (mode === "input" && code.defaultValue !== undefined && !optional)
    out += `.default(${lit(code.defaultValue)})`;
  else if (mode === "input" && code.defaultValue !== undefined)
    out += `.optional().meta({ default: ${lit(code.defaultValue)} })`;
  else if (optional) out += mode === "output" && !absentOnly ? ".nullish()" : ".optional()";
  const text = description ?? code.description;
  if (text) out += `.describe(${lit(text)})`;
  return out;
}

function typesOf(schema: Schema): { types: string[]; nullable: boolean } {
  const raw = schema.type;
  let types = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? [raw] : [];
  let nullable = schema.nullable === true || types.includes("null");
  types = types.filter((t) => t !== "null");
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) nullable = true;
  return { types, nullable };
}

/** Merges allOf members that are objects into one object schema (the common "extends" pattern). */
function mergeAllOf(schema: Schema, doc: OpenApiDocument, seen: Set<string>): Schema {
  const parts = (schema.allOf as Schema[]).map((p) => follow(p, doc, seen).schema);
  const merged: Schema = { type: "object", properties: {}, required: [] as string[] };
  for (const part of [...parts, { ...schema, allOf: undefined }]) {
    const inner = part.allOf ? mergeAllOf(part, doc, seen) : part;
    Object.assign(merged.properties as object, inner.properties ?? {});
    (merged.required as string[]).push(...((inner.required as string[] | undefined) ?? []));
    if (inner.description && !merged.description) merged.description = inner.description;
    if (inner.additionalProperties !== undefined) merged.additionalProperties = inner.additionalProperties;
  }
  if (schema.description) merged.description = schema.description;
  return merged;
}

function isObjectLike(schema: Schema): boolean {
  const { types } = typesOf(schema);
  return types.includes("object") || (types.length === 0 && (!!schema.properties || !!schema.allOf));
}

/** Follows $refs; `cycle` is set when a ref is already being expanded further up. */
export function follow(
  schema: Schema,
  doc: OpenApiDocument,
  seen: Set<string>,
): { schema: Schema; cycle: boolean; refs: string[] } {
  let current = schema;
  const refs: string[] = [];
  for (let i = 0; i < 20 && typeof current.$ref === "string"; i++) {
    if (seen.has(current.$ref)) return { schema: current, cycle: true, refs };
    refs.push(current.$ref);
    // 3.1 allows siblings beside $ref (a description, say): they win over the target's.
    const { $ref, ...siblings } = current;
    current = { ...resolveRef<Schema>(doc, $ref), ...siblings };
  }
  return { schema: current, cycle: false, refs };
}

export function zodParts(
  input: Schema | undefined,
  opts: EmitOptions,
  depth: number,
  seen: Set<string>,
): ZodCode {
  const unknown = (description?: string): ZodCode => ({
    base: "z.unknown()",
    description,
    defaultValue: undefined,
    nullable: false,
  });
  if (!input || typeof input !== "object") return unknown();
  const followed = follow(input, opts.doc, seen);
  const description = cleanDescription(followed.schema.description ?? followed.schema.title);
  if (followed.cycle || depth > opts.maxDepth) return unknown(description);
  const inner = new Set([...seen, ...followed.refs]);
  let schema = followed.schema;
  if (Array.isArray(schema.allOf)) schema = mergeAllOf(schema, opts.doc, inner);
  const { types, nullable } = typesOf(schema);
  const input_ = opts.mode === "input";
  const defaultValue = input_ ? schema.default : undefined;
  const done = (base: string, isNullable = nullable): ZodCode => ({
    base,
    description,
    defaultValue: defaultValue === null && !isNullable ? undefined : defaultValue,
    nullable: isNullable,
  });

  if (schema.const !== undefined) return done(`z.literal(${lit(schema.const)})`);
  if (Array.isArray(schema.enum) && input_) {
    const values = schema.enum.filter((v) => v !== null);
    if (values.length === 0) return done("z.null()", false);
    if (values.every((v) => typeof v === "string")) return done(`z.enum(${lit(values)})`);
    if (values.length === 1) return done(`z.literal(${lit(values[0])})`);
    return done(`z.union([${values.map((v) => `z.literal(${lit(v)})`).join(", ")}])`);
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    const members = schema[key];
    if (Array.isArray(members) && members.length > 0) {
      const looseOpts = { ...opts, loose: true };
      if (input_) {
        const tagged = discriminated(schema, members as Schema[], looseOpts, depth, inner);
        if (tagged) return done(tagged);
      }
      const codes = (members as Schema[]).map((m) =>
        finish(zodParts(m, looseOpts, depth + 1, inner), { optional: false, mode: opts.mode }),
      );
      const unique = [...new Set(codes)];
      return done(unique.length === 1 ? unique[0]! : `z.union([${unique.join(", ")}])`);
    }
  }
  if (types.length > 1) {
    const codes = types.map((t) =>
      finish(zodParts({ ...schema, type: t, description: undefined }, opts, depth, seen), {
        optional: false,
        mode: opts.mode,
      }),
    );
    return done(`z.union([${codes.join(", ")}])`);
  }
  const type = types[0] ?? (isObjectLike(schema) ? "object" : schema.items ? "array" : undefined);
  switch (type) {
    case "string":
      return done(stringCode(schema, input_));
    case "integer":
    case "number":
      return done(numberCode(schema, type === "integer", input_));
    case "boolean":
      return done("z.boolean()");
    case "array": {
      const items = finish(zodParts(schema.items as Schema | undefined, opts, depth + 1, inner), {
        optional: false,
        mode: opts.mode,
      });
      let code = `z.array(${items})`;
      if (input_ && typeof schema.minItems === "number") code += `.min(${schema.minItems})`;
      if (input_ && typeof schema.maxItems === "number") code += `.max(${schema.maxItems})`;
      return done(code);
    }
    case "object":
      return done(objectCode(schema, opts, depth, inner));
    default:
      return unknown(description);
  }
}

function stringCode(schema: Schema, input: boolean): string {
  if (!input) return "z.string()";
  let code = "z.string()";
  switch (schema.format) {
    case "email":
      code = "z.email()";
      break;
    case "uuid":
      code = "z.uuid()";
      break;
    case "uri":
    case "url":
      code = "z.url()";
      break;
    case "date-time":
      code = "z.iso.datetime({ offset: true })";
      break;
    case "date":
      code = "z.iso.date()";
      break;
  }
  if (typeof schema.minLength === "number" && schema.minLength > 0) code += `.min(${schema.minLength})`;
  if (typeof schema.maxLength === "number") code += `.max(${schema.maxLength})`;
  if (typeof schema.pattern === "string" && compiles(schema.pattern)) {
    code += `.regex(new RegExp(${lit(schema.pattern)}))`;
  }
  return code;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function numberCode(schema: Schema, integer: boolean, input: boolean): string {
  let code = integer ? "z.number().int()" : "z.number()";
  if (!input) return code;
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema as Record<string, unknown>;
  // 3.0: exclusiveMinimum is a boolean beside minimum; 3.1: it is the bound itself.
  if (typeof exclusiveMinimum === "number") code += `.gt(${exclusiveMinimum})`;
  else if (typeof minimum === "number")
    code += exclusiveMinimum === true ? `.gt(${minimum})` : `.min(${minimum})`;
  if (typeof exclusiveMaximum === "number") code += `.lt(${exclusiveMaximum})`;
  else if (typeof maximum === "number")
    code += exclusiveMaximum === true ? `.lt(${maximum})` : `.max(${maximum})`;
  return code;
}

/** A quoted key unless it is a plain identifier. */
export function objectKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : lit(key);
}

function objectCode(schema: Schema, opts: EmitOptions, depth: number, seen: Set<string>): string {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const fields: string[] = [];
  for (const [key, prop] of Object.entries(props)) {
    const resolved = follow(prop, opts.doc, seen).schema;
    // Inputs leave out what the server sets (readOnly); outputs leave out what it never returns (writeOnly).
    if (opts.mode === "input" && resolved.readOnly === true) continue;
    if (opts.mode === "output" && resolved.writeOnly === true) continue;
    // A required field of a lenient output may be missing (not null: that costs an anyOf per field).
    const lenientOnly = required.has(key) && opts.mode === "output" && opts.lenient === true;
    const code = finish(zodParts(prop, opts, depth + 1, seen), {
      optional: !required.has(key) || lenientOnly,
      mode: opts.mode,
      absentOnly: lenientOnly,
    });
    fields.push(`${objectKey(key)}: ${code}`);
  }
  const extra = schema.additionalProperties;
  if (fields.length === 0 && extra && typeof extra === "object") {
    const value = finish(zodParts(extra as Schema, opts, depth + 1, seen), {
      optional: false,
      mode: opts.mode,
    });
    return `z.record(z.string(), ${value})`;
  }
  if (fields.length === 0)
    return opts.mode === "output" ? "z.looseObject({})" : "z.record(z.string(), z.unknown())";
  // Keys a document does not list are allowed unless it says `additionalProperties: false`: an input
  // keeps them (dropping them sends part of what the model asked for, as GitHub's token `permissions`
  // lists five of its dozens of keys), and refuses them where the document forbids them.
  const fn = opts.mode === "output" || opts.loose || extra !== false ? "z.looseObject" : "z.strictObject";
  return `${fn}({ ${fields.join(", ")} })`;
}

/**
 * A `discriminator` as zod: z.discriminatedUnion when every variant is an object that the mapping (or
 * the schema name, as OpenAPI implies without one) tags with one value; else a union checked on the
 * property. Undefined when there is no discriminator to honour.
 */
function discriminated(
  schema: Schema,
  members: Schema[],
  opts: EmitOptions,
  depth: number,
  seen: Set<string>,
): string | undefined {
  const disc = schema.discriminator as { propertyName?: unknown; mapping?: unknown } | undefined;
  const prop = disc?.propertyName;
  if (typeof prop !== "string" || !prop) return undefined;
  const mapping = (disc?.mapping && typeof disc.mapping === "object" ? disc.mapping : {}) as Record<
    string,
    string
  >;
  // value -> the member it selects: the mapping's entries, then each $ref member under its schema name.
  const tags = new Map<string, Schema>();
  for (const [value, ref] of Object.entries(mapping)) {
    if (typeof ref === "string")
      tags.set(value, { $ref: ref.startsWith("#") ? ref : `#/components/schemas/${ref}` });
  }
  for (const m of members) {
    const ref = typeof m.$ref === "string" ? m.$ref : undefined;
    if (!ref || Object.values(mapping).some((r) => ref === r || ref.endsWith(`/${r}`))) continue;
    tags.set(ref.slice(ref.lastIndexOf("/") + 1), m);
  }
  const variants: string[] = [];
  for (const [value, member] of tags) {
    const followed = follow(member, opts.doc, seen);
    if (followed.cycle) break;
    let target = followed.schema;
    if (Array.isArray(target.allOf))
      target = mergeAllOf(target, opts.doc, new Set([...seen, ...followed.refs]));
    if (!isObjectLike(target)) break;
    const properties = { ...((target.properties ?? {}) as Record<string, Schema>), [prop]: { const: value } };
    const required = [...new Set([...((target.required as string[] | undefined) ?? []), prop])];
    const code = zodParts({ ...target, type: "object", properties, required }, opts, depth + 1, seen);
    variants.push(code.base);
  }
  const values = [...tags.keys()];
  if (variants.length === tags.size && variants.length > 0) {
    return `z.discriminatedUnion(${lit(prop)}, [${variants.join(", ")}])`;
  }
  // Some variant is not a plain object: keep the union, and still refuse a tag the document does not name.
  const codes = members.map((m) =>
    finish(zodParts(m, opts, depth + 1, seen), { optional: false, mode: opts.mode }),
  );
  const union = codes.length === 1 ? codes[0]! : `z.union([${codes.join(", ")}])`;
  if (values.length === 0) return union;
  return `${union}.refine((v: unknown) => typeof v !== "object" || v === null || ${lit(values)}.includes((v as Record<string, unknown>)[${lit(prop)}] as string), { message: ${lit(`'${prop}' must be one of ${values.join(", ")}`)}, path: [${lit(prop)}] })`;
}
