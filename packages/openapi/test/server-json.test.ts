// The MCP registry entry every generated server gets (server.json, hand-written from then on): it agrees
// with package.json and lists each setting the server reads, as deploy/test/publish.test.ts requires of
// every server in servers/. On Directus' published description (@directus/specs), which names no server
// URL and two credentials.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generate } from "../src/generate.js";
import { tempServerDir } from "./helpers.js";

const require = createRequire(import.meta.url);
const DIRECTUS = join(dirname(require.resolve("@directus/specs")), "dist/openapi.json");

interface EnvVar {
  name: string;
  description: string;
  isRequired: boolean;
  isSecret?: boolean;
  default?: string;
}
interface ServerJson {
  name: string;
  description: string;
  version: string;
  repository: { subfolder: string };
  packages: {
    identifier: string;
    version: string;
    transport: { type: string };
    environmentVariables: EnvVar[];
  }[];
}

async function generated(prefix: string, baseUrl?: string) {
  const tmp = tempServerDir(prefix);
  dirs.push(tmp);
  await generate({
    document: DIRECTUS,
    outDir: tmp.dir,
    name: "directus",
    include: ["tag:Items"],
    ...(baseUrl ? { baseUrl } : {}),
  });
  const read = (f: string) => readFileSync(join(tmp.dir, f), "utf8");
  return {
    serverJson: JSON.parse(read("server.json")) as ServerJson,
    pkg: JSON.parse(read("package.json")) as { name: string; version: string; mcpName: string },
    readme: read("README.md"),
  };
}
const dirs: { cleanup(): void }[] = [];
afterAll(() => dirs.forEach((d) => d.cleanup()));

describe("server.json of a generated server", () => {
  it("agrees with package.json and documents every variable in the README, credentials as secrets", async () => {
    const { serverJson, pkg, readme } = await generated("sj-url", "https://directus.example.com");
    expect(serverJson.name).toBe(pkg.mcpName);
    expect(serverJson.version).toBe(pkg.version);
    expect(serverJson.repository.subfolder).toBe("servers/directus");
    expect(serverJson.description.length).toBeLessThanOrEqual(100);
    expect(serverJson.description).toMatch(/^\d+ tools for Directus/);
    const [npm] = serverJson.packages;
    expect(npm).toMatchObject({ identifier: pkg.name, version: pkg.version, transport: { type: "stdio" } });
    const env = npm!.environmentVariables;
    expect(env.find((v) => v.name === "DIRECTUS_BASE_URL")).toMatchObject({
      isRequired: false,
      default: "https://directus.example.com",
    });
    expect(env.find((v) => v.name === "DIRECTUS_ALLOW_PRIVATE_NETWORK")?.default).toBe("false");
    const secrets = env.filter((v) => v.isSecret).map((v) => v.name);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const v of env) {
      expect(v.description.length, v.name).toBeGreaterThan(10);
      if (v.name !== "TOOLSHED_LOG_LEVEL") expect(readme, v.name).toContain(`\`${v.name}\``);
    }
  });

  it("marks the base URL required when the document names no server and none is given", async () => {
    const { serverJson } = await generated("sj-nourl");
    const base = serverJson.packages[0]!.environmentVariables.find((v) => v.name === "DIRECTUS_BASE_URL");
    expect(base).toMatchObject({ isRequired: true });
    expect(base?.default).toBeUndefined();
  });
});
