import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { check } from "prettier";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { serverNames } from "../src/names.js";
import {
  COMPOSE_FILE,
  PROMETHEUS_FILE,
  addComposeService,
  addPrometheusJob,
  nextHostPort,
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
