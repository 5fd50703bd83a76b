// The generator's promise, end to end: for two documents (the Example API's 3.1 YAML and the classic
// Petstore 3.0) the generated server builds, typechecks, lints and passes its own contract test with no
// hand edits. Slow (tsc, eslint and vitest per server), so bounded to these and run one after another.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generate } from "../src/generate.js";
import { fixtures, tempServerDir } from "./helpers.js";

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, "../../..");
const bin = (pkg: string, path: string) => join(dirname(require.resolve(`${pkg}/package.json`)), path);
const TSC = bin("typescript", "bin/tsc");
const ESLINT = join(root, "node_modules/eslint/bin/eslint.js");
const VITEST = join(root, "node_modules/vitest/vitest.mjs");

function run(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ code, output: output.slice(-4000) }));
  });
}

const cases = [
  {
    name: "example-api-e2e",
    document: join(root, "servers/example-api/upstream/openapi.yaml"),
    include: undefined,
    tools: 6,
  },
  { name: "petstore", document: join(fixtures, "petstore.yaml"), include: undefined, tools: 3 },
  // Directus' published description (a large real-world document from npm, cut down with --include) is
  // generated, wired in, built, typechecked, linted and contract-tested inside a copy of the whole repo
  // by the template e2e (turbo/generators/test/template.e2e.ts, the test line's last step): not repeated.
];

describe.each(cases)("a server generated from $name", ({ name, document, include, tools }) => {
  const tmp = tempServerDir(`e2e-${name}`);
  afterAll(() => tmp.cleanup());

  it("builds, typechecks, lints and passes its contract test without hand edits", async () => {
    const result = await generate({ document, outDir: tmp.dir, name, ...(include ? { include } : {}) });
    expect(result.operations).toHaveLength(tools);
    const steps: [string, string[]][] = [
      ["build", [TSC, "-p", "tsconfig.build.json"]],
      ["typecheck", [TSC, "--noEmit", "-p", "tsconfig.json"]],
      ["lint", [ESLINT, "--max-warnings", "0", "."]],
      ["--version", [join(tmp.dir, "dist/bin.js"), "--version"]],
    ];
    for (const [step, args] of steps) {
      const r = await run(args, tmp.dir);
      expect(r.code, `${step} failed:\n${r.output}`).toBe(0);
    }
    // The generated contract test, run as its own vitest project (the root config's projects are not its).
    writeFileSync(
      join(tmp.dir, "vitest.e2e.config.mjs"),
      "export default { test: { testTimeout: 60000 } };\n",
    );
    const contract = await run(
      [VITEST, "run", "--root", ".", "--config", "./vitest.e2e.config.mjs"],
      tmp.dir,
    );
    expect(contract.code, `contract test failed:\n${contract.output}`).toBe(0);
    expect(contract.output).toMatch(/Tests\s+7 passed/);
    // An override for an operation the document no longer has: one line on stderr, exit 1, no stack.
    writeFileSync(
      join(tmp.dir, "src/overrides.ts"),
      'import type { Overrides } from "@toolshed/openapi-runtime";\n' +
        'export const overrides: Overrides = { tools: { removed_op: { title: "Gone" } } };\n',
    );
    const rebuilt = await run([TSC, "-p", "tsconfig.build.json"], tmp.dir);
    expect(rebuilt.code, rebuilt.output).toBe(0);
    const refused = await run([join(tmp.dir, "dist/bin.js"), "--version"], tmp.dir);
    expect(refused.code).toBe(1);
    expect(refused.output.trim()).toBe(
      `toolshed-${name}: refusing to start: src/overrides.ts: tools.removed_op names a tool the document does not define (any more): remove it, or move it to the tool's new name`,
    );
  }, 600_000);
});
