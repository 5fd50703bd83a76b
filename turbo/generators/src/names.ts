// A new server's name in every spelling the template needs, and the checks a name must pass.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";

/** kebab-case: lowercase letters and digits in words joined by single hyphens, starting with a letter. */
export const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** `toolshed-<name>-server` must fit a Kubernetes name (63) and a compose project stays readable. */
const MAX_LENGTH = 40;

export interface ServerNames {
  /** kebab-case, the folder and the package suffix: "issue-tracker". */
  name: string;
  /** "Issue Tracker". */
  title: string;
  /** "IssueTracker", for identifiers. */
  pascal: string;
  /** "ISSUE_TRACKER", for environment variable prefixes. */
  constant: string;
}

export function serverNames(name: string): ServerNames {
  const words = name.split("-");
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  return {
    name,
    title: words.map(cap).join(" "),
    pascal: words.map(cap).join(""),
    constant: words.join("_").toUpperCase(),
  };
}

/**
 * Checks a proposed server name against the workspace at `root`. Returns null when the name can be used,
 * else one sentence saying what is wrong and what to do instead.
 */
export function nameProblem(input: unknown, root: string): string | null {
  const name = typeof input === "string" ? input.trim() : "";
  if (!name)
    return 'Give the new server a name, e.g. `pnpm gen server weather` (kebab-case, like "data-analytics").';
  if (!KEBAB.test(name)) {
    const suggestion = name
      .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^[^a-z]+|-+$/g, "");
    return (
      `"${name}" is not a kebab-case server name: use lowercase letters and digits in words joined by single ` +
      `hyphens, starting with a letter${suggestion && KEBAB.test(suggestion) ? ` (e.g. "${suggestion}")` : ""}.`
    );
  }
  if (name.length > MAX_LENGTH) {
    return `"${name}" is ${name.length} characters; keep a server name to ${MAX_LENGTH} or fewer (it becomes Kubernetes and image names).`;
  }
  if (existsSync(join(root, "servers", name))) {
    return `servers/${name} already exists; pick another name, or delete that folder first if it is a leftover.`;
  }
  const taken = takenNames(root);
  const clash = taken.find((t) => t.name === name);
  if (clash) {
    return `"${name}" is already used by ${clash.where}; pick another name so the dev stack wiring does not collide.`;
  }
  return null;
}

/** Names the dev stack files already use: compose services, Prometheus jobs, k8s overlays. */
function takenNames(root: string): { name: string; where: string }[] {
  const out: { name: string; where: string }[] = [];
  const yamlKeys = (file: string, path: (string | number)[], key?: string) => {
    const full = join(root, file);
    if (!existsSync(full)) return;
    const node = parseDocument(readFileSync(full, "utf8")).getIn(path) as
      { items?: { key?: { value?: unknown }; get?: (k: string) => unknown }[] } | undefined;
    for (const item of node?.items ?? []) {
      const value = key ? item.get?.(key) : item.key?.value;
      if (typeof value === "string") out.push({ name: value, where: `${file} (${path.join(".")})` });
    }
  };
  yamlKeys("docker-compose.dev.yaml", ["services"]);
  yamlKeys("deploy/prometheus/prometheus.yml", ["scrape_configs"], "job_name");
  const overlays = join(root, "deploy/k8s/overlays");
  if (existsSync(overlays)) {
    for (const d of readdirSync(overlays)) out.push({ name: d, where: `deploy/k8s/overlays/${d}` });
  }
  return out;
}
