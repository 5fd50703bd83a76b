// No import cycles: in every workspace package (packages/, servers/, bench/, their fixtures, the
// generators), its source and its tests are a one-way graph of run-time imports (an `import type` is
// erased and may point anywhere). A cycle makes load order matter and hides a missing layer; this
// test names the files of each one it finds.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { root, workspacePackages } from "./workspace.js";

/** The package's .ts files, not in dependencies, build output or a nested workspace package. */
function* tsFiles(dir: string, nested: Set<string>): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      const skip =
        e.name === "node_modules" || e.name === "dist" || e.name.startsWith(".") || nested.has(path);
      if (!skip) yield* tsFiles(path, nested);
    } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) yield path;
  }
}

/** The files of this package that `file` imports at run time (relative specifiers only). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const node of source.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      const named = node.importClause?.namedBindings;
      // `import { type A, type B }` is erased as well.
      const allTypes =
        !node.importClause?.name &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (!allTypes) spec = node.moduleSpecifier;
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly) {
      spec = node.moduleSpecifier;
    }
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) continue;
    const base = join(dirname(file), spec.text.replace(/\.js$/, ""));
    const target = [`${base}.ts`, join(base, "index.ts")].find((p) => existsSync(p));
    if (target) out.push(target);
  }
  return out;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

// Every workspace package: product code, the fixtures, and bench/, whose suites import every server's
// attacks and targets; each with its tests.
const packages = workspacePackages();

describe("import cycles", () => {
  it("finds the packages to check", () => {
    expect(packages).toEqual(
      expect.arrayContaining([
        "packages/server",
        "packages/testing/fixtures/everything",
        "servers/data-analytics",
        "servers/example-api/upstream",
        "bench",
      ]),
    );
  });

  it.each(packages)("%s has none", (dir) => {
    const nested = new Set(packages.filter((p) => p.startsWith(`${dir}/`)).map((p) => join(root, p)));
    const graph = new Map<string, string[]>();
    for (const file of tsFiles(join(root, dir), nested)) graph.set(file, runtimeImports(file));
    expect(graph.size).toBeGreaterThan(0);
    const found = cycles(graph).map((c) => c.map((f) => relative(root, f)).join(" <-> "));
    expect(found, `import cycles:\n${found.join("\n")}`).toEqual([]);
  });

  it("detects a cycle (the check itself)", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(cycles(graph)).toEqual([["a", "b", "c"]]);
  });
});
