// The published surface of the platform packages besides the kit (which has its own,
// packages/server/test/surface.test.ts): the names each entry exports, in one snapshot, and no
// run-time import of dist/ missing from dependencies. Reads dist/: build first.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { surface, undeclaredImports } from "../../test-support/surface.js";
import { root } from "./workspace.js";

const packages = readdirSync(join(root, "packages")).filter((name) => name !== "server");

describe("platform package surfaces", () => {
  it("export the names in the snapshot", async () => {
    const all: Record<string, unknown> = {};
    for (const name of packages) all[`@toolshed/${name}`] = await surface(join(root, "packages", name));
    await expect(JSON.stringify(all, null, 2) + "\n").toMatchFileSnapshot("__snapshots__/surfaces.json");
  });

  it.each(packages)("@toolshed/%s imports at run time only its declared dependencies", (name) => {
    expect(undeclaredImports(join(root, "packages", name))).toEqual([]);
  });
});
