import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";

/** A JSON Schema object as OpenAPI 3.0/3.1 writes it (only what the generator reads). */
export type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  description?: string;
};

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string; summary?: string };
  servers?: { url: string; variables?: Record<string, { default: string }> }[];
  paths?: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  security?: Record<string, string[]>[];
  [key: string]: unknown;
}

/** A bad document or an unsupported feature: the message says which and where. */
export class OpenApiError extends Error {}

/** Reads an OpenAPI 3.0 or 3.1 document, JSON or YAML (by content, not extension). */
export async function loadDocument(path: string): Promise<OpenApiDocument> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new OpenApiError(`cannot read '${path}': ${(err as Error).message}`);
  }
  return parseDocument(text, path);
}

export function parseDocument(text: string, source = "document"): OpenApiDocument {
  // A byte order mark (some editors and exporters write one) is not part of the JSON or YAML.
  text = text.replace(/^\uFEFF/, "");
  let doc: unknown;
  try {
    doc = /^\s*[{[]/.test(text) ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 1000 });
  } catch (err) {
    throw new OpenApiError(`${source} is neither JSON nor YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || doc === null) throw new OpenApiError(`${source} is not an object`);
  const version = (doc as { openapi?: unknown; swagger?: unknown }).openapi;
  if ((doc as { swagger?: unknown }).swagger !== undefined) {
    throw new OpenApiError(
      `${source} is Swagger 2.0; convert it to OpenAPI 3 first (e.g. with swagger2openapi)`,
    );
  }
  if (typeof version !== "string" || !/^3\.[01]\.\d+/.test(version)) {
    throw new OpenApiError(`${source}: 'openapi' must be 3.0.x or 3.1.x (got ${JSON.stringify(version)})`);
  }
  const info = (doc as { info?: { title?: unknown } }).info;
  if (typeof info?.title !== "string") throw new OpenApiError(`${source}: info.title is missing`);
  return doc as OpenApiDocument;
}

/** Follows a local `$ref` ("#/components/schemas/Pet"); other refs are refused with a clear message. */
export function resolveRef<T = unknown>(doc: OpenApiDocument, ref: string): T {
  if (!ref.startsWith("#/")) {
    throw new OpenApiError(
      `$ref '${ref}' points outside the document; only local refs ('#/...') are supported: bundle the document first (e.g. redocly bundle)`,
    );
  }
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof node !== "object" || node === null || !(key in node)) {
      throw new OpenApiError(`$ref '${ref}' does not resolve: '${key}' is missing`);
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node as T;
}

/** Resolves chains of `$ref` (a parameter or response that is itself a ref), up to a bound. */
export function deref<T>(doc: OpenApiDocument, value: unknown): T {
  let current: unknown = value;
  for (let i = 0; i < 20; i++) {
    if (typeof current !== "object" || current === null || typeof (current as Schema).$ref !== "string") {
      return current as T;
    }
    current = resolveRef(doc, (current as { $ref: string }).$ref);
  }
  throw new OpenApiError("a $ref chain is longer than 20 steps (a cycle?)");
}

/** A server entry's URL with its variables at their defaults, without a trailing slash. */
export function serverUrl(server: { url: string; variables?: Record<string, { default: string }> }): string {
  return server.url
    .replace(/\{([^}]+)\}/g, (_, v: string) => server.variables?.[v]?.default ?? "")
    .replace(/\/+$/, "");
}
