import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { check, format } from "prettier";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { serverNames } from "../src/names.js";
import {
  BENCH_PACKAGE,
  COMPOSE_FILE,
  PROMETHEUS_FILE,
  RELIABILITY_TARGETS,
  ROOT_README,
  addBenchDependency,
  addComposeService,
  addOverlayCredentials,
  addPrometheusJob,
  addReadmeRow,
  addReliabilityTarget,
  composeDependents,
  nextHostPort,
  removeBenchDependency,
  removeComposeService,
  removePrometheusJob,
  removeReadmeRow,
  removeReliabilityTarget,
  serverSecrets,
  type WireResult,
} from "../src/wire.js";

const root = resolve(import.meta.dirname, "../../..");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp root holding the given files: copies of this workspace's, or the text given. */
function workspace(files: Record<string, string | true>): string {
  const dir = mkdtempSync(join(tmpdir(), "toolshed-wire-"));
  dirs.push(dir);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    if (content === true) cpSync(join(root, file), join(dir, file));
    else writeFileSync(join(dir, file), content);
  }
  return dir;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");
const prettierClean = (text: string, file: string) =>
  check(text, { filepath: file, printWidth: 110, trailingComma: "all" });

/** True when `small` is `big` with one contiguous block removed: the edit only inserted. */
function onlyInserted(before: string, after: string): boolean {
  let i = 0;
  while (i < before.length && before[i] === after[i]) i++;
  return after.endsWith(before.slice(i));
}

interface Compose {
  services: Record<string, { environment?: Record<string, string>; ports?: string[]; build?: unknown }>;
}

/** The registry entry of a generated server with two credentials and one plain setting. */
const WEATHER_SERVER_JSON = JSON.stringify({
  name: "io.github.toolshed-mcp/weather",
  packages: [
    {
      registryType: "npm",
      identifier: "@toolshed/server-weather",
      environmentVariables: [
        { name: "WEATHER_BASE_URL", isSecret: false },
        { name: "WEATHER_API_KEY", isSecret: true },
        { name: "WEATHER_TOKEN", isSecret: true },
      ],
    },
    // The image entry repeats them; each is wired once.
    { registryType: "oci", environmentVariables: [{ name: "WEATHER_TOKEN", isSecret: true }] },
  ],
});

describe("server secrets", () => {
  it("are the env vars server.json marks secret, each with its Secret key", () => {
    const dir = workspace({ "servers/weather/server.json": WEATHER_SERVER_JSON });
    expect(serverSecrets(dir, "weather")).toEqual([
      { env: "WEATHER_API_KEY", key: "weather-api-key" },
      { env: "WEATHER_TOKEN", key: "weather-token" },
    ]);
    expect(serverSecrets(dir, "nothing-here")).toEqual([]);
  });

  it("refuses a server.json that is not JSON, saying which file", () => {
    const dir = workspace({ "servers/weather/server.json": "{ not json" });
    expect(() => serverSecrets(dir, "weather")).toThrow(/servers\/weather\/server\.json is not valid JSON/);
  });
});

describe("k8s overlay credentials", () => {
  const OVERLAY = "deploy/k8s/overlays/weather";
  /** The overlay as templates/overlay renders it for `weather`. */
  function rendered(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of ["deployment-patch.yaml", "kustomization.yaml"]) {
      out[`deploy/k8s/overlays/weather/${f}`] = readFileSync(
        join(root, "turbo/generators/templates/overlay", `${f}.hbs`),
        "utf8",
      ).replaceAll("{{name}}", "weather");
    }
    return out;
  }

  it("reads each credential from the server's Secret, optional, and names the keys to create", async () => {
    const dir = workspace({ ...rendered(), "servers/weather/server.json": WEATHER_SERVER_JSON });
    const patchFile = `${OVERLAY}/deployment-patch.yaml`;
    const before = read(dir, patchFile);
    const r = addOverlayCredentials(dir, serverNames("weather"));
    expect(r).toMatchObject({ file: patchFile, changed: true });
    const after = read(dir, patchFile);
    expect(onlyInserted(before, after)).toBe(true);
    expect(await prettierClean(after, patchFile)).toBe(true);
    const env = (
      parse(after) as {
        spec: { template: { spec: { containers: { env: { name: string; valueFrom?: unknown }[] }[] } } };
      }
    ).spec.template.spec.containers[0]!.env;
    expect(env.map((e) => e.name)).toEqual([
      "TOOLSHED_API_KEYS",
      "WEATHER_API_KEY",
      "WEATHER_TOKEN",
      "OTEL_SERVICE_NAME",
    ]);
    expect(env[1]!.valueFrom).toEqual({
      secretKeyRef: { name: "toolshed-weather", key: "weather-api-key", optional: true },
    });
    const kustomization = read(dir, `${OVERLAY}/kustomization.yaml`);
    expect(kustomization).toContain(
      "--from-literal=api-keys='id:sha256hex:scopes' \\\n#   --from-literal=weather-api-key='<WEATHER_API_KEY>' \\\n#   --from-literal=weather-token='<WEATHER_TOKEN>'\n",
    );
    // Still the same kustomization to kustomize: only comments changed.
    expect(parse(kustomization)).toEqual(parse(rendered()[`${OVERLAY}/kustomization.yaml`]!));
  });

  it("leaves a server without credentials (every template server) alone", () => {
    const dir = workspace(rendered());
    const before = read(dir, `${OVERLAY}/deployment-patch.yaml`);
    expect(addOverlayCredentials(dir, serverNames("weather"))).toMatchObject({ changed: false });
    expect(read(dir, `${OVERLAY}/deployment-patch.yaml`)).toBe(before);
  });
});

describe("docker-compose.dev.yaml", () => {
  it("adds a service after the last server, inheriting the shared env, and changes nothing else", async () => {
    const dir = workspace({ [COMPOSE_FILE]: true });
    const before = read(dir, COMPOSE_FILE);
    const r = addComposeService(dir, serverNames("issue-tracker"));
    const after = read(dir, COMPOSE_FILE);
    expect(r.changed).toBe(true);
    expect(onlyInserted(before, after)).toBe(true);
    expect(await prettierClean(after, COMPOSE_FILE)).toBe(true);

    const port = nextHostPort(before);
    expect(r.note).toBe(`service 'issue-tracker' on http://127.0.0.1:${port}/mcp`);
    const old = parse(before, { merge: true }) as Compose;
    const now = parse(after, { merge: true }) as Compose;
    const names = Object.keys(now.services);
    // Right after the servers, before the data stores.
    expect(names.indexOf("issue-tracker")).toBe(names.indexOf("postgres") - 1);
    for (const [name, service] of Object.entries(old.services)) expect(now.services[name]).toEqual(service);
    const added = now.services["issue-tracker"]!;
    expect(added.build).toEqual({
      context: ".",
      dockerfile: "deploy/docker/Dockerfile",
      args: { SERVER: "issue-tracker" },
    });
    expect(added.environment).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4318",
      OTEL_SERVICE_NAME: "issue-tracker",
      TOOLSHED_ALLOWED_HOSTS: `\${ISSUE_TRACKER_ALLOWED_HOSTS:-issue-tracker:8080,127.0.0.1:${port},localhost:${port}}`,
    });
    expect(added.ports).toEqual([`127.0.0.1:\${ISSUE_TRACKER_PORT:-${port}}:8080`]);
    // Bounded like every other container: memory, rotated logs.
    expect(added).toMatchObject({ mem_limit: "512m", logging: { driver: "json-file" } });
    // A second server takes the next host port.
    addComposeService(dir, serverNames("weather"));
    expect(read(dir, COMPOSE_FILE)).toContain(`"127.0.0.1:\${WEATHER_PORT:-${port + 1}}:8080"`);
  });

  it("puts the first server first when the file has none yet", () => {
    const dir = workspace({
      [COMPOSE_FILE]: [
        "x-server-env: &server-env",
        "  OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318",
        "x-server-healthcheck: &server-healthcheck",
        '  test: ["CMD", "true"]',
        "",
        "services:",
        "  # the database",
        "  postgres:",
        "    image: postgres",
        "",
        "networks:",
        "  toolshed: {}",
        "",
      ].join("\n"),
    });
    addComposeService(dir, serverNames("weather"));
    const now = parse(read(dir, COMPOSE_FILE), { merge: true }) as Compose;
    expect(Object.keys(now.services)).toEqual(["weather", "postgres"]);
    expect(read(dir, COMPOSE_FILE)).toContain("restart: unless-stopped\n\n  # the database\n  postgres:");
    expect(now.services.weather?.ports).toEqual(["127.0.0.1:${WEATHER_PORT:-8081}:8080"]);
  });

  it("passes a generated server's credentials through from the environment, never writing a value", async () => {
    const dir = workspace({ [COMPOSE_FILE]: true, "servers/weather/server.json": WEATHER_SERVER_JSON });
    const before = read(dir, COMPOSE_FILE);
    const r = addComposeService(dir, serverNames("weather"));
    const after = read(dir, COMPOSE_FILE);
    expect(onlyInserted(before, after)).toBe(true);
    expect(await prettierClean(after, COMPOSE_FILE)).toBe(true);
    expect(r.note).toMatch(/credentials from WEATHER_API_KEY, WEATHER_TOKEN in your environment$/);
    const env = (parse(after, { merge: true }) as Compose).services.weather!.environment!;
    expect(env.WEATHER_API_KEY).toBe("${WEATHER_API_KEY:-}");
    expect(env.WEATHER_TOKEN).toBe("${WEATHER_TOKEN:-}");
    // Settings that are not secret are not passed (they have defaults or are set by hand).
    expect(env).not.toHaveProperty("WEATHER_BASE_URL");
    // Removing the service takes its credentials with it.
    removeComposeService(dir, serverNames("weather"));
    expect(read(dir, COMPOSE_FILE)).toBe(before);
  });

  it("skips a missing file and refuses a file that is not YAML, saying which", () => {
    expect(addComposeService(workspace({}), serverNames("weather"))).toMatchObject({
      changed: false,
      note: "not found, skipped",
    });
    const dir = workspace({ [COMPOSE_FILE]: "services:\n  a: [\n" });
    expect(() => addComposeService(dir, serverNames("weather"))).toThrow(
      /docker-compose\.dev\.yaml is not valid YAML/,
    );
  });
});

describe("prometheus.yml", () => {
  it("adds a scrape job after the last server's and changes nothing else", async () => {
    const dir = workspace({ [PROMETHEUS_FILE]: true });
    const before = read(dir, PROMETHEUS_FILE);
    expect(addPrometheusJob(dir, serverNames("issue-tracker")).changed).toBe(true);
    const after = read(dir, PROMETHEUS_FILE);
    expect(onlyInserted(before, after)).toBe(true);
    expect(await prettierClean(after, PROMETHEUS_FILE)).toBe(true);
    const jobs = (parse(after) as { scrape_configs: { job_name: string }[] }).scrape_configs;
    const names = jobs.map((j) => j.job_name);
    expect(names.indexOf("issue-tracker")).toBe(names.indexOf("otel-collector") - 1);
    expect(jobs.find((j) => j.job_name === "issue-tracker")).toEqual({
      job_name: "issue-tracker",
      metrics_path: "/metrics",
      static_configs: [{ targets: ["issue-tracker:8080"], labels: { server: "issue-tracker" } }],
    });
  });

  it("appends at the end when the servers' jobs come last", async () => {
    const text = 'scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ["a:8080"]\n';
    const dir = workspace({ [PROMETHEUS_FILE]: text });
    addPrometheusJob(dir, serverNames("weather"));
    const after = read(dir, PROMETHEUS_FILE);
    expect(after.startsWith(text)).toBe(true);
    expect(await prettierClean(after, PROMETHEUS_FILE)).toBe(true);
    expect(
      (parse(after) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((j) => j.job_name),
    ).toEqual(["a", "weather"]);
  });
});

describe("bench/package.json", () => {
  it("adds the server as a workspace devDependency, sorted, Prettier-clean, changing nothing else", async () => {
    const dir = workspace({ [BENCH_PACKAGE]: true });
    const before = JSON.parse(read(dir, BENCH_PACKAGE)) as { devDependencies: Record<string, string> };
    expect(addBenchDependency(dir, serverNames("issue-tracker"))).toMatchObject({
      changed: true,
      note: "devDependency @toolshed/server-issue-tracker",
    });
    const text = read(dir, BENCH_PACKAGE);
    expect(await prettierClean(text, BENCH_PACKAGE)).toBe(true);
    const after = JSON.parse(text) as { devDependencies: Record<string, string> };
    expect(after).toEqual({
      ...before,
      devDependencies: { ...before.devDependencies, "@toolshed/server-issue-tracker": "workspace:*" },
    });
    const names = Object.keys(after.devDependencies);
    expect(names).toEqual([...names].sort());
    // Twice is once.
    expect(addBenchDependency(dir, serverNames("issue-tracker")).changed).toBe(false);
    expect(read(dir, BENCH_PACKAGE)).toBe(text);
  });

  it("skips a missing file and refuses one that is not JSON, saying which", () => {
    expect(addBenchDependency(workspace({}), serverNames("weather"))).toMatchObject({
      changed: false,
      note: "not found, skipped",
    });
    const dir = workspace({ [BENCH_PACKAGE]: '{ "name": ' });
    expect(() => addBenchDependency(dir, serverNames("weather"))).toThrow(
      /bench\/package\.json is not valid JSON/,
    );
  });
});

describe("bench/src/reliability/targets.ts", () => {
  it("appends a target calling the example tool to TARGETS, Prettier-clean, changing nothing else", async () => {
    const dir = workspace({ [RELIABILITY_TARGETS]: true });
    const before = read(dir, RELIABILITY_TARGETS);
    expect(addReliabilityTarget(dir, serverNames("issue-tracker"))).toMatchObject({
      changed: true,
      note: "reliability target 'issue-tracker'",
    });
    const after = read(dir, RELIABILITY_TARGETS);
    expect(onlyInserted(before, after)).toBe(true);
    expect(await prettierClean(after, RELIABILITY_TARGETS)).toBe(true);
    // The new entry is the array's last, right before its closing bracket.
    expect(after).toMatch(
      /\n {4}name: "issue-tracker",\n {4}bin: binOf\("@toolshed\/server-issue-tracker"\),\n[\s\S]*?\n {2}},\n\];\n/,
    );
    expect(after.indexOf('name: "issue-tracker"')).toBeGreaterThan(after.indexOf("export const TARGETS"));
    expect(after).toContain('safeCalls: [{ name: "hello", arguments: { name: "Ada", times: 2 } }],');
    expect(after).toContain('failingCall: { name: "hello", arguments: { name: " " } },');
    // A second server goes after the first; the same one twice is once.
    addReliabilityTarget(dir, serverNames("weather"));
    expect(addReliabilityTarget(dir, serverNames("weather")).changed).toBe(false);
    const twice = read(dir, RELIABILITY_TARGETS);
    expect(twice.split('binOf("@toolshed/server-weather")').length).toBe(2);
    expect(twice.indexOf('name: "weather"')).toBeGreaterThan(twice.indexOf('name: "issue-tracker"'));
    expect(await prettierClean(twice, RELIABILITY_TARGETS)).toBe(true);
  });

  it("the failing call is one the template's hello tool refuses inside its handler", () => {
    // The attack suite's secrets check needs a call that fails in the tool (logged at warn with its name),
    // not one the schema refuses first: a blank name passes `z.string().max(100)`, then hits the blank check.
    const tool = readFileSync(join(root, "turbo/generators/templates/server/src/tools/hello.ts.hbs"), "utf8");
    expect(tool).toContain("name: z.string().max(100)");
    expect(tool).toMatch(
      /const who = name\.trim\(\);\s+[^]*?if \(!who\) \{\s+throw new ToolshedError\("invalid_input"/,
    );
  });

  it("adds a comma after a last entry that lacks one", async () => {
    const text = [
      "export const TARGETS: readonly ReliabilityTarget[] = [",
      "  {",
      '    name: "a",',
      "  }",
      "];",
      "",
    ].join("\n");
    const dir = workspace({ [RELIABILITY_TARGETS]: text });
    addReliabilityTarget(dir, serverNames("weather"));
    const after = read(dir, RELIABILITY_TARGETS);
    expect(after).toContain("  },\n  {\n    // From the template");
    expect(await prettierClean(after, RELIABILITY_TARGETS)).toBe(true);
  });

  it("skips a missing file and refuses a file without the TARGETS array, saying what to do", () => {
    expect(addReliabilityTarget(workspace({}), serverNames("weather"))).toMatchObject({
      changed: false,
      note: "not found, skipped",
    });
    const dir = workspace({ [RELIABILITY_TARGETS]: "export const OTHER = [];\n" });
    expect(() => addReliabilityTarget(dir, serverNames("weather"))).toThrow(
      /has no `export const TARGETS = \[ … \];` array; add the 'weather' target by hand/,
    );
  });
});

describe("README.md", () => {
  it("adds a row linking the server's README after the last server, Prettier-clean once formatted", async () => {
    const dir = workspace({ [ROOT_README]: true });
    const before = read(dir, ROOT_README);
    expect(addReadmeRow(dir, serverNames("issue-tracker"))).toMatchObject({ changed: true });
    const text = read(dir, ROOT_README);
    const row = "| [`issue-tracker`](servers/issue-tracker/README.md) | TODO: what a model can do with it |";
    // The new row follows the last row that links a server, and nothing else changed.
    const lines = text.split("\n");
    const at = lines.indexOf(row);
    expect(at).toBeGreaterThan(0);
    expect(lines[at - 1]).toMatch(/^\| \[`[^`]+`\]\(servers\/[^)]+\/README\.md\)/);
    expect(lines.filter((_, i) => i !== at).join("\n")).toBe(before);
    // Prettier (run by the generator) realigns it as a row of the same table.
    const formatted = await format(text, { filepath: ROOT_README, printWidth: 110, trailingComma: "all" });
    const cells = (line: string) => line.split(/(?<!\\)\|/).length;
    const newRow = formatted.split("\n").find((l) => l.includes("(servers/issue-tracker/README.md)"))!;
    const neighbour = formatted.split("\n").find((l) => l.includes("(servers/github/README.md)"))!;
    expect(newRow.length).toBe(neighbour.length);
    expect(cells(newRow)).toBe(cells(neighbour));
    // Twice is once.
    expect(addReadmeRow(dir, serverNames("issue-tracker")).changed).toBe(false);
    expect(read(dir, ROOT_README)).toBe(text);
  });

  it("skips a missing README and refuses one without a table of servers, saying what to add", () => {
    expect(addReadmeRow(workspace({}), serverNames("weather"))).toMatchObject({
      changed: false,
      note: "not found, skipped",
    });
    const dir = workspace({ [ROOT_README]: "# Toolshed\n\nNo table here.\n" });
    expect(() => addReadmeRow(dir, serverNames("weather"))).toThrow(
      /add a row linking servers\/weather\/README\.md/,
    );
  });
});

describe("removing a server: the inverse of each edit", () => {
  type Edit = (root: string, n: ReturnType<typeof serverNames>) => WireResult;
  const pairs: [string, Edit, Edit][] = [
    [COMPOSE_FILE, addComposeService, removeComposeService],
    [PROMETHEUS_FILE, addPrometheusJob, removePrometheusJob],
    [ROOT_README, addReadmeRow, removeReadmeRow],
    [BENCH_PACKAGE, addBenchDependency, removeBenchDependency],
    [RELIABILITY_TARGETS, addReliabilityTarget, removeReliabilityTarget],
  ];
  const prettier = (dir: string, file: string) =>
    format(read(dir, file), { filepath: file, printWidth: 110, trailingComma: "all" }).then((t) =>
      writeFileSync(join(dir, file), t),
    );

  for (const [file, add, remove] of pairs) {
    it(`${file}: add, Prettier (as the generator runs it), remove, Prettier gives back the repository's file byte for byte`, async () => {
      const dir = workspace({ [file]: true });
      const original = read(dir, file);
      // Two servers, removed in the order they were added: the first one's entry is then not the last.
      expect(add(dir, serverNames("issue-tracker")).changed).toBe(true);
      expect(add(dir, serverNames("weather")).changed).toBe(true);
      await prettier(dir, file);
      const withBoth = read(dir, file);
      expect(withBoth).not.toBe(original);

      expect(remove(dir, serverNames("issue-tracker"))).toMatchObject({ file, changed: true });
      expect(read(dir, file)).not.toContain("issue-tracker");
      expect(read(dir, file)).toContain("weather");
      expect(remove(dir, serverNames("weather"))).toMatchObject({ file, changed: true });
      await prettier(dir, file);
      expect(read(dir, file)).toBe(original);
      // Removing what is not there changes nothing.
      expect(remove(dir, serverNames("weather"))).toMatchObject({ file, changed: false });
      expect(remove(dir, serverNames("never-added"))).toMatchObject({ file, changed: false });
      expect(read(dir, file)).toBe(original);
    });
  }

  it("the YAML, JSON and TypeScript removals need no Prettier: they cut exactly what the add inserted", async () => {
    for (const [file, add, remove] of pairs.filter(([f]) => f !== ROOT_README)) {
      const dir = workspace({ [file]: true });
      const original = read(dir, file);
      add(dir, serverNames("issue-tracker"));
      remove(dir, serverNames("issue-tracker"));
      expect(read(dir, file), file).toBe(original);
      expect(await prettierClean(read(dir, file), file), file).toBe(true);
    }
  });

  it("leaves alone a compose service or scrape job of that name that is not the generator's", () => {
    const dir = workspace({ [COMPOSE_FILE]: true, [PROMETHEUS_FILE]: true });
    const compose = read(dir, COMPOSE_FILE);
    const prometheus = read(dir, PROMETHEUS_FILE);
    // redis is in the stack, but not built as a server; otel-collector's job does not scrape :8080.
    expect(removeComposeService(dir, serverNames("redis"))).toMatchObject({
      changed: false,
      note: "service 'redis' is not built as a server (no build arg SERVER: redis); left alone",
    });
    expect(removePrometheusJob(dir, serverNames("otel-collector"))).toMatchObject({
      changed: false,
      note: "job 'otel-collector' does not scrape otel-collector:8080; left alone",
    });
    expect(read(dir, COMPOSE_FILE)).toBe(compose);
    expect(read(dir, PROMETHEUS_FILE)).toBe(prometheus);
  });

  it("refuses to cut a service another one depends on, saying which, and writes nothing", () => {
    const dir = workspace({ [COMPOSE_FILE]: true });
    const compose = read(dir, COMPOSE_FILE);
    // The stack's gateway depends on the repository's servers.
    expect(composeDependents(dir, "github")).toEqual(["gateway"]);
    expect(() => removeComposeService(dir, serverNames("github"))).toThrow(
      /docker-compose\.dev\.yaml: gateway depends on 'github'; take it out of their depends_on first/,
    );
    expect(read(dir, COMPOSE_FILE)).toBe(compose);
  });

  it("keeps the comment lines above a removed service's neighbours, and those above it go with it", () => {
    const text = [
      "services:",
      "  # the first server",
      "  a:",
      "    build: { args: { SERVER: a } }",
      "",
      "  # the second server",
      "  b:",
      "    build: { args: { SERVER: b } }",
      "",
      "  # the database",
      "  postgres:",
      "    image: postgres",
      "",
    ].join("\n");
    const dir = workspace({ [COMPOSE_FILE]: text });
    removeComposeService(dir, serverNames("b"));
    expect(read(dir, COMPOSE_FILE)).toBe(
      [
        "services:",
        "  # the first server",
        "  a:",
        "    build: { args: { SERVER: a } }",
        "",
        "  # the database",
        "  postgres:",
        "    image: postgres",
        "",
      ].join("\n"),
    );
  });
});
