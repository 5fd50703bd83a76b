// The operations of a document as the generator needs them: a tool name, inputs by location, the
// JSON body, the 2xx response, annotations and security, after --include/--exclude and x-mcp.
import { deref, OpenApiError, serverUrl, type OpenApiDocument, type Schema } from "./document.js";
import { follow } from "./zod-emit.js";
import { camelCase, matches, snakeCase, toolName, uniqueNames } from "./names.js";

export const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;
export type Method = (typeof METHODS)[number];

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  /** The input field (snake_case for headers, the name itself otherwise). */
  key: string;
  required: boolean;
  description: string | undefined;
  schema: Schema;
  /** Serialisation, when not the location's default (form/explode for query, simple for path and header). */
  style?: string;
  explode?: boolean;
}

export interface Body {
  required: boolean;
  schema: Schema;
  description: string | undefined;
  /**
   * "flat": an object body's properties are input fields (JSON, a form or multipart);
   * "whole": the JSON body is one field `key`; "text": a text body in `key`; "binary": base64 in `key`.
   */
  kind: "flat" | "whole" | "text" | "binary";
  /** How a flat body is encoded. */
  encoding: "json" | "form" | "multipart";
  /** The media type sent (for a body of any type, the default of the `content_type` field). */
  contentType: string;
  /** The media type allows any type: the model names it in a `content_type` field. */
  anyType: boolean;
  key: string;
  /** For flat bodies: the property names. */
  keys: string[];
}

export interface Response {
  status: number;
  /** No JSON body (204, or a non-JSON media type). */
  schema: Schema | undefined;
  /**
   * How the body becomes an object output: as is, under `items` (arrays) or `result` (anything else);
   * `text` for a text answer, `bytes` for a binary one (base64), `empty` without a body.
   */
  wrap: "none" | "items" | "result" | "empty" | "text" | "bytes";
  /** The answer's media type, sent as `Accept`. */
  contentType?: string;
}

export interface Operation {
  name: string;
  operationId: string | undefined;
  method: Method;
  path: string;
  tags: string[];
  title: string;
  description: string;
  deprecated: boolean;
  parameters: Parameter[];
  body: Body | undefined;
  response: Response;
  /** Alternatives, each a list of scheme names that must all be sent. */
  security: string[][];
  /** The operation's or path's own server (absolute, or a path under the base URL), if it has one. */
  server?: string;
  annotations: {
    readOnlyHint: boolean;
    destructiveHint: boolean;
    idempotentHint: boolean;
    openWorldHint: boolean;
  };
}

export interface SelectOptions {
  /** Tool names, operationIds or `tag:<tag>`, with `*` wildcards; none means all. */
  include?: string[];
  exclude?: string[];
}

export interface Skipped {
  method: string;
  path: string;
  reason: string;
}

interface RawOperation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  deprecated?: boolean;
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
  servers?: { url: string; variables?: Record<string, { default: string }> }[];
  "x-mcp"?: boolean | { name?: string; title?: string; description?: string; exclude?: boolean };
}

const JSON_TYPE = /^application\/(.+\+)?json\b/i;
const TEXT_TYPE = /^(text\/|application\/(xml|x-yaml|yaml|javascript|x-ndjson|csv)\b|[^/]+\/[^;]*\+xml\b)/i;
const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;
const MULTIPART_TYPE = /^multipart\/form-data\b/i;

/** A vendor media type without a structured suffix, e.g. GitHub's `application/vnd.github.v3.object`. */
const VENDOR_TYPE = /^application\/vnd\.[^+;]+$/i;

/**
 * The JSON type to send or read: application/json first, else the first `+json` type, else a vendor
 * type (no `+json` suffix, as GitHub's `application/vnd.github.v3.object`) whose schema is an object
 * or an array: such bodies are JSON whatever the name says; a string or binary schema stays bytes.
 */
function jsonTypeOf(doc: OpenApiDocument, content: Record<string, { schema?: Schema }>): string | undefined {
  const types = Object.keys(content);
  return (
    types.find((t) => /^application\/json\b/i.test(t)) ??
    types.find((t) => JSON_TYPE.test(t)) ??
    types.find((t) => VENDOR_TYPE.test(t.trim()) && structured(doc, content[t]?.schema))
  );
}

/** Whether a schema describes an object or an array (so its body is JSON, not text or bytes). */
function structured(doc: OpenApiDocument, schema: Schema | undefined): boolean {
  if (!schema) return false;
  const resolved = follow(schema, doc, new Set()).schema;
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type];
  if (types.includes("object") || types.includes("array")) return true;
  return (
    !resolved.type &&
    !!(resolved.properties || resolved.items || resolved.allOf || resolved.oneOf || resolved.anyOf)
  );
}

export function collectOperations(
  doc: OpenApiDocument,
  select: SelectOptions = {},
): { operations: Operation[]; skipped: Skipped[] } {
  const skipped: Skipped[] = [];
  const found: (Omit<Operation, "name"> & { rawName: string })[] = [];
  const seen: Selectable[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths ?? {})) {
    const item = deref<Record<string, unknown>>(doc, rawItem);
    const shared = (item.parameters as unknown[] | undefined) ?? [];
    for (const method of METHODS) {
      const op = item[method] as RawOperation | undefined;
      if (!op) continue;
      const xmcp = op["x-mcp"];
      if (xmcp === false || (typeof xmcp === "object" && xmcp.exclude)) {
        skipped.push({ method, path, reason: "x-mcp excludes it" });
        continue;
      }
      const custom = typeof xmcp === "object" ? xmcp : {};
      // x-mcp names go through the same rules (snake_case, never a leading digit) as operationIds.
      const rawName = toolName(custom.name ?? op.operationId, method, path);
      const tags = op.tags ?? [];
      const self = { rawName, operationId: op.operationId, tags };
      seen.push(self);
      const wanted = (patterns: string[] | undefined) =>
        (patterns ?? []).some((p) => patternMatches(p, self));
      if (select.include?.length && !wanted(select.include)) continue;
      if (wanted(select.exclude)) continue;
      try {
        const own = op.servers?.[0] ?? (item.servers as RawOperation["servers"])?.[0];
        const docServer = doc.servers?.[0] ? serverUrl(doc.servers[0]) : undefined;
        const server = own ? serverUrl(own) : undefined;
        found.push({
          rawName,
          ...describeOperation(doc, path, method, op, shared, custom),
          ...(server !== undefined && server !== docServer ? { server } : {}),
        });
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err;
        skipped.push({ method, path, reason: err.message });
      }
    }
  }
  // A pattern that selects nothing is a typo or a stale name: say so instead of silently dropping it.
  const unmatched = (select.include ?? []).filter((p) => !seen.some((s) => patternMatches(p, s)));
  if (unmatched.length > 0) {
    throw new OpenApiError(
      `--include ${unmatched.map((p) => `'${p}'`).join(", ")} matches no operation of the document: ` +
        "use tool names (snake_case), operationIds or tag:<tag>, with * wildcards",
    );
  }
  const names = uniqueNames(found.map((f) => f.rawName));
  const operations = found.map(({ rawName: _, ...rest }, i) => ({ ...rest, name: names[i]! }));
  return { operations, skipped };
}

class Unsupported extends Error {}

interface Selectable {
  rawName: string;
  operationId: string | undefined;
  tags: string[];
}

function patternMatches(p: string, op: Selectable): boolean {
  return p.startsWith("tag:")
    ? op.tags.some((t) => matches(p.slice(4), t))
    : matches(p, op.rawName) || (op.operationId !== undefined && matches(p, op.operationId));
}

function describeOperation(
  doc: OpenApiDocument,
  path: string,
  method: Method,
  op: RawOperation,
  shared: unknown[],
  custom: { title?: string; description?: string },
): Omit<Operation, "name"> {
  const parameters = collectParameters(doc, path, method, [...shared, ...(op.parameters ?? [])]);
  const body = collectBody(doc, op.requestBody, new Set(parameters.map((p) => p.key)));
  const response = collectResponse(doc, op.responses ?? {});
  const upper = method.toUpperCase();
  const summary = op.summary?.trim();
  const title = custom.title ?? summary ?? `${upper} ${path}`;
  // An empty description (GitHub's /licenses, /markdown) falls back to the summary.
  const what =
    custom.description ??
    (op.description?.trim() || undefined) ??
    (summary || undefined) ??
    `Calls ${upper} ${path}.`;
  const description = `${what}${op.deprecated ? " Deprecated by the API." : ""} (${upper} ${path})`;
  return {
    operationId: op.operationId,
    method,
    path,
    tags: op.tags ?? [],
    title: title.replace(/\s+/g, " ").slice(0, 100),
    description,
    deprecated: op.deprecated === true,
    parameters,
    body,
    response,
    security: (op.security ?? doc.security ?? []).map((req) => Object.keys(req)),
    annotations: annotationsFor(method),
  };
}

/** GET/HEAD/OPTIONS read; DELETE destroys; PUT and DELETE are idempotent; every call reaches the API. */
export function annotationsFor(method: Method): Operation["annotations"] {
  const readOnly = method === "get" || method === "head" || method === "options";
  return {
    readOnlyHint: readOnly,
    destructiveHint: method === "delete",
    idempotentHint: readOnly || method === "put" || method === "delete",
    openWorldHint: true,
  };
}

function collectParameters(doc: OpenApiDocument, path: string, method: string, raw: unknown[]): Parameter[] {
  const byKey = new Map<string, Parameter>();
  for (const entry of raw) {
    const p = deref<Record<string, unknown>>(doc, entry);
    const where = p.in as string;
    const name = p.name as string;
    if (where === "cookie") {
      if (p.required) throw new Unsupported(`required cookie parameter '${name}'`);
      continue;
    }
    if (where !== "path" && where !== "query" && where !== "header") continue;
    // Header names are case-insensitive; these the HTTP client sets itself.
    if (where === "header" && /^(accept|content-type|authorization)$/i.test(name)) continue;
    let schema = (p.schema as Schema | undefined) ?? {};
    if (!p.schema && p.content) {
      const media = Object.values(p.content as Record<string, { schema?: Schema }>)[0];
      schema = media?.schema ?? {};
    }
    const key = where === "header" ? snakeCase(name) || "header" : name;
    // Later entries (operation level) override earlier ones (path level) of the same name and place.
    const style = typeof p.style === "string" ? p.style : undefined;
    const defaultStyle = where === "query" ? "form" : "simple";
    const explode = typeof p.explode === "boolean" ? p.explode : (style ?? defaultStyle) === "form";
    const defaultExplode = where === "query";
    byKey.set(`${where}:${name}`, {
      name,
      in: where,
      key,
      required: where === "path" || p.required === true,
      description: (p.description as string | undefined) ?? undefined,
      schema,
      ...(style && style !== defaultStyle ? { style } : {}),
      ...(explode !== defaultExplode ? { explode } : {}),
    });
  }
  const params = [...byKey.values()];
  for (const placeholder of path.matchAll(/\{([^}]+)\}/g)) {
    if (!params.some((p) => p.in === "path" && p.name === placeholder[1])) {
      params.push({
        name: placeholder[1]!,
        in: "path",
        key: placeholder[1]!,
        required: true,
        description: undefined,
        schema: { type: "string" },
      });
    }
  }
  const keys = new Set<string>();
  for (const p of params) {
    if (keys.has(p.key)) p.key = `${p.in}_${p.key}`;
    if (keys.has(p.key)) throw new Unsupported(`${method} ${path}: two parameters named '${p.name}'`);
    keys.add(p.key);
  }
  return params;
}

function collectBody(doc: OpenApiDocument, raw: unknown, taken: Set<string>): Body | undefined {
  if (!raw) return undefined;
  const body = deref<{
    required?: boolean;
    description?: string;
    content?: Record<string, { schema?: Schema }>;
  }>(doc, raw);
  const content = body.content ?? {};
  const types = Object.keys(content);
  const key = taken.has("body") ? "request_body" : "body";
  const base = { required: body.required === true, description: body.description, key, anyType: false };
  // In order of preference: JSON (its own +json type kept), a form, multipart, text, anything else as bytes.
  const jsonType = jsonTypeOf(doc, content);
  const chosen =
    jsonType ??
    types.find((t) => FORM_TYPE.test(t)) ??
    types.find((t) => MULTIPART_TYPE.test(t)) ??
    types.find((t) => TEXT_TYPE.test(t)) ??
    types[0];
  if (!chosen) {
    if (!body.required) return undefined;
    throw new Unsupported("request body without a media type");
  }
  const schema = content[chosen]?.schema ?? {};
  const resolved = follow(schema, doc, new Set()).schema;
  const props = resolved.properties as Record<string, unknown> | undefined;
  const flat =
    !!props &&
    !resolved.allOf &&
    !resolved.oneOf &&
    !resolved.anyOf &&
    Object.keys(props).length > 0 &&
    Object.keys(props).every((k) => !taken.has(k) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  if (chosen === jsonType) {
    return {
      ...base,
      schema,
      kind: flat ? "flat" : "whole",
      encoding: "json",
      contentType: chosen,
      keys: flat ? Object.keys(props) : [],
    };
  }
  if (FORM_TYPE.test(chosen) || MULTIPART_TYPE.test(chosen)) {
    if (!flat) {
      throw new Unsupported(
        props && Object.keys(props).length > 0
          ? `${chosen} body whose field names clash with the parameters or are not plain names`
          : `${chosen} body without listed fields`,
      );
    }
    return {
      ...base,
      schema,
      kind: "flat",
      encoding: FORM_TYPE.test(chosen) ? "form" : "multipart",
      contentType: chosen,
      keys: Object.keys(props),
    };
  }
  const anyType = /^\*\/\*$|\/\*$/.test(chosen);
  const text = TEXT_TYPE.test(chosen);
  return {
    ...base,
    schema: { type: "string" },
    description: body.description ?? resolved.description,
    kind: text ? "text" : "binary",
    encoding: "json",
    contentType: anyType ? "application/octet-stream" : chosen,
    anyType,
    key: text ? key : `${key}_base64`,
    keys: [],
  };
}

function collectResponse(doc: OpenApiDocument, responses: Record<string, unknown>): Response {
  const codes = Object.keys(responses)
    .filter((c) => /^2(\d\d|XX)$/i.test(c))
    .sort();
  const chosen = codes[0] ?? (responses.default ? "default" : undefined);
  const status = chosen && /^\d+$/.test(chosen) ? Number(chosen) : 200;
  if (!chosen) return { status, schema: undefined, wrap: "empty" };
  const response = deref<{ content?: Record<string, { schema?: Schema }> }>(doc, responses[chosen]);
  const media = Object.keys(response.content ?? {});
  const jsonType = jsonTypeOf(doc, response.content ?? {});
  if (status === 204 || media.length === 0) return { status, schema: undefined, wrap: "empty" };
  if (!jsonType) {
    // Text answers come back as text, anything else as base64.
    const text = media.find((t) => TEXT_TYPE.test(t));
    if (text) return { status, schema: undefined, wrap: "text", contentType: text };
    return { status, schema: undefined, wrap: "bytes", contentType: media[0]! };
  }
  const schema = response.content![jsonType]?.schema;
  if (!schema) return { status, schema: undefined, wrap: "empty" };
  const resolved = follow(schema, doc, new Set()).schema;
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type];
  const objectish =
    !resolved.oneOf &&
    !resolved.anyOf &&
    !types.includes("null") &&
    resolved.nullable !== true &&
    (types.includes("object") || (!resolved.type && (!!resolved.properties || !!resolved.allOf)));
  if (objectish) return { status, schema, wrap: "none", contentType: jsonType };
  return { status, schema, wrap: types.includes("array") ? "items" : "result", contentType: jsonType };
}

/** The config keys and env names for each security scheme the selected operations use. */
export interface Credential {
  scheme: string;
  kind: "bearer" | "basic" | "apiKey";
  /** For apiKey: where and under which name it is sent. */
  in?: "header" | "query" | "cookie";
  paramName?: string;
  /** Config keys: one for bearer/apiKey, two (user, password) for basic. */
  keys: string[];
  description: string;
}

export function collectCredentials(doc: OpenApiDocument, operations: Operation[]): Credential[] {
  const used = new Set(operations.flatMap((o) => o.security.flat()));
  const schemes = doc.components?.securitySchemes ?? {};
  const out: Credential[] = [];
  const taken = new Set([
    "baseUrl",
    "allowPrivateNetwork",
    "timeoutMs",
    "strictAnswers",
    "maxUploadBytes",
    "uploadDir",
  ]);
  const claim = (key: string) => {
    let k = key;
    for (let n = 2; taken.has(k); n++) k = `${key}${n}`;
    taken.add(k);
    return k;
  };
  for (const name of [...used].sort()) {
    if (!(name in schemes)) throw new OpenApiError(`security scheme '${name}' is used but not defined`);
    const s = deref<Record<string, unknown>>(doc, schemes[name]);
    const plain = camelCase(name.replace(/[-_ ]?(auth|scheme|security)$/i, "")) || camelCase(name);
    // A config key is a TypeScript identifier: a scheme named "2fa" becomes "scheme2fa".
    const base = /^[0-9]/.test(plain) ? `scheme${plain}` : plain;
    const description = (s.description as string | undefined) ?? `the '${name}' credential`;
    if (s.type === "apiKey") {
      const key = /key|token/i.test(base) ? base : `${base}Key`;
      out.push({
        scheme: name,
        kind: "apiKey",
        in: s.in as "header" | "query" | "cookie",
        paramName: s.name as string,
        keys: [claim(key)],
        description,
      });
    } else if (s.type === "http" && String(s.scheme).toLowerCase() === "basic") {
      out.push({
        scheme: name,
        kind: "basic",
        keys: [claim(`${base}Username`), claim(`${base}Password`)],
        description,
      });
    } else if (s.type === "http" || s.type === "oauth2" || s.type === "openIdConnect") {
      const key = /token/i.test(base) ? base : `${base}Token`;
      out.push({ scheme: name, kind: "bearer", keys: [claim(key)], description });
    }
    // mutualTLS and unknown types: nothing to configure here.
  }
  return out;
}
