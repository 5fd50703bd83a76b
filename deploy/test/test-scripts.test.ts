// `pnpm --filter <package> test` is the command a newcomer (and a server's README) reaches for. pnpm
// answers it with nothing and exit 0 for a package without a `test` script, and by default for a filter
// that matches no package: so every workspace package has a `test` script that runs its own tests
// through the root vitest config, and the workspace sets `failIfNoMatch`.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { root, workspacePackages } from "./workspace.js";

const ROOT_CONFIG = join(root, "vitest.config.ts");
const SKIP = new Set(["node_modules", "dist", ".git", ".turbo", ".test-results"]);
/** vitest's default `include`. */
const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/;

const packages = workspacePackages();

/** Test files under `dir` (absolute paths), not descending into `except` (nested packages). */
function testFiles(dir: string, except: Set<string> = new Set()): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return SKIP.has(d.name) || except.has(path) ? [] : testFiles(path, except);
    return TEST_FILE.test(d.name) ? [path] : [];
  });
}

/**
 * The vitest projects of the root config, as a package's `test` script sees them: name -> root folder.
 * The test line runs this file with TOOLSHED_TEST_FILES=serial, which narrows the config to bench and
 * deploy; a package's script runs without it, so the config is read without it too.
 */
async function projects(): Promise<Map<string, string>> {
  const group = process.env.TOOLSHED_TEST_FILES;
  delete process.env.TOOLSHED_TEST_FILES;
  try {
    const mod = (await import(ROOT_CONFIG)) as {
      default: { test: { projects: { test: { name: string; root: string } }[] } };
    };
    return new Map(mod.default.test.projects.map((p) => [p.test.name, p.test.root]));
  } finally {
    if (group !== undefined) process.env.TOOLSHED_TEST_FILES = group;
  }
}

/**
 * The files `vitest run --config <root> --project <name> [filters]` runs: every test file of the
 * project, or those whose path from the project's root contains a filter (vitest's CLI filter).
 */
function selected(projectRoot: string, filters: string[]): string[] {
  const all = testFiles(projectRoot);
  if (filters.length === 0) return all;
  return all.filter((f) =>
    filters.some((flt) => relative(projectRoot, f).toLowerCase().includes(flt.toLowerCase())),
  );
}

describe("pnpm --filter <package> test", () => {
  it("finds the workspace's packages", () => {
    expect(packages).toEqual(expect.arrayContaining(["packages/server", "servers/gateway", "bench"]));
  });

  it.each(packages)("%s has a test script that runs its own tests", async (dir) => {
    const pkgDir = join(root, dir);
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as {
      name: string;
      scripts?: Record<string, string>;
    };
    const script = pkg.scripts?.test;
    expect(script, `${pkg.name} has no "test" script: pnpm would run nothing and exit 0`).toBeDefined();
    const m = /^vitest run --config (\S+) --project (\S+)((?: \S+)*)$/.exec(script!);
    expect(
      m,
      `"${script}" is not: vitest run --config <root vitest.config.ts> --project <name> [filters]`,
    ).not.toBeNull();
    const [, config, project, rest] = m!;
    expect(resolve(pkgDir, config!)).toBe(ROOT_CONFIG);
    const projectRoot = (await projects()).get(project!);
    expect(projectRoot, `no vitest project named ${project}`).toBeDefined();

    const runs = selected(projectRoot!, rest!.trim().split(/\s+/).filter(Boolean));
    expect(runs.length, `${pkg.name}'s test script selects no test file`).toBeGreaterThan(0);
    const nested = new Set(packages.filter((p) => p.startsWith(`${dir}/`)).map((p) => join(root, p)));
    const own = testFiles(pkgDir, nested);
    expect(own.filter((f) => !runs.includes(f)).map((f) => relative(root, f))).toEqual([]);
  });

  // The test line's typecheck and lint is `turbo run build check`, and turbo passes over a package without
  // the script: one without `check` would never be typechecked or linted there.
  it.each(packages)("%s has a check script: typecheck and lint through scripts/check.mjs", (dir) => {
    const pkgDir = join(root, dir);
    const scripts =
      (JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { scripts?: Record<string, string> })
        .scripts ?? {};
    const m = /^node (\S+)((?: --ignore-pattern \S+)*)$/.exec(scripts.check ?? "");
    expect(
      m,
      `"check": "${scripts.check}" is not: node <root>/scripts/check.mjs [--ignore-pattern <glob>]…`,
    ).not.toBeNull();
    expect(resolve(pkgDir, m![1]!)).toBe(join(root, "scripts/check.mjs"));
    // The same files as its lint script.
    expect(`eslint .${m![2]}`).toBe(scripts.lint);
    expect(scripts.typecheck).toBe("tsc --noEmit");
  });

  it("fails for a filter that matches no package", () => {
    const settings = parse(readFileSync(join(root, "pnpm-workspace.yaml"), "utf8")) as {
      failIfNoMatch?: boolean;
    };
    expect(settings.failIfNoMatch).toBe(true);
  });

  it("is checked, not waved through", () => {
    const projectRoot = join(root, "servers/example-api");
    const upstream = selected(projectRoot, ["upstream/test/"]).map((f) => relative(root, f));
    expect(upstream).toContain("servers/example-api/upstream/test/api.test.ts");
    expect(upstream.filter((f) => !f.startsWith("servers/example-api/upstream/test/"))).toEqual([]);
    expect(selected(projectRoot, ["no-such-test"])).toEqual([]);
  });
});
