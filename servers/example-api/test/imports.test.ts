// The built server loads its runtime from @toolshed/openapi-runtime and nothing of the generator
// (@toolshed/openapi, its document parser yaml, its formatter prettier): every module the real bin
// resolves while it starts and serves a call, recorded by a module resolve hook.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { spawnStdioServer } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startUpstream, TOKEN } from "./helpers.js";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dir: string;
beforeAll(async () => {
  upstream = await startUpstream();
  dir = mkdtempSync(join(tmpdir(), "example-api-imports-"));
});
afterAll(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the bin with a resolve hook that appends each module's URL to a file; returns the URLs. */
async function modulesLoaded(): Promise<string[]> {
  const log = join(dir, "modules.log");
  writeFileSync(log, "");
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(
    hooks,
    `import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + "\\n");
  return result;
}
`,
  );
  const register = join(dir, "register.mjs");
  writeFileSync(
    register,
    `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: ${JSON.stringify(log)} } });
`,
  );
  const proc = await spawnStdioServer(process.execPath, ["--import", pathToFileURL(register).href, bin], {
    env: { EXAMPLE_API_BASE_URL: upstream.url, EXAMPLE_API_BEARER_TOKEN: TOKEN },
  });
  try {
    const created = (await proc.client.callTool({
      name: "create_resource",
      arguments: { name: "Imports" },
    })) as unknown as { structuredContent: { id: string } };
    expect(created.structuredContent.id).toBeTruthy();
  } finally {
    expect(await proc.close()).toBe(0);
  }
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

it("serves from @toolshed/openapi-runtime and never loads the generator, yaml or prettier", async () => {
  const urls = await modulesLoaded();
  expect(urls.some((u) => u.endsWith("/servers/example-api/dist/server.js"))).toBe(true);
  expect(urls.some((u) => /\/openapi-runtime\/dist\/index\.js$/.test(u))).toBe(true);
  const generatorSide = urls.filter(
    (u) =>
      /\/packages\/openapi\/|\/@toolshed\/openapi\/|\/node_modules\/(yaml|prettier)\//.test(u) ||
      /\/generated\/runtime\.js$/.test(u),
  );
  expect(generatorSide).toEqual([]);
});
