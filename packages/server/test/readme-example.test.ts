// The kit guide's first example ("Write a server" in README.md) is examples/write-a-server.ts, which
// `pnpm typecheck` compiles (tsconfig.json includes examples/, and maps "@toolshed/server" to src/)
// and `pnpm lint` lints: this test keeps the README's block and the file's marked region equal, so a
// change to the kit that breaks the example fails to compile instead of leaving the README wrong.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const pkg = join(import.meta.dirname, "..");
const read = (path: string): string => readFileSync(join(pkg, path), "utf8");

/** The first ```ts block under a heading of the README. */
function readmeBlock(heading: string): string | undefined {
  const at = read("README.md").indexOf(`\n${heading}\n`);
  if (at < 0) return undefined;
  return /```ts\n([\s\S]*?)```\n/.exec(read("README.md").slice(at))?.[1];
}

/** The lines between `// #region readme` and `// #endregion readme`. */
function region(text: string): string | undefined {
  return /^\/\/ #region readme\n([\s\S]*?)^\/\/ #endregion readme$/m.exec(text)?.[1];
}

describe("the kit guide's example", () => {
  it("is examples/write-a-server.ts, character for character", () => {
    const block = readmeBlock("## Write a server");
    expect(block, "a ts block under '## Write a server'").toBeDefined();
    const file = region(read("examples/write-a-server.ts"));
    expect(file, "a // #region readme … // #endregion readme in the example").toBeDefined();
    expect(block).toBe(file);
  });

  it("is compiled by the package's typecheck, against the kit's source", () => {
    const tsconfig = JSON.parse(read("tsconfig.json")) as {
      include: string[];
      compilerOptions: { paths?: Record<string, string[]> };
    };
    expect(tsconfig.include).toContain("examples");
    expect(tsconfig.compilerOptions.paths?.["@toolshed/server"]).toEqual(["./src/index.ts"]);
  });

  it("is checked, not waved through", () => {
    expect(region("// #region readme\nconst a = 1;\n// #endregion readme\n")).toBe("const a = 1;\n");
    expect(region("const a = 1;\n")).toBeUndefined();
  });
});
