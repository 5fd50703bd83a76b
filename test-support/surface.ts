// What a package publishes: the names each entry of its exports map exports, and the packages its
// built code imports at run time. Read from dist/ (build first); used by the surface snapshot tests.
import { readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import ts from "typescript";

interface Manifest {
  exports: Record<string, string | { types: string; import: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;

/** The code entries of the exports map (not ./package.json), as [subpath, types, js]. */
export function entries(dir: string): [string, string, string][] {
  return Object.entries(manifest(dir).exports)
    .filter(([subpath]) => subpath !== "./package.json")
    .map(([subpath, t]) => (typeof t === "string" ? [subpath, t, t] : [subpath, t.types, t.import]));
}

/** Every name a declaration file exports, values and types. */
function exportedNames(dts: string): string[] {
  const names: string[] = [];
  for (const [, list] of dts.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
    for (const item of list!.split(",")) {
      const name = item
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)
        .pop();
      if (name) names.push(name);
    }
  }
  for (const [, name] of dts.matchAll(
    /export (?:declare )?(?:abstract )?(?:function|class|const|interface|type|enum) (\w+)/g,
  )) {
    names.push(name!);
  }
  return [...new Set(names)].sort();
}

/** Per entry: every exported name (types included) and the values present at run time. */
export async function surface(dir: string): Promise<Record<string, { names: string[]; values: string[] }>> {
  const out: Record<string, { names: string[]; values: string[] }> = {};
  for (const [subpath, types, js] of entries(dir)) {
    const mod = (await import(join(dir, js))) as Record<string, unknown>;
    out[subpath] = {
      names: exportedNames(readFileSync(join(dir, types), "utf8")),
      values: Object.keys(mod).sort(),
    };
  }
  return out;
}

function* jsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* jsFiles(join(dir, e.name));
    else if (e.name.endsWith(".js")) yield join(dir, e.name);
  }
}

/**
 * The module specifiers one JS file imports: its import/export declarations, import() calls and
 * require() calls (a `createRequire` require, for a dependency loaded synchronously on first use).
 */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const specs: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specs.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specs.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specs;
}

/** The bare specifiers dist/ imports at run time (type-only imports are gone from it; code inside
 * strings, such as a generator's templates, is not an import). */
export function runtimeImports(dir: string): string[] {
  const found = new Set<string>();
  for (const file of jsFiles(join(dir, "dist"))) {
    for (const spec of importsOf(file)) if (!spec.startsWith(".")) found.add(spec);
  }
  return [...found].sort();
}

const packageOf = (spec: string) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");
const builtins = new Set(builtinModules);

/** Run-time imports of dist/ that are neither Node built-ins nor declared (peer) dependencies. */
export function undeclaredImports(dir: string): string[] {
  const m = manifest(dir);
  const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
  return runtimeImports(dir).filter(
    (s) => !s.startsWith("node:") && !builtins.has(s) && !declared.has(packageOf(s)),
  );
}
