// Where things are in the workspace, for the delivery checks.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";

export const root = resolve(import.meta.dirname, "../..");

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  mcpName?: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  files?: string[];
  engines?: { node?: string };
  repository?: { type?: string; url?: string; directory?: string };
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Folder relative to the root, e.g. "servers/data-analytics". */
  dir: string;
  pkg: PackageJson;
}

function listDir(parent: string): WorkspacePackage[] {
  return readdirSync(join(root, parent), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, parent, d.name, "package.json")))
    .map((d) => {
      const dir = `${parent}/${d.name}`;
      return { dir, pkg: JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as PackageJson };
    });
}

/** Every package the release publishes (not private), platform packages and servers. */
export function publishedPackages(): WorkspacePackage[] {
  return [...listDir("packages"), ...listDir("servers")].filter((p) => !p.pkg.private);
}

/** Every server in servers/ (each is published as @toolshed/server-<dir>). */
export function servers(): (WorkspacePackage & { name: string })[] {
  return listDir("servers").map((p) => ({ ...p, name: p.dir.slice("servers/".length) }));
}

/** Workspace packages that are never published (fixtures, bench, these tests). */
export function privateWorkspacePackages(): WorkspacePackage[] {
  const singles = ["bench", "deploy"].filter((d) => existsSync(join(root, d, "package.json")));
  return [
    ...listDir("packages"),
    ...listDir("servers"),
    ...listDir("packages/testing/fixtures"),
    ...singles.map((dir) => ({ dir, pkg: readJson<PackageJson>(`${dir}/package.json`) })),
  ].filter((p) => p.pkg.private);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), "utf8")) as T;
}

/** Servers whose own --help offers an embedded store (--data-dir) and PostgreSQL (--postgres-url). */
export function embeddedStoreServers(): Set<string> {
  const found = new Set<string>();
  for (const s of servers()) {
    const bin = Object.values(s.pkg.bin ?? {})[0];
    if (!bin) continue;
    const help = execFileSync("node", [join(root, s.dir, bin), "--help"], { encoding: "utf8" });
    if (help.includes("--data-dir") && help.includes("--postgres-url")) found.add(s.name);
  }
  return found;
}

/** Every folder the pnpm workspace makes a package (its globs end in `/*` or name one folder). */
export function workspacePackages(): string[] {
  const { packages } = parse(readFileSync(join(root, "pnpm-workspace.yaml"), "utf8")) as {
    packages: string[];
  };
  return packages.flatMap((glob) => {
    if (!glob.endsWith("/*")) return existsSync(join(root, glob, "package.json")) ? [glob] : [];
    const parent = glob.slice(0, -2);
    return readdirSync(join(root, parent), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, parent, d.name, "package.json")))
      .map((d) => `${parent}/${d.name}`);
  });
}
