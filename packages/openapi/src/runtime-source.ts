// The source of src/generated/runtime.ts in every generated server: the one place a generated tool
// turns its input into an HTTP request through @toolshed/http-client, and its answer into data.
// Kept as text (the package ships only dist); the generator tests typecheck and lint its output.
export const RUNTIME_SOURCE = String.raw`import { constants } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
import { createHttpClient, type HttpClient, type QueryValue } from "@toolshed/http-client";
import {
  definers,
  ToolshedError,
  z as zod,
  type AnyObjectSchema,
  type AnyTool,
  type ToolAnnotations,
  type ToolDefinition,
  type z,
} from "@toolshed/server";

/** How a security scheme's credential is sent, and the config keys (and env vars) holding it. */
export interface CredentialSpec {
  scheme: string;
  kind: "bearer" | "basic" | "apiKey";
  in?: "header" | "query" | "cookie";
  paramName?: string;
  keys: readonly string[];
  env: readonly string[];
}

export interface ApiInfo {
  /** The upstream's name in metrics and error messages. */
  name: string;
  baseUrlEnv: string;
  /** Hosts of the operations' own servers, which the HTTP client may call besides the base URL's. */
  serverHosts?: readonly string[];
  /** The document's base URL: operations with their own server use it only while baseUrl is this. */
  defaultBaseUrl?: string | null;
  /** The env var of allowPrivateNetwork, named when the SSRF guard refuses an address. */
  privateNetworkEnv?: string;
  credentials: readonly CredentialSpec[];
}

export interface ApiConfig {
  baseUrl: string;
  allowPrivateNetwork: boolean;
  timeoutMs: number;
  /** Refuse answers that drift from the document's schema instead of warning and passing them on. */
  strictAnswers?: boolean;
  /** The most bytes of decoded uploads (base64 bodies and files) one call may send. */
  maxUploadBytes?: number;
  /** Directories whose files a multipart upload may name by path (none: base64 only). */
  uploadDir?: readonly string[];
}

export interface ApiDeps {
  http: HttpClient;
  config: ApiConfig & Record<string, unknown>;
  api: ApiInfo;
  /** Query parameters of src/overrides.ts sent with every request (their settings filled in). */
  query: Record<string, string>;
}

type Metrics = Parameters<typeof createHttpClient>[0]["metrics"];

/** The HTTP client every tool of the server calls through (opened in setup, closed in teardown). */
export function createApiDeps(config: ApiConfig, api: ApiInfo, metrics?: Metrics, overrides: Overrides = {}): ApiDeps {
  const settings = config as ApiConfig & Record<string, unknown>;
  const filled = (templates: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(
      Object.entries(templates ?? {}).flatMap(([k, t]) => {
        const v = fillTemplate(t, settings);
        return v === undefined ? [] : [[k, v]];
      }),
    );
  const http = createHttpClient({
    name: api.name,
    // Hosts of operations with their own server (uploads.github.com) besides the base URL's.
    allowHosts: [new URL(config.baseUrl).hostname, ...(api.serverHosts ?? [])],
    // Client-level headers are never copied into errors, logs or spans.
    headers: filled(overrides.headers),
    baseUrl: config.baseUrl,
    allowPrivateNetwork: config.allowPrivateNetwork,
    timeouts: { totalMs: config.timeoutMs },
    ...(metrics ? { metrics } : {}),
  });
  return { http, config: settings, api, query: filled(overrides.query) };
}

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
            throw new ToolshedError("invalid_input", "'" + key + "' cannot be '" + text + "': pass a real " + key);
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
      const responseType = expected ? "json" : spec.wrap === "text" ? "text" : spec.wrap === "bytes" ? "bytes" : undefined;
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
          const issue = (first && first.path.length ? first.path.join(".") : "(root)") + ": " + (first?.message ?? "invalid");
          const strict = ctx.deps.config.strictAnswers === true;
          // Lenient answers tolerate what the advertised output does (missing fields), not other types.
          const advertised = (spec.wrap === "none" ? output : output.shape[spec.wrap]) as z.ZodType;
          if (strict || !advertised.safeParse(res.data).success) {
            throw new ToolshedError(
              "upstream_error",
              ctx.deps.api.name + " " + spec.method + " " + spec.path + ": the answer does not match the document at " + issue +
                (strict ? " (strict answers are on: turn them off to accept missing fields)" : "; the upstream API may have changed"),
              { retryable: false, details: { issue, issues: checked.error.issues.length } },
            );
          }
          // Drift from the document is common (examples and real APIs omit "required" fields): say so, pass it on.
          ctx.log.warn("answer does not match the document's schema; passing it on", {
            tool: spec.name,
            issue,
            issues: checked.error.issues.length,
          });
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
  if (budget <= 0 || wrap === "empty" || wrap === "text" || wrap === "bytes" || schemaBytes(output) <= budget) {
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

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

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

const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** Counts one upload against the call's limit, refusing it (before it is decoded or read) above it. */
function countUpload(field: string, size: number, deps: ApiDeps, sent: { bytes: number }): void {
  const limit = deps.config.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  sent.bytes += size;
  if (sent.bytes > limit) {
    const env = deps.api.baseUrlEnv.replace(/BASE_URL$/, "MAX_UPLOAD_BYTES");
    throw new ToolshedError(
      "invalid_input",
      "'" + field + "' is " + size + " bytes, and this call may upload at most " + limit +
        " in all: send a smaller file, or raise " + env + " on the server",
    );
  }
}

/** Decodes one base64 upload, refusing it (before decoding) above the upload limit. */
function decodeUpload(field: string, value: string, deps: ApiDeps, sent: { bytes: number }): Buffer {
  countUpload(field, Math.floor((value.replace(/=+$/, "").length * 3) / 4), deps, sent);
  return Buffer.from(value, "base64");
}

/**
 * Reads a file a multipart upload names by path: only a regular file whose real path (symlinks
 * resolved by the OS) lies inside the real path of an upload directory, opened without following a
 * last-moment symlink, its size checked on the opened file before reading, and no more read than that.
 * A relative path is taken against the first upload directory.
 */
async function readUpload(
  field: string,
  path: string,
  deps: ApiDeps,
  sent: { bytes: number },
): Promise<{ bytes: Buffer; name: string }> {
  const dirs = deps.config.uploadDir ?? [];
  const env = deps.api.baseUrlEnv.replace(/BASE_URL$/, "UPLOAD_DIR");
  if (dirs.length === 0) {
    throw new ToolshedError(
      "invalid_input",
      "'" + field + "': this server reads no files by path; send the file as base64, or set " + env +
        " on the server to the directories it may upload from",
    );
  }
  const outside = () =>
    new ToolshedError(
      "forbidden",
      "'" + field + "': " + JSON.stringify(path) + " is not a file inside the upload directories (" + env +
        "): name a file in " + dirs.join(", ") + ", or send it as base64",
    );
  const real = await realpath(resolve(dirs[0]!, path)).catch(() => undefined);
  if (real === undefined) {
    throw new ToolshedError("not_found", "'" + field + "': no file at " + JSON.stringify(path) + " in the upload directories");
  }
  const roots = await Promise.all(dirs.map((d) => realpath(d).catch(() => undefined)));
  const inside = roots.some((root) => {
    if (root === undefined) return false;
    const rel = relative(root, real);
    return rel !== "" && rel !== ".." && !rel.startsWith(".." + sep) && !isAbsolute(rel);
  });
  if (!inside) throw outside();
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => {
    throw outside();
  });
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw outside();
    countUpload(field, stat.size, deps, sent);
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const { bytesRead } = await handle.read(bytes, read, stat.size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { bytes: bytes.subarray(0, read), name: basename(real) };
  } finally {
    await handle.close();
  }
}

interface FileInput {
  base64?: string;
  path?: string;
  filename?: string;
  content_type?: string;
}

/** The request body of a call: JSON, or raw bytes or text, with the media type to send. */
async function requestBody(
  spec: OperationSpec<AnyObjectSchema, AnyObjectSchema>,
  args: Record<string, unknown>,
  deps: ApiDeps,
): Promise<{ json?: unknown; raw?: string | Uint8Array; contentType?: string }> {
  const b = spec.body;
  if (!b) return {};
  const sent = { bytes: 0 };
  switch (b.kind) {
    case "whole":
      return args[b.key] === undefined ? {} : { json: args[b.key], ...(b.contentType ? { contentType: b.contentType } : {}) };
    case "flat": {
      const picked = Object.fromEntries(b.keys.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
      if (Object.keys(picked).length === 0 && spec.method === "GET") return {};
      return { json: picked, ...(b.contentType ? { contentType: b.contentType } : {}) };
    }
    case "text":
    case "binary": {
      const value = args[b.key];
      if (typeof value !== "string") return {};
      const named = b.typeKey ? args[b.typeKey] : undefined;
      const type = typeof named === "string" && named !== "" ? named : b.contentType;
      const raw = b.kind === "text" ? value : decodeUpload(b.key, value, deps, sent);
      return { raw, contentType: type };
    }
    case "form": {
      const form = new URLSearchParams();
      for (const k of b.keys) {
        const v = args[k];
        if (v === undefined) continue;
        for (const item of Array.isArray(v) ? v : [v]) form.append(k, scalar(item));
      }
      return { raw: form.toString(), contentType: "application/x-www-form-urlencoded" };
    }
    case "multipart": {
      // The platform's own multipart encoder (the boundary comes with its content type).
      const form = new FormData();
      for (const k of b.keys) {
        const v = args[k];
        if (v === undefined) continue;
        if (b.files.includes(k)) {
          for (const file of (Array.isArray(v) ? v : [v]) as FileInput[]) {
            if ((file.base64 === undefined) === (file.path === undefined)) {
              throw new ToolshedError("invalid_input", "'" + k + "': give the file as base64 or as a path, one of the two");
            }
            const { bytes, name } =
              file.path !== undefined
                ? await readUpload(k, file.path, deps, sent)
                : { bytes: decodeUpload(k, file.base64!, deps, sent), name: k };
            const blob = new Blob([bytes], { type: file.content_type ?? "application/octet-stream" });
            form.append(k, blob, file.filename ?? name);
          }
        } else {
          for (const item of Array.isArray(v) ? v : [v]) form.append(k, scalar(item));
        }
      }
      const encoded = new Response(form);
      return {
        raw: new Uint8Array(await encoded.arrayBuffer()),
        contentType: encoded.headers.get("content-type") ?? "multipart/form-data",
      };
    }
  }
}

/** A binary answer for the model: base64 with its media type and size. */
function bytesAnswer(data: unknown, contentType: unknown): { base64: string; content_type: string; bytes: number } {
  const bytes = data instanceof Uint8Array ? Buffer.from(data) : Buffer.alloc(0);
  return {
    base64: bytes.toString("base64"),
    content_type: typeof contentType === "string" ? contentType : "application/octet-stream",
    bytes: bytes.length,
  };
}

/** Arrays and objects the OpenAPI way: "a,b", or "k,v,k2,v2" / "k=v,k2=v2" (exploded). */
function joined(value: unknown, sep: string, explode: boolean): string {
  if (Array.isArray(value)) return value.map((v) => scalar(v)).join(sep);
  if (isObject(value)) {
    return Object.entries(value)
      .map(([k, v]) => (explode ? k + "=" + scalar(v) : k + sep + scalar(v)))
      .join(sep);
  }
  return scalar(value);
}

/** A query parameter's name=value pairs by its style (form, spaceDelimited, pipeDelimited, deepObject). */
function queryPairs(name: string, value: unknown, style: string, explode: boolean): [string, string][] {
  if (style === "deepObject" && isObject(value)) {
    return Object.entries(value).map(([k, v]): [string, string] => [name + "[" + k + "]", scalar(v)]);
  }
  if (Array.isArray(value)) {
    if (explode) return value.map((v): [string, string] => [name, scalar(v)]);
    const sep = style === "spaceDelimited" ? " " : style === "pipeDelimited" ? "|" : ",";
    return [[name, value.map((v) => scalar(v)).join(sep)]];
  }
  if (isObject(value)) {
    if (explode) return Object.entries(value).map(([k, v]): [string, string] => [k, scalar(v)]);
    return [[name, joined(value, ",", false)]];
  }
  return [[name, scalar(value)]];
}

/** A path parameter's encoded segment by its style (simple, label, matrix). */
function pathValue(value: unknown, name: string, style: string, explode: boolean): string {
  const enc = (v: unknown) => encodeURIComponent(scalar(v));
  if (style === "label") {
    if (Array.isArray(value)) return "." + value.map(enc).join(explode ? "." : ",");
    return "." + enc(value);
  }
  if (style === "matrix") {
    if (Array.isArray(value)) {
      return explode ? value.map((v) => ";" + name + "=" + enc(v)).join("") : ";" + name + "=" + value.map(enc).join(",");
    }
    return ";" + name + "=" + enc(value);
  }
  if (Array.isArray(value)) return value.map(enc).join(",");
  if (isObject(value)) {
    return Object.entries(value)
      .map(([k, v]) => encodeURIComponent(k) + (explode ? "=" : ",") + enc(v))
      .join(",");
  }
  return enc(value);
}

function scalar(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
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
  } else if (err.code === "forbidden" && /refused to connect/.test(err.message) && deps.api.privateNetworkEnv) {
    // The HTTP client names its own option; a user of this server sets an env var.
    return new ToolshedError(
      err.code,
      err.message.replace(/ \(set allowPrivateNetwork[^)]*\)/, "") +
        ". If " + deps.config.baseUrl + " is your own internal API, set " + deps.api.privateNetworkEnv + "=true.",
      { ...(err.details ? { details: err.details } : {}), retryable: false, cause: err },
    );
  } else if (err.code === "upstream_unavailable" && !err.retryAfterMs) {
    hint =
      " Is the API running at " + deps.config.baseUrl + "? Start it, or point " + deps.api.baseUrlEnv + " at it.";
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


/** A mistake in src/overrides.ts: the bin prints its message alone and exits 1 (no stack trace). */
export class OverrideError extends Error {
  override name = "OverrideError";
  constructor(message: string) {
    super("src/overrides.ts: " + message);
  }
}

/** Hand-written changes to one generated tool (see src/overrides.ts). */
export interface ToolOverride {
  /** A new name (snake_case: 1-64 of a-z, 0-9 and _) instead of the generated one. */
  name?: string;
  title?: string;
  description?: string;
  /** New descriptions of input fields, by field name. */
  params?: Record<string, string>;
  /** Input fields hidden from the model and filled from settings: field -> template, e.g. "{owner}". */
  fill?: Record<string, string>;
  annotations?: Partial<ToolAnnotations>;
  /** This tool's output budget in bytes of JSON Schema (0: no limit), instead of the generator's. */
  maxOutputSchemaBytes?: number;
}

/** A setting the document does not declare (a token, an account): a config field with its own env var. */
export interface SettingOverride {
  /** The env var holding it, e.g. "GITHUB_TOKEN" (it is also a --flag and a TOOLSHED_* variable). */
  env: string;
  description: string;
  /** Used when the env var is unset; without one the setting is optional. */
  default?: string;
}

/**
 * Everything src/overrides.ts can change. Templates are literal text with settings in braces
 * ("Bearer {githubToken}"): any setting of the generated config or of settings below.
 */
export interface Overrides {
  /** New settings, by config key (camelCase). */
  settings?: Record<string, SettingOverride>;
  /** Headers sent with every request; one whose settings are unset is left out. Never logged. */
  headers?: Record<string, string>;
  /** Query parameters sent with every request; one whose settings are unset is left out. */
  query?: Record<string, string>;
  /** Input fields hidden from the model in every tool that has them, filled from a template. */
  fill?: Record<string, string>;
  /** Changes to single tools, by generated tool name. */
  tools?: Record<string, ToolOverride>;
}

const OVERRIDE_KEYS = ["settings", "headers", "query", "fill", "tools"];
const SETTING_REF = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The template with its settings filled in, or undefined while one of them is unset. */
export function fillTemplate(template: string, config: Readonly<Record<string, unknown>>): string | undefined {
  let missing = false;
  const out = template.replace(SETTING_REF, (_, key: string) => {
    const v = config[key];
    if (v === undefined || v === null || v === "") missing = true;
    return missing ? "" : String(v);
  });
  return missing ? undefined : out;
}

const templateKeys = (template: string): string[] => [...template.matchAll(SETTING_REF)].map((m) => m[1]!);

/**
 * The generated config with the settings of src/overrides.ts added (each a --flag, a TOOLSHED_*
 * variable and its env var); a template naming a setting that exists nowhere is a startup error.
 */
export function withSettings<S extends AnyObjectSchema>(schema: S, overrides: Overrides): S {
  checkShape(overrides);
  const extra: Record<string, z.ZodType> = {};
  for (const [key, s] of Object.entries(overrides.settings ?? {})) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(key)) throw new OverrideError("setting '" + key + "' must be camelCase (like githubToken)");
    if (key in schema.shape) throw new OverrideError("setting '" + key + "' is already a generated setting; give it another name");
    if (!/^[A-Z_][A-Z0-9_]*$/.test(s.env)) throw new OverrideError("setting '" + key + "': env '" + s.env + "' must be an env var name (like GITHUB_TOKEN)");
    const base = zod.string().describe(s.description);
    extra[key] = (s.default === undefined ? base.optional() : base.default(s.default)).meta({ env: s.env });
  }
  const known = new Set([...Object.keys(schema.shape), ...Object.keys(extra)]);
  const templates: [string, string][] = [
    ...Object.entries(overrides.headers ?? {}).map(([k, t]): [string, string] => ["headers." + k, t]),
    ...Object.entries(overrides.query ?? {}).map(([k, t]): [string, string] => ["query." + k, t]),
    ...Object.entries(overrides.fill ?? {}).map(([k, t]): [string, string] => ["fill." + k, t]),
    ...Object.entries(overrides.tools ?? {}).flatMap(([tool, o]) =>
      Object.entries(o.fill ?? {}).map(([k, t]): [string, string] => ["tools." + tool + ".fill." + k, t]),
    ),
  ];
  for (const [where, template] of templates) {
    for (const key of templateKeys(template)) {
      if (!known.has(key)) {
        throw new OverrideError(
          where + " uses '{" + key + "}', which is no setting: add it under settings, or use one of " + [...known].join(", "),
        );
      }
    }
  }
  return schema.extend(extra) as unknown as S;
}

function checkShape(overrides: Overrides): void {
  for (const key of Object.keys(overrides)) {
    if (!OVERRIDE_KEYS.includes(key)) {
      throw new OverrideError(
        "unknown key '" + key + "' (known: " + OVERRIDE_KEYS.join(", ") + "); changes to one tool go under tools: { " + key + ": { ... } }",
      );
    }
  }
}

/** The tool names after the renames of src/overrides.ts (for the contract test). */
export function overriddenNames(names: readonly string[], overrides: Overrides): string[] {
  return names.map((n) => overrides.tools?.[n]?.name ?? n);
}

/** Applies src/overrides.ts to the generated tools; a mistake in it is an OverrideError at startup. */
export function applyOverrides(tools: readonly AnyTool[], overrides: Overrides): AnyTool[] {
  checkShape(overrides);
  const byTool = overrides.tools ?? {};
  const names = tools.map((t) => t.name);
  for (const name of Object.keys(byTool)) {
    if (!names.includes(name)) {
      throw new OverrideError(
        "tools." + name + " names a tool the document does not define (any more): remove it, or move it to the tool's new name",
      );
    }
  }
  const envOf = (key: string) => overrides.settings?.[key]?.env ?? key;
  const result = tools.map((original) => {
    const o = byTool[original.name] ?? {};
    const spec = specs.get(original);
    let tool: AnyTool =
      o.maxOutputSchemaBytes !== undefined && spec
        ? operationTool({ ...spec, maxOutputSchemaBytes: o.maxOutputSchemaBytes })
        : original;
    let input = tool.input;
    const shape = () => input.shape as Record<string, z.ZodType>;
    for (const [field, text] of Object.entries(o.params ?? {})) {
      const current = shape()[field];
      if (!current) throw new OverrideError("tools." + original.name + ".params: the tool has no input field '" + field + "'");
      input = input.extend({ [field]: current.describe(text) });
    }
    const fill: Record<string, string> = {};
    for (const [field, template] of Object.entries(overrides.fill ?? {})) if (shape()[field]) fill[field] = template;
    for (const [field, template] of Object.entries(o.fill ?? {})) {
      if (!shape()[field]) throw new OverrideError("tools." + original.name + ".fill: the tool has no input field '" + field + "'");
      fill[field] = template;
    }
    if (Object.keys(fill).length > 0) {
      const fields = { ...shape() };
      input = input.omit(Object.fromEntries(Object.keys(fill).map((f) => [f, true as const])));
      const handler = tool.handler.bind(tool);
      tool = {
        ...tool,
        handler: (args: Record<string, unknown>, ctx: Parameters<AnyTool["handler"]>[1]) => {
          const filled: Record<string, unknown> = { ...args };
          for (const [field, template] of Object.entries(fill)) {
            const value = fillTemplate(template, (ctx.deps as ApiDeps).config);
            const schema = fields[field]!;
            if (value === undefined) {
              if (schema.safeParse(undefined).success) continue;
              throw new ToolshedError(
                "invalid_input",
                "'" + field + "' is filled from the server's settings (" + template + "), which are not set: set " +
                  templateKeys(template).map(envOf).join(" and ") + " and restart the server",
              );
            }
            // A number or boolean setting arrives as text: take the JSON reading when the text does not fit.
            let parsed = schema.safeParse(value);
            if (!parsed.success) {
              try {
                parsed = schema.safeParse(JSON.parse(value));
              } catch {
                // not JSON either: the first error stands
              }
            }
            if (!parsed.success) {
              throw new ToolshedError(
                "invalid_input",
                "'" + field + "' is filled from the server's settings (" + template + "), whose value does not fit it: " +
                  (parsed.error.issues[0]?.message ?? "invalid") + "; fix " + templateKeys(template).map(envOf).join(" and "),
              );
            }
            filled[field] = parsed.data;
          }
          return handler(filled, ctx);
        },
      };
    }
    const name = o.name ?? tool.name;
    if (!/^[a-z0-9_]{1,64}$/.test(name)) {
      throw new OverrideError("tools." + original.name + ".name '" + name + "' must be 1-64 of a-z, 0-9 and _");
    }
    return {
      ...tool,
      name,
      input,
      ...(o.title ? { title: o.title } : {}),
      ...(o.description ? { description: o.description } : {}),
      annotations: { ...tool.annotations, ...o.annotations },
    };
  });
  const seen = new Set<string>();
  for (const t of result) {
    if (seen.has(t.name)) throw new OverrideError("two tools would be named '" + t.name + "': rename one of them");
    seen.add(t.name);
  }
  return result;
}
`;
