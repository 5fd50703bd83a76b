// CI fails when src/generated/ no longer matches what the generator makes from the Example API's
// document: regenerate into a temp dir and compare file by file (and no stale generated files).
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generate, generatedOnDisk } from "@toolshed/openapi";
import { afterAll, expect, it, vi } from "vitest";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { generate: string } };
// Inside the package (git-ignored) so Prettier resolves the same config as for the committed files.
const tmp = mkdtempSync(join(root, ".tmp-regen-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it("the committed generated files are what the generator makes from upstream/openapi.yaml", async () => {
  // The generate script is the source of truth for the flags.
  expect(pkg.scripts.generate).toBe("toolshed-openapi upstream/openapi.yaml --out . --name example-api");
  // Generated into a temp copy of the document's location so the header's source path is the same.
  const out = join(tmp, "example-api");
  cpSync(join(root, "upstream/openapi.yaml"), join(out, "upstream/openapi.yaml"));
  const fresh = await generate({
    document: join(out, "upstream/openapi.yaml"),
    outDir: out,
    name: "example-api",
  });
  const committed = await generatedOnDisk(root);
  expect(committed, "generated files on disk").toEqual([...fresh.generated.keys()].sort());
  for (const [path, text] of fresh.generated) {
    expect(
      readFileSync(join(root, path), "utf8"),
      `${path} is out of date: run pnpm --filter @toolshed/server-example-api generate`,
    ).toBe(text);
  }
});
