// docker-compose.dev.yaml as Debian's docker-compose reads it, and each server service's command run
// as a plain local process with the compose environment (service hosts and ports mapped to loopback).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needCommand } from "../../test-support/services.js";
import { parse } from "yaml";
import { freePort, runCommand, stopProcess, waitForHealthz } from "./processes.js";
import { embeddedStoreServers, readJson, root, servers } from "./workspace.js";

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test: string[] };
  networks?: Record<string, unknown>;
  restart?: string;
  mem_limit?: string | number;
  logging?: { driver?: string; options?: Record<string, string> };
  secrets?: ({ source: string } | string)[];
  depends_on?: Record<string, { condition?: string }>;
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
  networks: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
}

const embedded = embeddedStoreServers();
const secretNames = (service: Service) =>
  (service.secrets ?? []).map((s) => (typeof s === "string" ? s : s.source));

let compose: Compose;
// In CI a missing docker-compose fails here; elsewhere these tests are skipped, saying so.
const hasCompose = needCommand(
  "docker-compose",
  ["version"],
  "install it with 'apt-get install docker-compose'",
);

beforeAll(async () => {
  if (!hasCompose) return;
  const r = await runCommand("docker-compose", ["-f", "docker-compose.dev.yaml", "config"], {
    cwd: root,
  }).catch((e: Error) => {
    throw new Error(
      `docker-compose is not installed (apt-get install docker-compose; .ci/run does): ${e.message}`,
    );
  });
  expect(r.status, `docker-compose config failed:\n${r.stderr}`).toBe(0);
  compose = parse(r.stdout) as Compose;
}, 60_000);

describe.runIf(hasCompose)("docker-compose.dev.yaml", () => {
  it("puts every service on one network, with the data stores and the observability stack", () => {
    expect(Object.keys(compose.networks)).toEqual(["toolshed"]);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(Object.keys(service.networks ?? {}), name).toEqual(["toolshed"]);
    }
    expect(compose.services.postgres?.image).toBe("pgvector/pgvector:pg16");
    for (const name of ["redis", "prometheus", "grafana", "otel-collector", "jaeger"]) {
      expect(compose.services[name], name).toBeDefined();
    }
  });

  it.each(servers().map((s) => [s.name] as const))(
    "runs %s from the Dockerfile with a node healthcheck",
    (name) => {
      const service = compose.services[name];
      expect(service, `no service '${name}'`).toBeDefined();
      expect(service?.build?.dockerfile).toBe("deploy/docker/Dockerfile");
      expect(service?.build?.args?.SERVER).toBe(name);
      expect(service?.command).toEqual(["--transport", "http", "--host", "0.0.0.0", "--port", "8080"]);
      const test = service?.healthcheck?.test ?? [];
      expect(test.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
      // Healthy means ready: its dependencies answer, not only the process.
      expect(test[3]).toContain("http://127.0.0.1:8080/readyz");
      expect(service?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://otel-collector:4318");
      // Prometheus scrapes without a credential: /metrics must stay open when auth is turned on.
      expect(service?.environment?.TOOLSHED_PUBLIC_METRICS).toBe("true");
    },
  );
});

describe.runIf(hasCompose)("docker-compose.dev.yaml hygiene and shared state", () => {
  it("bounds every container's memory and logs, and restarts it unless stopped", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.mem_limit, `${name}: mem_limit`).toBeTruthy();
      expect(service.restart, `${name}: restart`).toBe("unless-stopped");
      expect(service.logging?.driver, `${name}: logging`).toBe("json-file");
      expect(service.logging?.options?.["max-size"], `${name}: log rotation`).toMatch(/^\d+m$/);
      expect(Number(service.logging?.options?.["max-file"]), `${name}: log files kept`).toBeGreaterThan(0);
    }
  });

  it.each(servers().map((s) => [s.name] as const))("runs %s on the shared Redis", (name) => {
    const service = compose.services[name]!;
    expect(service.environment?.TOOLSHED_REDIS_URL).toBe("redis://redis:6379");
    expect(service.depends_on?.redis?.condition).toBe("service_healthy");
  });

  it("runs every server with an embedded store on the shared PostgreSQL, its URL a Docker secret", () => {
    expect([...embedded].sort()).toEqual(["data-analytics", "vector-search"]);
    for (const name of embedded) {
      const service = compose.services[name]!;
      expect(service.environment?.TOOLSHED_POSTGRES_URL_FILE).toBe(`/run/secrets/${name}-postgres-url`);
      expect(service.environment?.TOOLSHED_POSTGRES_URL).toBeUndefined();
      expect(service.environment?.TOOLSHED_DATA_DIR).toBeUndefined();
      expect(service.depends_on?.postgres?.condition).toBe("service_healthy");
    }
    const postgres = compose.services.postgres!;
    expect(postgres.environment?.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/postgres-password");
    expect(postgres.environment?.POSTGRES_PASSWORD).toBeUndefined();
    expect(postgres.volumes?.some((v) => v.endsWith(":/docker-entrypoint-initdb.d/10-toolshed.sh:ro"))).toBe(
      true,
    );
  });

  it("reads every *_FILE from a secret the service mounts, whose file exists; no password or database URL in the file", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/(PASSWORD|POSTGRES_URL|REDIS_PASSWORD)$/.test(key))
          expect.fail(`${name}: ${key} is a literal; use ${key}_FILE`);
        if (!key.endsWith("_FILE")) continue;
        const secret = /^\/run\/secrets\/([\w-]+)$/.exec(value ?? "")?.[1];
        expect(secret, `${name}: ${key}`).toBeDefined();
        expect(secretNames(service), `${name}: ${key}`).toContain(secret);
        const file = compose.secrets?.[secret!]?.file;
        expect(file && existsSync(file), `${name}: secret ${secret} has no file`).toBe(true);
      }
    }
    // The init script's roles match the URLs the servers are given.
    const dev = (f: string) => readFileSync(join(root, "deploy/compose/dev-secrets", f), "utf8").trim();
    expect(dev("data-analytics-postgres-url")).toContain(
      `analytics_reader:${dev("analytics-reader-password")}@`,
    );
    expect(dev("vector-search-postgres-url")).toContain(`vector_search:${dev("vector-search-password")}@`);
    const init = readFileSync(join(root, "deploy/compose/postgres-init.sh"), "utf8");
    expect(init).toMatch(/CREATE ROLE analytics_reader LOGIN PASSWORD :'reader_password' NOSUPERUSER/);
    expect(init).toMatch(/CREATE DATABASE vectors OWNER vector_search/);
    expect(init).toMatch(/CREATE EXTENSION IF NOT EXISTS vector/);
  });

  it("loads the alert rules into Prometheus and gives the collector a memory limiter", () => {
    const prometheus = compose.services.prometheus!;
    expect(prometheus.volumes).toContainEqual(
      expect.stringMatching(/deploy\/prometheus\/alerts\.yml:\/etc\/prometheus\/alerts\.yml:ro$/),
    );
    const collector = compose.services["otel-collector"]!;
    expect(collector.mem_limit).toBeTruthy();
  });
});

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
function alertRules(): AlertRule[] {
  const file = parse(readFileSync(join(root, "deploy/prometheus/alerts.yml"), "utf8")) as {
    groups: { name: string; rules: AlertRule[] }[];
  };
  return file.groups.flatMap((g) => g.rules);
}
function dashboardExprs(): string[] {
  const dashboard = readJson<{ panels: { title: string; targets: { expr: string }[] }[] }>(
    "deploy/grafana/dashboards/toolshed.json",
  );
  return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
}
/** The metric names an expression reads (identifiers followed by `{`, `[` or a comparison). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[|\s*[=!<>]=?\s*\d)/g)]
    .map((m) => m[1]!)
    .filter((n) => !["by", "rate", "sum", "min", "max", "histogram_quantile", "and", "up"].includes(n));
}

describe("observability", () => {
  const prometheus = parse(readFileSync(join(root, "deploy/prometheus/prometheus.yml"), "utf8")) as {
    rule_files?: string[];
    scrape_configs: {
      job_name: string;
      metrics_path?: string;
      static_configs: { targets: string[]; labels?: Record<string, string> }[];
    }[];
  };

  it.each(servers().map((s) => [s.name] as const))("Prometheus scrapes %s's /metrics", (name) => {
    const job = prometheus.scrape_configs.find((j) => j.job_name === name);
    expect(job, `no scrape job '${name}'`).toBeDefined();
    expect(job?.metrics_path ?? "/metrics").toBe("/metrics");
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual([`${name}:8080`]);
    // The target label ToolshedDown selects by (k8s/monitoring sets it by relabeling).
    expect(job?.static_configs.map((c) => c.labels?.server)).toEqual([name]);
  });

  it("provisions Grafana with Prometheus and a dashboard of calls, errors, latency per tool and upstream latency", () => {
    const datasources = parse(
      readFileSync(join(root, "deploy/grafana/provisioning/datasources/prometheus.yaml"), "utf8"),
    ) as { datasources: { uid: string; url: string }[] };
    expect(datasources.datasources[0]).toMatchObject({ uid: "prometheus", url: "http://prometheus:9090" });
    const exprs = dashboardExprs();
    const has = (re: RegExp) =>
      expect(
        exprs.some((e) => re.test(e)),
        String(re),
      ).toBe(true);
    has(/rate\(mcp_tool_calls_total\{[^}]*\}/);
    has(/mcp_tool_calls_total\{[^}]*outcome!="ok"/);
    for (const q of ["0.5", "0.95", "0.99"]) {
      has(
        new RegExp(
          `histogram_quantile\\(${q}, sum by \\([^)]*tool[^)]*\\) \\(rate\\(mcp_server_operation_duration_seconds_bucket`,
        ),
      );
    }
    has(
      /histogram_quantile\([^,]+, sum by \([^)]*upstream[^)]*\) \(rate\(toolshed_upstream_request_duration_seconds_bucket/,
    );
  });

  it("sends the servers' traces through the collector to Jaeger, memory-limited, with current telemetry settings", () => {
    const collector = parse(readFileSync(join(root, "deploy/otel/collector.yaml"), "utf8")) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      processors: Record<string, { limit_mib?: number; check_interval?: string } | null>;
      exporters: Record<string, { endpoint?: string }>;
      service: {
        pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
        telemetry?: {
          metrics?: {
            address?: string;
            readers?: { pull?: { exporter?: { prometheus?: { port?: number } } } }[];
          };
        };
      };
    };
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe("0.0.0.0:4318");
    expect(collector.exporters["otlp/jaeger"]?.endpoint).toBe("jaeger:4317");
    expect(collector.service.pipelines.traces?.exporters).toContain("otlp/jaeger");
    // The memory limiter comes first in every pipeline, below the container's limit.
    expect(collector.processors.memory_limiter?.limit_mib).toBeGreaterThan(0);
    for (const pipeline of Object.values(collector.service.pipelines)) {
      expect(pipeline.processors[0]).toBe("memory_limiter");
    }
    // `metrics.address` is ignored by current collectors: the readers form, on the port Prometheus scrapes.
    expect(collector.service.telemetry?.metrics?.address).toBeUndefined();
    const port = collector.service.telemetry?.metrics?.readers?.[0]?.pull?.exporter?.prometheus?.port;
    const job = prometheus.scrape_configs.find((j) => j.job_name === "otel-collector");
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual([`otel-collector:${port}`]);
  });

  it("ships alert rules for the error ratio, p99 latency and readiness, loaded by Prometheus", () => {
    expect(prometheus.rule_files).toContain("/etc/prometheus/alerts.yml");
    const rules = alertRules();
    const expr = (name: string) => rules.find((r) => r.alert === name)?.expr ?? "";
    expect(expr("ToolshedToolErrorRatioHigh")).toMatch(/mcp_tool_calls_total\{[^}]*error_class=~"internal\|/);
    expect(expr("ToolshedToolLatencyP99High")).toMatch(
      /histogram_quantile\(0\.99, sum by \([^)]*le[^)]*\) \(rate\(mcp_server_operation_duration_seconds_bucket/,
    );
    expect(expr("ToolshedNotReady")).toMatch(/toolshed_ready == 0/);
    // Down means a Toolshed target (one with a `server` label), not any target a shared Prometheus has.
    expect(expr("ToolshedDown")).toBe('up{server!=""} == 0');
    for (const job of prometheus.scrape_configs.filter(
      (j) => !servers().some((s) => s.name === j.job_name),
    )) {
      expect(
        job.static_configs.some((c) => c.labels?.server),
        job.job_name,
      ).toBe(false);
    }
    for (const r of rules) {
      expect(r.for, r.alert).toMatch(/^\d+m$/);
      expect(r.labels?.severity, r.alert).toMatch(/^(page|warn)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  it("charts refusals, readiness, process memory and event-loop lag", () => {
    const exprs = dashboardExprs();
    for (const re of [
      /rate\(toolshed_http_refusals_total\{/,
      /toolshed_ready\{/,
      /process_resident_memory_bytes\{/,
      /nodejs_eventloop_lag_p99_seconds\{/,
      /sum by \([^)]*error_class[^)]*\) \(rate\(mcp_tool_calls_total/,
    ]) {
      expect(
        exprs.some((e) => re.test(e)),
        String(re),
      ).toBe(true);
    }
  });
});

// The service's command and environment come from `docker-compose config`, so these need it too.
describe.runIf(hasCompose).each(servers().map((s) => [s.name, s.dir, s.pkg] as const))(
  "the %s service's command as a local process",
  (name, dir, pkg) => {
    const tmp = mkdtempSync(join(tmpdir(), `toolshed-compose-${name}-`));
    let child: ChildProcess | undefined;
    afterAll(async () => {
      if (child) await stopProcess(child);
      rmSync(tmp, { recursive: true, force: true });
    });

    it("starts with the compose environment and answers /healthz and /metrics", async () => {
      const service = compose.services[name]!;
      const bin = Object.values(pkg.bin ?? {})[0];
      expect(bin, `${dir}/package.json has no bin`).toBeDefined();
      // A free port can be taken by a parallel test before the server binds it: then try another.
      let port = 0;
      for (let attempt = 1; ; attempt++) {
        port = await freePort();
        // Other services' hostnames become loopback; the container port becomes a free one; paths a temp dir.
        const hosts = new RegExp(`\\b(${Object.keys(compose.services).join("|")})(?=:\\d)`, "g");
        // A file bind-mounted into the container (the gateway's config) is read from where compose mounts it from.
        const mounts = (service.volumes ?? [])
          .map((v) => v.split(":"))
          .filter(([from, to]) => !!to && (from!.startsWith("/") || from!.startsWith("./")))
          .map(([from, to]) => [to!, from!.startsWith("/") ? from! : join(root, from!)] as const);
        const local = (v: string) =>
          mounts
            .reduce((acc, [to, from]) => (acc === to ? from : acc), v)
            .replace(hosts, "127.0.0.1")
            .replace(/\b8080\b/g, String(port));
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(service.environment ?? {})) env[k] = local(v ?? "");
        // The stack's PostgreSQL (pgvector) is not on this machine: here the data servers run on their
        // embedded store. `pnpm test:replicas` runs them on PostgreSQL.
        if (env.TOOLSHED_POSTGRES_URL_FILE) {
          delete env.TOOLSHED_POSTGRES_URL_FILE;
          env.TOOLSHED_DATA_DIR = join(tmp, "data");
        }
        if (env.TOOLSHED_DATA_DIR) env.TOOLSHED_DATA_DIR = join(tmp, "data");
        const args = (service.command ?? []).map(local);
        child = spawn("node", [join(root, dir, bin!), ...args], {
          env: { PATH: process.env.PATH, ...env },
          stdio: ["ignore", "ignore", "pipe"],
        });
        try {
          await waitForHealthz(`http://127.0.0.1:${port}`, child);
          break;
        } catch (err) {
          await stopProcess(child);
          if (attempt >= 3 || !/is in use/.test(String(err))) throw err;
        }
      }
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain("mcp_tool_calls_total");
      // Every series the alert rules and the dashboard read is one this server exports.
      const exported = new Set(
        [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, n, type]) =>
          type === "histogram" ? [`${n}_bucket`, `${n}_sum`, `${n}_count`] : [n!],
        ),
      );
      const read = new Set([...alertRules().map((r) => r.expr), ...dashboardExprs()].flatMap(metricNames));
      expect(read.size).toBeGreaterThan(5);
      expect([...read].filter((n) => !exported.has(n))).toEqual([]);
    }, 60_000);
  },
);
