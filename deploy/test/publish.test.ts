// The published surface of every package: what npm and the MCP registry will see.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { privateWorkspacePackages, publishedPackages, readJson, root, servers } from "./workspace.js";

interface ServerJson {
  $schema: string;
  name: string;
  description: string;
  version: string;
  repository?: { url: string; source: string; subfolder?: string };
  packages: {
    registryType: string;
    identifier: string;
    version: string;
    transport: { type: string };
    environmentVariables?: { name: string; description: string; default?: string }[];
  }[];
}

const packages = publishedPackages();
const privateNames = new Set(privateWorkspacePackages().map((p) => p.pkg.name));

describe("publishable packages", () => {
  it("finds the platform packages and every server, and no private package", () => {
    expect(privateNames.size).toBeGreaterThan(0);
    const names = packages.map((p) => p.pkg.name);
    expect(names).toEqual(
      expect.arrayContaining(["@toolshed/errors", "@toolshed/server", "@toolshed/testing"]),
    );
    for (const s of servers()) expect(names).toContain(`@toolshed/server-${s.name}`);
  });

  it.each(packages.map((p) => [p.pkg.name, p] as const))(
    "%s has the publish fields",
    (_name, { dir, pkg }) => {
      expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(pkg.description, "description").toBeTruthy();
      expect(pkg.license, "license").toBeTruthy();
      // dist, and bin/ for a command checked in so that pnpm links it before dist is built.
      expect(pkg.files?.filter((f) => f !== "bin")).toEqual(["dist"]);
      for (const bin of Object.values(pkg.bin ?? {})) {
        expect(bin, "bin").toMatch(pkg.files?.includes("bin") ? /^\.\/(bin|dist)\// : /^\.\/dist\//);
        if (bin.startsWith("./bin/")) expect(existsSync(join(root, dir, bin)), bin).toBe(true);
      }
      expect(pkg.engines?.node, "engines.node").toMatch(/^>=\d+/);
      expect(pkg.publishConfig?.access).toBe("public");
      expect(pkg.repository?.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
      expect(pkg.repository?.directory).toBe(dir);
      expect(pkg.exports?.["./package.json"]).toBe("./package.json");
      const main = pkg.exports?.["."] as { types?: string; import?: string } | undefined;
      expect(main?.import, 'exports["."].import').toMatch(/^\.\/dist\/.+\.js$/);
      expect(main?.types, 'exports["."].types').toMatch(/^\.\/dist\/.+\.d\.ts$/);
      // A runtime dependency on a private workspace package would not install from the registry.
      for (const dep of Object.keys(pkg.dependencies ?? {})) expect(privateNames.has(dep), dep).toBe(false);
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
        if (dep.startsWith("@toolshed/")) expect(range, dep).toBe("workspace:^");
      }
    },
  );
});

describe.each(servers().map((s) => [s.name, s] as const))("server %s", (name, { dir, pkg }) => {
  const serverJson = (): ServerJson => readJson<ServerJson>(`${dir}/server.json`);

  it("is published as @toolshed/server-<dir> with an mcpName", () => {
    expect(pkg.private).toBeFalsy();
    expect(pkg.name).toBe(`@toolshed/server-${name}`);
    expect(pkg.mcpName).toMatch(new RegExp(`^io\\.github\\.[\\w-]+/${name}$`));
  });

  it("has a toolshed-<name> bin in dist whose source starts with a shebang", () => {
    const bin = pkg.bin?.[`toolshed-${name}`];
    expect(bin).toMatch(/^\.\/dist\/.+\.js$/);
    const source = join(root, dir, bin!.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
    expect(existsSync(source), source).toBe(true);
    expect(readFileSync(source, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });

  it("has a server.json that agrees with package.json", () => {
    expect(existsSync(join(root, dir, "server.json")), `${dir}/server.json`).toBe(true);
    const sj = serverJson();
    expect(sj.$schema).toMatch(
      /^https:\/\/static\.modelcontextprotocol\.io\/schemas\/[\d-]+\/server\.schema\.json$/,
    );
    expect(sj.name).toBe(pkg.mcpName);
    expect(sj.name.split("/")).toHaveLength(2);
    expect(sj.version).toBe(pkg.version);
    expect(sj.description.length).toBeGreaterThan(0);
    expect(sj.description.length).toBeLessThanOrEqual(100); // the registry rejects longer ones
    expect(sj.repository?.subfolder).toBe(dir);
    const npm = sj.packages.filter((p) => p.registryType === "npm");
    expect(npm).toHaveLength(1);
    expect(npm[0]).toMatchObject({
      identifier: pkg.name,
      version: pkg.version,
      transport: { type: "stdio" },
    });
  });

  it("lists environment variables that the server's README or the kit documents", () => {
    const help = readFileSync(join(root, dir, "README.md"), "utf8");
    const env = serverJson().packages.flatMap((p) => p.environmentVariables ?? []);
    expect(env.length).toBeGreaterThan(0);
    for (const v of env) {
      expect(v.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(v.description.length, v.name).toBeGreaterThan(10);
      expect(help.includes(v.name) || isKitVariable(v.name), `${v.name} not in ${dir}/README.md`).toBe(true);
    }
  });
});

/** Variables every kit-built server reads (see the kit guide's configuration tables). */
function isKitVariable(name: string): boolean {
  return readFileSync(join(root, "packages/server/README.md"), "utf8").includes(`\`${name}\``);
}

/** `--help` of a server's bin: for each env var, the default its flag shows (undefined when none). */
function helpDefaults(dir: string, bin: string): Map<string, string | undefined> {
  const help = execFileSync("node", [join(root, dir, bin), "--help"], { encoding: "utf8" });
  const found = new Map<string, string | undefined>();
  // The kit prints a flag's default as JSON right before its env names; "(default: in memory)" and
  // the like are prose inside a description.
  const line = /^ {6}.*?(?: \(default: ("[^"]*"|[^()\s]+|\[[^\]]*\])\))? {2}\[env: ([^\]]+)\]$/gm;
  for (const m of help.matchAll(line)) {
    const shown = m[1] === undefined ? undefined : String(JSON.parse(m[1]) as unknown);
    for (const name of m[2]!.split(", ")) found.set(name, shown);
  }
  return found;
}

describe.each(servers().map((s) => [s.name, s] as const))(
  "server %s in the MCP registry",
  (name, { dir, pkg }) => {
    const sj = () => readJson<ServerJson>(`${dir}/server.json`);
    const owner = () => /^https:\/\/github\.com\/([^/]+)\//.exec(sj().repository?.url ?? "")?.[1];

    it("is named under the GitHub owner of its repository, the only one the registry lets publish it", () => {
      expect(owner()).toBeTruthy();
      expect(sj().name).toBe(`io.github.${owner()}/${name}`);
      expect(pkg.repository?.url).toBe(`git+${sj().repository?.url}.git`);
    });

    it("states the defaults its --help shows, for every variable the server reads", () => {
      const bin = Object.values(pkg.bin ?? {})[0]!;
      const defaults = helpDefaults(dir, bin);
      for (const v of sj().packages.flatMap((p) => p.environmentVariables ?? [])) {
        if (!defaults.has(v.name)) continue; // read by the server's own code (GITHUB_TOKEN, …), not a flag
        const shown = defaults.get(v.name);
        // A flag without a JSON default is computed by the server (its help says how in prose).
        if (v.default !== undefined && shown !== undefined) {
          expect(v.default, `${v.name}: server.json default`).toBe(shown);
        }
        const said = /\(default:? ([^)]+)\)/.exec(v.description)?.[1];
        if (said !== undefined && shown !== undefined && /^[\w.-]+$/.test(said)) {
          expect(said, `${v.name}: default in the description`).toBe(shown);
        }
      }
    });
  },
);
