// packageVersion(import.meta.url): the one way a server reads its own version, from the nearest
// package.json above the module, on real files in a temporary directory.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { packageVersion } from "../src/package-version.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "toolshed-version-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("packageVersion", () => {
  it("reads the nearest package.json above the module, once per directory", () => {
    const dir = tree({
      "package.json": JSON.stringify({ name: "outer", version: "9.9.9" }),
      "srv/package.json": JSON.stringify({ name: "srv", version: "1.2.3" }),
      "srv/dist/deep/server.js": "",
    });
    const url = pathToFileURL(join(dir, "srv/dist/deep/server.js")).href;
    expect(packageVersion(url)).toBe("1.2.3");
    writeFileSync(join(dir, "srv/package.json"), JSON.stringify({ name: "srv", version: "2.0.0" }));
    expect(packageVersion(new URL(url))).toBe("1.2.3");
  });

  it("says what is wrong: no version, no package.json, not a file URL", () => {
    const dir = tree({ "pkg/package.json": JSON.stringify({ type: "module" }), "pkg/src/server.js": "" });
    expect(() => packageVersion(pathToFileURL(join(dir, "pkg/src/server.js")))).toThrow(
      /package\.json has no "version"; add one/,
    );
    expect(() => packageVersion("file:///server.js")).toThrow(/no package\.json above \//);
    expect(() => packageVersion("https://example.com/server.js")).toThrow(/expected a file: URL/);
  });

  it("is how every server, the template and the OpenAPI scaffold read their version", () => {
    const servers = readdirSync(join(root, "servers")).filter((name) =>
      statSync(join(root, "servers", name)).isDirectory(),
    );
    const files = [
      ...servers.map((name) => join(root, "servers", name, "src/server.ts")),
      join(root, "turbo/generators/templates/server/src/server.ts.hbs"),
      join(root, "packages/openapi/src/scaffold.ts"),
    ];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      expect(text, file).toContain("packageVersion(import.meta.url)");
      expect(text, file).not.toMatch(/["']\.\.\/package\.json["']/);
    }
  });
});
