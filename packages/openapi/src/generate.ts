import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { format, resolveConfig } from "prettier";
import { loadDocument, OpenApiError, type OpenApiDocument } from "./document.js";
import { emitFiles, GENERATED_MARK, RUNTIME_PACKAGE, type EmitContext } from "./emit.js";
import { collectCredentials, collectOperations, type Operation, type Skipped } from "./operations.js";
import { scaffoldFiles } from "./scaffold.js";

export interface GenerateOptions {
  /** The OpenAPI document (JSON or YAML). */
  document: string;
  /** The server's folder (created if missing). */
  outDir: string;
  /** kebab-case server name: the package is @toolshed/server-<name>. */
  name: string;
  include?: string[];
  exclude?: string[];
  /** Overrides the document's first server URL as the default base URL. */
  baseUrl?: string;
  /**
   * Per tool, the most bytes of output JSON Schema a tool advertises in tools/list; above it the schema
   * is summarised (top-level fields and types), above it again left open. 0: no limit. Default 1,000.
   */
  maxOutputSchemaBytes?: number;
  /** false: compute the files but write nothing (for drift checks). Default true. */
  write?: boolean;
}

export interface GenerateResult {
  /** Generated files (relative path -> formatted text): rewritten on every run. */
  generated: Map<string, string>;
  /** Hand-written files created because they were missing (never overwritten). */
  scaffolded: string[];
  /** Generated files of an earlier run that no operation produces any more (removed when writing). */
  stale: string[];
  operations: Operation[];
  skipped: Skipped[];
  /**
   * Hand-written files (src/, test/) that still import src/generated/runtime.ts, the copy of the
   * runtime earlier versions generated: their imports should name @toolshed/openapi-runtime.
   */
  oldRuntimeImports: string[];
}

/**
 * Above this many tools the generated server starts in search mode (the kit's `--tool-mode auto`):
 * tools/list answers search_tools, describe_tool and call_tool. The kit's default, repeated here so
 * the generator can say so.
 */
export const SEARCH_MODE_ABOVE = 40;
export const DEFAULT_MAX_OUTPUT_SCHEMA_BYTES = 1000;

export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(options.name)) {
    throw new OpenApiError(`server name '${options.name}' must be kebab-case (like 'example-api')`);
  }
  const budget = options.maxOutputSchemaBytes;
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 0)) {
    throw new OpenApiError(
      `--max-output-schema-bytes must be a whole number of bytes (0 for no limit), not '${budget}'`,
    );
  }
  const outDir = resolve(options.outDir);
  const doc = await loadDocument(options.document);
  const { operations, skipped } = collectOperations(doc, {
    ...(options.include ? { include: options.include } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
  });
  if (operations.length === 0) {
    throw new OpenApiError("no operations selected: check --include/--exclude and x-mcp in the document");
  }
  const ctx: EmitContext = {
    doc,
    name: options.name,
    source: posix(relative(outDir, resolve(options.document))),
    operations,
    credentials: collectCredentials(doc, operations),
    baseUrl: options.baseUrl ?? defaultBaseUrl(doc),
    maxOutputSchemaBytes: options.maxOutputSchemaBytes ?? DEFAULT_MAX_OUTPUT_SCHEMA_BYTES,
  };
  const generated = new Map<string, string>();
  for (const [path, text] of emitFiles(ctx)) generated.set(path, await pretty(join(outDir, path), text));

  const flags = [
    ...(options.include?.length ? ["--include", options.include.join(",")] : []),
    ...(options.exclude?.length ? ["--exclude", options.exclude.join(",")] : []),
    ...(options.baseUrl ? ["--base-url", options.baseUrl] : []),
    ...(options.maxOutputSchemaBytes !== undefined &&
    options.maxOutputSchemaBytes !== DEFAULT_MAX_OUTPUT_SCHEMA_BYTES
      ? ["--max-output-schema-bytes", String(options.maxOutputSchemaBytes)]
      : []),
  ];
  const base = findUp(outDir, "tsconfig.base.json");
  const vitestConfig = base ? join(dirname(base), "vitest.config.ts") : undefined;
  const checkScript = base ? join(dirname(base), "scripts/check.mjs") : undefined;
  const scaffold = scaffoldFiles(ctx, {
    documentPath: ctx.source,
    flags,
    tsconfigBase: base ? posix(relative(outDir, base)) : undefined,
    vitestConfig:
      vitestConfig && existsSync(vitestConfig) ? posix(relative(outDir, vitestConfig)) : undefined,
    checkScript: checkScript && existsSync(checkScript) ? posix(relative(outDir, checkScript)) : undefined,
  });
  const scaffolded: string[] = [];
  const write = options.write !== false;
  for (const [path, text] of scaffold) {
    if (existsSync(join(outDir, path))) continue;
    scaffolded.push(path);
    if (write) await put(join(outDir, path), await pretty(join(outDir, path), text));
  }
  const stale = (await generatedOnDisk(outDir)).filter((p) => !generated.has(p));
  if (write) {
    for (const [path, text] of generated) await put(join(outDir, path), text);
    for (const path of stale) await rm(join(outDir, path));
  }
  const oldRuntimeImports = await importsOfOldRuntime(outDir);
  return { generated, scaffolded, stale, operations, skipped, oldRuntimeImports };
}

/** Hand-written .ts files under src/ and test/ importing the generated runtime of earlier versions. */
async function importsOfOldRuntime(outDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ["src", "test"]) {
    const root = join(outDir, dir);
    if (!existsSync(root)) continue;
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const full = join(entry.parentPath, entry.name);
      const path = posix(relative(outDir, full));
      if (path.startsWith("src/generated/")) continue;
      if (/from\s+["'][./]*(src\/)?generated\/runtime(\.js)?["']/.test(await readFile(full, "utf8"))) {
        out.push(path);
      }
    }
  }
  return out.sort();
}

/** What to tell the owner of a server whose hand-written files import the old runtime copy. */
export function oldRuntimeAdvice(path: string): string {
  return `${path} imports src/generated/runtime.js, which is no longer generated: import from "${RUNTIME_PACKAGE}" instead (and add it to dependencies in package.json)`;
}

/** Generated files under src/generated (those that start with the generated mark). */
export async function generatedOnDisk(outDir: string): Promise<string[]> {
  const root = join(outDir, "src/generated");
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    if ((await readFile(full, "utf8")).startsWith(GENERATED_MARK)) out.push(posix(relative(outDir, full)));
  }
  return out.sort();
}

function defaultBaseUrl(doc: OpenApiDocument): string | undefined {
  const server = doc.servers?.[0];
  if (!server?.url) return undefined;
  const url = server.url.replace(/\{([^}]+)\}/g, (_, v: string) => server.variables?.[v]?.default ?? "");
  return /^https?:\/\//.test(url) ? url.replace(/\/+$/, "") : undefined;
}

async function pretty(path: string, text: string): Promise<string> {
  const config = (await resolveConfig(path)) ?? {};
  return format(text, { ...config, filepath: path });
}

async function put(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

function findUp(from: string, file: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, file))) return join(dir, file);
    if (dirname(dir) === dir) return undefined;
  }
}

function posix(p: string): string {
  return p.split(sep).join("/");
}
