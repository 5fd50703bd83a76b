// `pnpm gen remove <name>`: undoes `pnpm gen server <name>` (either kind) in the workspace at `root`.
// The checks come first and touch nothing; only a name that passes them is removed. The shared files are
// edited by the inverses of the generator's edits in wire.ts, so they read as they did before it ran.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { KEBAB, serverNames, type ServerNames } from "./names.js";
import {
  COMPOSE_FILE,
  PROMETHEUS_FILE,
  ROOT_README,
  composeDependents,
  removeBenchDependency,
  removeComposeService,
  removePrometheusJob,
  removeReadmeRow,
  removeReliabilityTarget,
  type WireResult,
} from "./wire.js";

/** The servers this repository ships: never removed without --force. */
export const OWN_SERVERS = ["data-analytics", "example-api", "github", "vector-search", "gateway"];

export const GATEWAY_CONFIG = "deploy/compose/gateway.yaml";

export interface RemovalPlan {
  names: ServerNames;
  /** Paths (from the root) to delete: the server, its overlays, its changeset. */
  paths: string[];
  /** Notes on what is left alone, and why. */
  kept: string[];
}

/** Why `name` cannot be removed (one sentence saying what to do), or the plan. Touches nothing. */
export function planRemoval(root: string, input: unknown, force = false): { problem: string } | RemovalPlan {
  const name = typeof input === "string" ? input.trim() : "";
  if (!name) return { problem: "Give the server to remove: pnpm gen remove <name>." };
  if (!KEBAB.test(name)) {
    return { problem: `"${name}" is not a server name (kebab-case, as in servers/<name>); nothing removed.` };
  }
  if (OWN_SERVERS.includes(name) && !force) {
    return {
      problem: `servers/${name} is one of this repository's own servers, not a generated one; nothing removed (add --force if you really mean it).`,
    };
  }
  const names = serverNames(name);
  const dir = `servers/${name}`;
  if (existsSync(join(root, dir)) && !isServerDir(root, dir, name)) {
    return {
      problem: `${dir} is not a server directory (no package.json naming @toolshed/server-${name}); nothing removed.`,
    };
  }
  const paths = [dir, `deploy/k8s/overlays/${name}`, `deploy/k8s/overlays/${name}-cluster`].filter((p) =>
    existsSync(join(root, p)),
  );
  const kept: string[] = [];
  const changeset = `.changeset/${name}.md`;
  if (existsSync(join(root, changeset))) {
    // Only the generator's own changeset (it names this server alone); one that also records other
    // packages' changes is someone's work.
    if (changesetPackages(root, changeset).join() === `@toolshed/server-${name}`) paths.push(changeset);
    else kept.push(`${changeset}: names other packages too; left alone`);
  }
  const wired = traces(root, names);
  if (paths.length === 0 && wired.length === 0) {
    return {
      problem: `nothing to remove: there is no servers/${name} and nothing is wired in for '${name}' (compose service, scrape job, README row, k8s overlay, changeset, bench).`,
    };
  }
  // Hand-made references to the server would be left dangling: say where, and leave everything as it is.
  const dependents = composeDependents(root, name);
  if (dependents.length) {
    return {
      problem: `${COMPOSE_FILE}: ${dependents.join(", ")} depend${dependents.length === 1 ? "s" : ""} on '${name}'; take it out of their depends_on first; nothing removed.`,
    };
  }
  if (gatewayUpstream(root, name)) {
    return {
      problem: `${GATEWAY_CONFIG} has an upstream at http://${name}:8080; remove that upstream first; nothing removed.`,
    };
  }
  return { names, paths, kept };
}

/** Deletes what the plan names and undoes the wiring; returns one line per thing removed or left. */
export function removeServer(root: string, plan: RemovalPlan): { lines: string[]; edited: string[] } {
  const lines: string[] = [];
  for (const p of plan.paths) {
    rmSync(join(root, p), { recursive: true, force: true });
    lines.push(`removed ${p}`);
  }
  const edited: string[] = [];
  for (const fn of [
    removeComposeService,
    removePrometheusJob,
    removeReadmeRow,
    removeBenchDependency,
    removeReliabilityTarget,
  ]) {
    const r: WireResult = fn(root, plan.names);
    if (r.changed) {
      edited.push(r.file);
      lines.push(`${r.file}: removed ${r.note}`);
    } else if (/left alone/.test(r.note)) lines.push(`${r.file}: ${r.note}`);
  }
  lines.push(...plan.kept);
  return { lines, edited };
}

function isServerDir(root: string, dir: string, name: string): boolean {
  const pkg = join(root, dir, "package.json");
  if (!statSync(join(root, dir)).isDirectory() || !existsSync(pkg)) return false;
  try {
    return (JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === `@toolshed/server-${name}`;
  } catch {
    return false;
  }
}

/** The package names in a changeset's front matter. */
function changesetPackages(root: string, file: string): string[] {
  const m = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(root, file), "utf8"));
  const front = m ? (parseDocument(m[1]!).toJS() as Record<string, unknown> | null) : null;
  return Object.keys(front ?? {});
}

/** Whether anything the generator wires in is there for this name (read-only). */
function traces(root: string, n: ServerNames): string[] {
  const found: string[] = [];
  const read = (f: string) => (existsSync(join(root, f)) ? readFileSync(join(root, f), "utf8") : "");
  const compose = parseDocument(read(COMPOSE_FILE)).toJS({ maxAliasCount: -1 }) as {
    services?: Record<string, { build?: { args?: { SERVER?: string } } } | null>;
  } | null;
  if (compose?.services?.[n.name]?.build?.args?.SERVER === n.name) found.push(COMPOSE_FILE);
  const prometheus = parseDocument(read(PROMETHEUS_FILE)).toJS() as {
    scrape_configs?: { job_name?: string; static_configs?: { targets?: string[] }[] }[];
  } | null;
  const job = prometheus?.scrape_configs?.find((j) => j.job_name === n.name);
  if (job?.static_configs?.some((c) => c.targets?.includes(`${n.name}:8080`))) found.push(PROMETHEUS_FILE);
  if (read(ROOT_README).includes(`](servers/${n.name}/README.md)`)) found.push(ROOT_README);
  if (read("bench/package.json").includes(`"@toolshed/server-${n.name}"`)) found.push("bench/package.json");
  if (read("bench/src/reliability/targets.ts").includes(`binOf("@toolshed/server-${n.name}")`)) {
    found.push("bench/src/reliability/targets.ts");
  }
  return found;
}

/** Whether the compose stack's gateway config has an upstream at this server's address. */
function gatewayUpstream(root: string, name: string): boolean {
  const file = join(root, GATEWAY_CONFIG);
  return existsSync(file) && readFileSync(file, "utf8").includes(`//${name}:8080`);
}
