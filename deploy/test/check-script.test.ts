// scripts/check.mjs, each package's `check` script and the test line's typecheck and lint: one TypeScript
// program for both. Run here on a throw-away package inside the workspace (so the root eslint.config.js,
// tsconfig.base.json and TypeScript are the real ones), it must fail on a type error and on a lint error,
// each named, and pass clean code.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { root } from "./workspace.js";

const run = promisify(execFile);
const script = join(root, "scripts/check.mjs");
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A package in a temp folder beside this one, with `src/index.ts` as given. */
function tempPackage(source: string): string {
  const dir = mkdtempSync(join(import.meta.dirname, "..", ".tmp-check-"));
  dirs.push(dir);
  mkdirSync(join(dir, "src"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "check-test", private: true, type: "module" }),
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../tsconfig.base.json",
      compilerOptions: { noEmit: true },
      include: ["src"],
    }),
  );
  writeFileSync(join(dir, "src/index.ts"), source);
  return dir;
}

async function check(dir: string, args: string[] = []): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd: dir });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe("scripts/check.mjs (pnpm check)", () => {
  it("passes clean code", async () => {
    const dir = tempPackage(
      "export async function one(): Promise<number> {\n  return await Promise.resolve(1);\n}\n",
    );
    expect(await check(dir)).toEqual({ code: 0, output: "" });
  }, 60_000);

  it("fails on a type error, reported as tsc reports it", async () => {
    const dir = tempPackage('export const n: number = "one";\n');
    const { code, output } = await check(dir);
    expect(code).toBe(1);
    expect(output).toMatch(
      /src\/index\.ts\(1,14\): error TS2322: Type 'string' is not assignable to type 'number'/,
    );
    expect(output).toContain("check: 1 type error(s), 0 lint error(s)");
  }, 60_000);

  it("fails on a type-aware lint error (a floating promise), reported as eslint reports it", async () => {
    const dir = tempPackage(
      "async function later(): Promise<void> {}\nexport function now(): void {\n  later();\n}\n",
    );
    const { code, output } = await check(dir);
    expect(code).toBe(1);
    expect(output).toMatch(
      /3:3\s+error\s+Promises must be awaited.*@typescript-eslint\/no-floating-promises/,
    );
    expect(output).toContain("check: 0 type error(s), 1 lint error(s)");
  }, 60_000);

  it("lints without the folders --ignore-pattern names, as eslint does", async () => {
    const dir = tempPackage("export const one = 1;\n");
    mkdirSync(join(dir, "nested"));
    writeFileSync(join(dir, "nested/bad.ts"), "export const x = 1\n;debugger;\n");
    expect((await check(dir)).code).toBe(1); // nested/ is in no program: refused
    expect(await check(dir, ["--ignore-pattern", "nested/**"])).toEqual({ code: 0, output: "" });
  }, 60_000);

  it("refuses an unknown argument and a folder without tsconfig.json, saying what to do", async () => {
    const dir = tempPackage("export const one = 1;\n");
    const bad = await check(dir, ["--fix"]);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain("check: unknown argument '--fix'; it takes --ignore-pattern <glob>");
    const none = await check(join(dir, "src"));
    expect(none.code).toBe(2);
    expect(none.output).toMatch(/check: no tsconfig.json in .*src; run it from a package's folder/);
  }, 60_000);
});
