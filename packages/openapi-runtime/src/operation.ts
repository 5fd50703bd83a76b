// One API operation as a tool: its input becomes an HTTP request through @toolshed/http-client,
// the answer is checked against the document's schema and becomes the tool's output.
import type { QueryValue } from "@toolshed/http-client";
import {
  definers,
  ToolshedError,
  z as zod,
  type AnyObjectSchema,
  type ToolAnnotations,
  type ToolDefinition,
  type z,
} from "@toolshed/server";
import type { ApiConfig, ApiDeps } from "./api.js";
import { requestBody } from "./body.js";
import { isObject, joined, pathValue, queryPairs, scalar, type Json } from "./encode.js";

export interface OperationSpec<In extends AnyObjectSchema, Out extends AnyObjectSchema> {
  name: string;
  title: string;
  description: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  path: string;
  /**
   * The operation's own server (OpenAPI path- or operation-level servers): an absolute URL used while
   * baseUrl is the document's (a baseUrl pointed elsewhere, a proxy or a test double, takes every
   * call), or a path prefixed to the operation's path.
   */
  server?: string;
  /** The media type asked for (the document's answer type). */
  accept?: string;
  /** Input field -> where it goes in the request and under which name. */
  params: Readonly<
    Record<string, { in: "path" | "query" | "header"; name: string; style?: string; explode?: boolean }>
  >;
  /**
   * The request body: JSON from its properties (flat) or one field (whole), sent with the document's
   * JSON type (a +json one kept); a form or multipart from fields (files base64); text or base64
   * bytes from one field, with a fixed type or the one in typeKey.
   */
  body?:
    | { kind: "flat"; keys: readonly string[]; contentType?: string }
    | { kind: "whole"; key: string; contentType?: string }
    | { kind: "form" | "multipart"; keys: readonly string[]; files: readonly string[] }
    | { kind: "text" | "binary"; key: string; contentType: string; typeKey?: string };
  /** Alternatives, each a list of schemes that must all be sent; the first one configured is used. */
  security: readonly (readonly string[])[];
  /** The input field listing the answer's fields to keep (object answers and lists of objects). */
  select?: string;
  /** How the answer becomes the tool's object output (text: { text }, bytes: { base64, content_type, bytes }). */
  wrap: "none" | "items" | "result" | "empty" | "text" | "bytes";
  annotations: ToolAnnotations;
  input: In;
  /** What the tool advertises and returns: the document's answer with required fields optional. */
  output: Out;
  /** The document's answer schema, wrapped like output: drift from it is warned about or refused. */
  answer: AnyObjectSchema;
  /**
   * The most bytes of output JSON Schema the tool advertises in tools/list: above it the schema is
   * summarised (top-level fields and their types), and above it again left open. 0: no limit.
   */
  maxOutputSchemaBytes?: number;
}

/** The definers of a generated server: its tools' ctx.config and ctx.deps typed. */
export const { defineTool } = definers<ApiConfig, ApiDeps>();

/** A tool that calls one API operation. */
export function operationTool<In extends AnyObjectSchema, Out extends AnyObjectSchema>(
  spec: OperationSpec<In, Out>,
): ToolDefinition<In, Out, ApiConfig, ApiDeps> {
  const output = withinBudget(spec.output, spec.wrap, spec.maxOutputSchemaBytes ?? 0) as Out;
  const tool = defineTool({
    name: spec.name,
    title: spec.title,
    description: spec.description,
    input: spec.input,
    output,
    annotations: spec.annotations,
    ...(spec.wrap === "text" ? { render: (data: z.output<Out>) => (data as { text: string }).text } : {}),
    handler: async (input, ctx) => {
      const args = input as Record<string, unknown>;
      const query: Record<string, QueryValue | QueryValue[]> = { ...ctx.deps.query };
      const headers: Record<string, string> = {};
      let path = spec.path;
      for (const [key, param] of Object.entries(spec.params)) {
        const value = args[key];
        if (value === undefined) continue;
        const explode = param.explode ?? param.in === "query";
        if (param.in === "path") {
          const text = Array.isArray(value) || isObject(value) ? "" : scalar(value);
          // "." and ".." (also as %2E) would move the request to another path of the API.
          if (/^(\.|%2e){1,2}$/i.test(text)) {
            throw new ToolshedError(
              "invalid_input",
              "'" + key + "' cannot be '" + text + "': pass a real " + key,
            );
          }
          const segment = pathValue(value, param.name, param.style ?? "simple", explode);
          path = path.split("{" + param.name + "}").join(segment);
        } else if (param.in === "query") {
          for (const [k, v] of queryPairs(param.name, value, param.style ?? "form", explode)) {
            const prev = query[k];
            query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
          }
        } else {
          headers[param.name] = joined(value, ",", explode);
        }
      }
      const { json, raw, contentType } = await requestBody(spec, args, ctx.deps);
      if (contentType) headers["content-type"] = contentType;
      if (spec.accept) headers.accept = spec.accept;
      applyCredentials(spec.security, ctx.deps, headers, query);
      const expected = (
        spec.wrap === "none"
          ? spec.answer
          : spec.wrap === "empty" || spec.wrap === "text" || spec.wrap === "bytes"
            ? undefined
            : spec.answer.shape[spec.wrap]
      ) as z.ZodType | undefined;
      const responseType = expected
        ? "json"
        : spec.wrap === "text"
          ? "text"
          : spec.wrap === "bytes"
            ? "bytes"
            : undefined;
      const absolute = spec.server !== undefined && /^https?:\/\//i.test(spec.server);
      const own = absolute && ctx.deps.config.baseUrl.replace(/\/+$/, "") === ctx.deps.api.defaultBaseUrl;
      if (spec.server !== undefined && !absolute) path = spec.server + path;
      try {
        const res = await ctx.deps.http.request({
          method: spec.method,
          ...(own ? { url: spec.server + path } : { path }),
          query,
          headers,
          ...(json === undefined ? {} : { json }),
          ...(raw === undefined ? {} : { body: raw }),
          ...(responseType ? { responseType } : {}),
          signal: ctx.signal,
        });
        const checked = expected?.safeParse(res.data);
        if (checked && !checked.success) {
          const first = checked.error.issues[0];
          const issue =
            (first && first.path.length ? first.path.join(".") : "(root)") +
            ": " +
            (first?.message ?? "invalid");
          const strict = ctx.deps.config.strictAnswers === true;
          // Lenient answers tolerate what the advertised output does (missing fields), not other types.
          const advertised = (spec.wrap === "none" ? output : output.shape[spec.wrap]) as z.ZodType;
          if (strict || !advertised.safeParse(res.data).success) {
            throw new ToolshedError(
              "upstream_error",
              ctx.deps.api.name +
                " " +
                spec.method +
                " " +
                spec.path +
                ": the answer does not match the document at " +
                issue +
                (strict
                  ? " (strict answers are on: turn them off to accept missing fields)"
                  : "; the upstream API may have changed"),
              { retryable: false, details: { issue, issues: checked.error.issues.length } },
            );
          }
          // Drift from the document is common (examples and real APIs omit "required" fields): say so, pass it on.
          ctx.log.warn(
            { tool: spec.name, issue, issues: checked.error.issues.length },
            "answer does not match the document's schema; passing it on",
          );
        }
        const selected = spec.select ? (args[spec.select] as string[] | undefined) : undefined;
        const answer = selected?.length ? selectFields(res.data, selected, spec.select!) : res.data;
        const data: unknown =
          spec.wrap === "none"
            ? answer
            : spec.wrap === "empty"
              ? { status: res.status }
              : spec.wrap === "text"
                ? { text: typeof res.data === "string" ? res.data : "" }
                : spec.wrap === "bytes"
                  ? bytesAnswer(res.data, res.headers["content-type"])
                  : { [spec.wrap]: answer };
        return data as z.input<Out>;
      } catch (err) {
        throw explain(err, ctx.deps);
      }
    },
  });
  specs.set(tool, spec);
  return tool;
}

/** Each generated tool's spec, so an override can rebuild it (a different output budget). */
const specs = new WeakMap<object, OperationSpec<AnyObjectSchema, AnyObjectSchema>>();

/** The spec a tool was made from by operationTool, if it was. */
export const specOf = (tool: object): OperationSpec<AnyObjectSchema, AnyObjectSchema> | undefined =>
  specs.get(tool);

const schemaBytes = (schema: z.ZodType): number =>
  Buffer.byteLength(JSON.stringify(zod.toJSONSchema(schema, { io: "output", unrepresentable: "any" })));

/**
 * The advertised output within a byte budget: as generated if it fits; else summarised, the first of
 * these that fits: every field with its type but no descriptions; the fields two levels down (a
 * list's items included); the top-level fields only; else open (still an object). Answers are still
 * checked against the document's full schema.
 */
function withinBudget(
  output: AnyObjectSchema,
  wrap: OperationSpec<AnyObjectSchema, AnyObjectSchema>["wrap"],
  budget: number,
): AnyObjectSchema {
  if (
    budget <= 0 ||
    wrap === "empty" ||
    wrap === "text" ||
    wrap === "bytes" ||
    schemaBytes(output) <= budget
  ) {
    return output;
  }
  for (const levels of [Infinity, 2, 1]) {
    const summary =
      wrap === "none"
        ? (typesOnly(output, levels) as AnyObjectSchema)
        : zod.object({ [wrap]: typesOnly(output.shape[wrap] as z.ZodType, levels) });
    if (schemaBytes(summary) <= budget) return summary;
  }
  if (wrap === "none") return zod.looseObject({});
  return zod.object({ [wrap]: wrap === "items" ? zod.array(zod.unknown()) : zod.unknown() });
}

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType> };

/** A schema's types without descriptions, objects' fields kept so many levels deep (lists do not count). */
function typesOnly(schema: z.ZodType, levels: number): z.ZodType {
  const def = (schema as unknown as { def: Def }).def;
  switch (def.type) {
    case "optional":
      return typesOnly(def.innerType!, levels).optional();
    case "nullable":
      return typesOnly(def.innerType!, levels).nullable();
    case "object":
      return zod.looseObject(
        levels > 0
          ? Object.fromEntries(
              Object.entries((schema as unknown as AnyObjectSchema).shape).map(([k, v]) => [
                k,
                typesOnly(v as z.ZodType, levels - 1),
              ]),
            )
          : {},
      );
    case "array":
      return zod.array(levels > 0 ? typesOnly(def.element!, levels) : zod.unknown());
    case "string":
      return zod.string();
    case "number":
      return zod.number();
    case "boolean":
      return zod.boolean();
    case "literal":
      return schema;
    case "record":
      return zod.record(zod.string(), zod.unknown());
    default:
      return zod.unknown();
  }
}

/**
 * Keeps only the named fields of an object answer, or of each item of a list; "a.b" reaches into
 * nested objects (and each item of a nested list). Names that match nothing anywhere are an error
 * listing the fields there are, so a typo does not return empty objects.
 */
function selectFields(data: unknown, fields: readonly string[], key: string): unknown {
  const items: unknown[] = Array.isArray(data) ? data : [data];
  const pick = (value: unknown, path: string[]): unknown => {
    if (Array.isArray(value)) return value.map((v) => pick(v, path));
    if (!isObject(value) || path.length === 0) return value;
    const [head, ...rest] = path as [string, ...string[]];
    return head in value ? { [head]: pick(value[head], rest) } : {};
  };
  const merge = (a: unknown, b: unknown): unknown => {
    if (Array.isArray(a) && Array.isArray(b)) return a.map((v, i) => merge(v, b[i]));
    if (isObject(a) && isObject(b)) {
      const out: Json = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
      return out;
    }
    return b;
  };
  const found = new Set<string>();
  const picked = items.map((item) => {
    if (!isObject(item)) return item;
    let out: unknown = {};
    for (const f of fields) {
      const part = pick(item, f.split("."));
      if (isObject(part) && Object.keys(part).length > 0) found.add(f);
      out = merge(out, part);
    }
    return out;
  });
  const objects = items.filter(isObject);
  if (objects.length > 0 && found.size === 0) {
    const known = [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
    throw new ToolshedError(
      "invalid_input",
      "'" + key + "': no field named " + fields.join(", ") + "; the answer has: " + known.join(", "),
    );
  }
  return Array.isArray(data) ? picked : picked[0];
}

/** A binary answer for the model: base64 with its media type and size. */
function bytesAnswer(
  data: unknown,
  contentType: unknown,
): { base64: string; content_type: string; bytes: number } {
  const bytes = data instanceof Uint8Array ? Buffer.from(data) : Buffer.alloc(0);
  return {
    base64: bytes.toString("base64"),
    content_type: typeof contentType === "string" ? contentType : "application/octet-stream",
    bytes: bytes.length,
  };
}

function applyCredentials(
  security: OperationSpec<AnyObjectSchema, AnyObjectSchema>["security"],
  deps: ApiDeps,
  headers: Record<string, string>,
  query: Record<string, QueryValue | QueryValue[]>,
): void {
  const value = (key: string): string | undefined => {
    const v = deps.config[key];
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const byScheme = new Map(deps.api.credentials.map((c) => [c.scheme, c]));
  const usable = security.find((alternative) =>
    alternative.every((scheme) => byScheme.get(scheme)?.keys.every((k) => value(k) !== undefined)),
  );
  for (const scheme of usable ?? []) {
    const c = byScheme.get(scheme)!;
    const first = value(c.keys[0]!)!;
    if (c.kind === "bearer") headers.authorization = "Bearer " + first;
    else if (c.kind === "basic") {
      headers.authorization = "Basic " + Buffer.from(first + ":" + value(c.keys[1]!)!).toString("base64");
    } else if (c.in === "query") query[c.paramName!] = first;
    else if (c.in === "cookie") headers.cookie = c.paramName! + "=" + encodeURIComponent(first);
    else headers[c.paramName!] = first;
  }
}

/** Adds what to do next to the errors a user can fix by configuration. */
function explain(err: unknown, deps: ApiDeps): unknown {
  if (!(err instanceof ToolshedError)) return err;
  let hint = "";
  if (err.code === "unauthenticated" && deps.api.credentials.length > 0) {
    const envs = deps.api.credentials.map((c) => c.env.join(" and ")).join(" or ");
    hint = " Set " + envs + " to a valid credential for " + deps.config.baseUrl + ".";
  } else if (
    err.code === "forbidden" &&
    /refused to connect/.test(err.message) &&
    deps.api.privateNetworkEnv
  ) {
    // The HTTP client names its own option; a user of this server sets an env var.
    return new ToolshedError(
      err.code,
      err.message.replace(/ \(set allowPrivateNetwork[^)]*\)/, "") +
        ". If " +
        deps.config.baseUrl +
        " is your own internal API, set " +
        deps.api.privateNetworkEnv +
        "=true.",
      { ...(err.details ? { details: err.details } : {}), retryable: false, cause: err },
    );
  } else if (err.code === "upstream_unavailable" && !err.retryAfterMs) {
    hint =
      " Is the API running at " +
      deps.config.baseUrl +
      "? Start it, or point " +
      deps.api.baseUrlEnv +
      " at it.";
  }
  if (!hint) return err;
  const joined = /[.!?]"?$/.test(err.message) ? err.message + hint : err.message + "." + hint;
  return new ToolshedError(err.code, joined, {
    ...(err.details ? { details: err.details } : {}),
    retryable: err.retryable,
    ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    cause: err,
  });
}
