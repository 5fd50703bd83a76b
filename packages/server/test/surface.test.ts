// Guards what @toolshed/server publishes: the names each entry exports and the packages its built
// code imports at run time. A change to either shows up in the snapshot diff and in review; update
// it with `vitest run -u` once the change is meant. Reads dist/: build first.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { entries, runtimeImports, surface, undeclaredImports } from "../../../test-support/surface.js";

const root = join(import.meta.dirname, "..");

describe("the published surface of @toolshed/server", () => {
  it("states its public entry and exports only named bindings", () => {
    for (const [, , js] of entries(root)) {
      const src = readFileSync(join(root, js.replace(/^\.\/dist\/(.*)\.js$/, "src/$1.ts")), "utf8");
      expect(src).not.toMatch(/^export \*/m);
    }
    expect(readFileSync(join(root, "src/index.ts"), "utf8")).toMatch(/defines the complete public surface/);
  });

  it("exports the names in the snapshot, from each entry", async () => {
    const names = JSON.stringify(await surface(root), null, 2) + "\n";
    await expect(names).toMatchFileSnapshot("__snapshots__/surface.json");
  });

  it("imports at run time only its declared dependencies and Node's built-ins", async () => {
    expect(undeclaredImports(root), "imported by dist/ but not in dependencies").toEqual([]);
    const imports = JSON.stringify(runtimeImports(root), null, 2) + "\n";
    await expect(imports).toMatchFileSnapshot("__snapshots__/runtime-imports.json");
  });
});
