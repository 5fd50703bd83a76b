import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { serverNames } from "../src/names.js";
import { OWN_SERVERS, planRemoval, removeServer, type RemovalPlan } from "../src/remove.js";
import {
  BENCH_PACKAGE,
  COMPOSE_FILE,
  PROMETHEUS_FILE,
  RELIABILITY_TARGETS,
  ROOT_README,
  addBenchDependency,
  addComposeService,
  addPrometheusJob,
  addReadmeRow,
  addReliabilityTarget,
} from "../src/wire.js";

const root = resolve(import.meta.dirname, "../../..");
const SHARED = [COMPOSE_FILE, PROMETHEUS_FILE, ROOT_README, BENCH_PACKAGE, RELIABILITY_TARGETS];
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp root with copies of this workspace's shared files, the gateway's config and one own server. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "toolshed-remove-"));
  dirs.push(dir);
  for (const file of [...SHARED, "deploy/compose/gateway.yaml", "servers/github/package.json"]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  return dir;
}

/** Every file under `dir` with its text: what "nothing touched" is compared with. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const full = join(f.parentPath, f.name);
    out[relative(dir, full)] = readFileSync(full, "utf8");
  }
  return out;
}

/** What `pnpm gen server <name>` leaves: the server, its overlays, its changeset and the wiring. */
function generated(dir: string, name: string): void {
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  write(`servers/${name}/package.json`, JSON.stringify({ name: `@toolshed/server-${name}` }));
  write(`servers/${name}/src/server.ts`, "export {};\n");
  write(`deploy/k8s/overlays/${name}/kustomization.yaml`, "resources: []\n");
  write(`deploy/k8s/overlays/${name}-cluster/kustomization.yaml`, "resources: []\n");
  write(`.changeset/${name}.md`, `---\n"@toolshed/server-${name}": minor\n---\n\nFirst release.\n`);
  const n = serverNames(name);
  for (const add of [
    addComposeService,
    addPrometheusJob,
    addReadmeRow,
    addBenchDependency,
    addReliabilityTarget,
  ]) {
    expect(add(dir, n).changed).toBe(true);
  }
}

function plan(dir: string, name: string, force = false): RemovalPlan {
  const p = planRemoval(dir, name, force);
  if ("problem" in p) throw new Error(p.problem);
  return p;
}

describe("pnpm gen remove: what it removes", () => {
  it("removes the server, both overlays, its changeset and every edit, leaving the shared files as before", () => {
    const dir = workspace();
    const before = snapshot(dir);
    generated(dir, "issue-tracker");
    const { lines, edited } = removeServer(dir, plan(dir, "issue-tracker"));
    expect(lines).toEqual([
      "removed servers/issue-tracker",
      "removed deploy/k8s/overlays/issue-tracker",
      "removed deploy/k8s/overlays/issue-tracker-cluster",
      "removed .changeset/issue-tracker.md",
      "docker-compose.dev.yaml: removed service 'issue-tracker'",
      "deploy/prometheus/prometheus.yml: removed scrape job 'issue-tracker'",
      "README.md: removed the row for issue-tracker in the table of servers",
      "bench/package.json: removed devDependency @toolshed/server-issue-tracker",
      "bench/src/reliability/targets.ts: removed reliability target 'issue-tracker'",
    ]);
    expect(edited).toEqual(SHARED);
    // Byte for byte, no Prettier needed: the README row was inserted and cut unformatted here.
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(join(dir, "servers/issue-tracker"))).toBe(false);
    expect(existsSync(join(dir, "deploy/k8s/overlays/issue-tracker-cluster"))).toBe(false);
    // A second run finds nothing, and says so.
    expect(planRemoval(dir, "issue-tracker")).toEqual({
      problem:
        "nothing to remove: there is no servers/issue-tracker and nothing is wired in for 'issue-tracker' (compose service, scrape job, README row, k8s overlay, changeset, bench).",
    });
  });

  it("removes the wiring a half-done manual removal left behind", () => {
    const dir = workspace();
    const before = snapshot(dir);
    generated(dir, "weather");
    rmSync(join(dir, "servers/weather"), { recursive: true });
    const { lines } = removeServer(dir, plan(dir, "weather"));
    expect(lines).toContain("docker-compose.dev.yaml: removed service 'weather'");
    expect(snapshot(dir)).toEqual(before);
  });

  it("keeps a changeset that names other packages too", () => {
    const dir = workspace();
    generated(dir, "weather");
    const changeset = `---\n"@toolshed/server-weather": minor\n"@toolshed/kit": patch\n---\n\nBoth.\n`;
    writeFileSync(join(dir, ".changeset/weather.md"), changeset);
    const { lines } = removeServer(dir, plan(dir, "weather"));
    expect(lines).toContain(".changeset/weather.md: names other packages too; left alone");
    expect(readFileSync(join(dir, ".changeset/weather.md"), "utf8")).toBe(changeset);
  });
});

describe("pnpm gen remove: what it refuses, touching nothing", () => {
  const cases: {
    what: string;
    name: string;
    force?: boolean;
    setup?: (dir: string) => void;
    says: string;
  }[] = [
    { what: "an empty name", name: " ", says: "Give the server to remove: pnpm gen remove <name>." },
    { what: "a name that is not kebab-case", name: "../servers", says: '"../servers" is not a server name' },
    {
      what: "a name nothing is known by",
      name: "no-such-server",
      says: "nothing to remove: there is no servers/no-such-server and nothing is wired in for 'no-such-server'",
    },
    {
      what: "a folder under servers/ that is not a server",
      name: "notes",
      setup: (dir) => mkdirSync(join(dir, "servers/notes"), { recursive: true }),
      says: "servers/notes is not a server directory (no package.json naming @toolshed/server-notes)",
    },
    {
      what: "the repository's own server without --force",
      name: "github",
      says: "servers/github is one of this repository's own servers, not a generated one; nothing removed (add --force",
    },
    {
      what: "a server the compose gateway depends on (--force given)",
      name: "github",
      force: true,
      says: "docker-compose.dev.yaml: gateway depends on 'github'; take it out of their depends_on first",
    },
    {
      what: "a server the compose gateway's config has as an upstream",
      name: "weather",
      setup: (dir) => {
        generated(dir, "weather");
        const file = join(dir, "deploy/compose/gateway.yaml");
        writeFileSync(
          file,
          `${readFileSync(file, "utf8")}  - name: weather\n    url: http://weather:8080/mcp\n`,
        );
      },
      says: "deploy/compose/gateway.yaml has an upstream at http://weather:8080; remove that upstream first",
    },
  ];
  for (const { what, name, force, setup, says } of cases) {
    it(what, () => {
      const dir = workspace();
      setup?.(dir);
      const before = snapshot(dir);
      const p = planRemoval(dir, name, force);
      expect("problem" in p && p.problem).toContain(says);
      expect(snapshot(dir)).toEqual(before);
    });
  }

  it("knows the repository's own servers: each is a server folder here", () => {
    for (const name of OWN_SERVERS) {
      const pkg = JSON.parse(readFileSync(join(root, "servers", name, "package.json"), "utf8")) as {
        name: string;
      };
      expect(pkg.name).toBe(`@toolshed/server-${name}`);
    }
  });
});
