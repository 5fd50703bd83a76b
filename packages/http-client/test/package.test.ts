import { readdir, readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { VERSION } from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  exports: Record<string, unknown>;
  files: string[];
};

// Guards the published surface: what a consumer imports and what dist/ itself imports.
describe("published surface", () => {
  it("exports the client from dist and keeps VERSION in step with package.json", async () => {
    const dist = (await import(join(root, "dist", "index.js"))) as Record<string, unknown>;
    expect(typeof dist.createHttpClient).toBe("function");
    expect(dist.VERSION).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
    expect(Object.keys(pkg.exports)).toEqual([".", "./package.json"]);
    expect(pkg.files).toEqual(["dist"]);
  });

  it("imports nothing from dist that is not a dependency or a node builtin", async () => {
    const files = (await readdir(join(root, "dist"), { recursive: true })).filter((f) => f.endsWith(".js"));
    expect(files.length).toBeGreaterThan(5);
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules.map((m) => `node:${m}`)]);
    for (const file of files) {
      const text = await readFile(join(root, "dist", file), "utf8");
      for (const match of text.matchAll(/\bfrom\s+"([^"]+)"/g)) {
        const spec = match[1]!;
        if (spec.startsWith(".")) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        expect(allowed.has(name) || allowed.has(spec), `${file} imports ${spec}`).toBe(true);
      }
    }
  });
});
