// docker-compose.dev.yaml as Debian's docker-compose reads it, and each server service's command run
// as a plain local process with the compose environment (service hosts and ports mapped to loopback).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needCommand } from "../../test-support/services.js";
import { parse } from "yaml";
import { freePort, runCommand, stopProcess, waitForHealthz } from "./processes.js";
import { readJson, root, servers } from "./workspace.js";

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test: string[] };
  networks?: Record<string, unknown>;
}
interface Compose {
  services: Record<string, Service>;
  networks: Record<string, unknown>;
}

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
      expect(test[3]).toContain("http://127.0.0.1:8080/healthz");
      expect(service?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://otel-collector:4318");
      // Prometheus scrapes without a credential: /metrics must stay open when auth is turned on.
      expect(service?.environment?.TOOLSHED_PUBLIC_METRICS).toBe("true");
    },
  );
});

describe("observability", () => {
  const prometheus = parse(readFileSync(join(root, "deploy/prometheus/prometheus.yml"), "utf8")) as {
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };

  it.each(servers().map((s) => [s.name] as const))("Prometheus scrapes %s's /metrics", (name) => {
    const job = prometheus.scrape_configs.find((j) => j.job_name === name);
    expect(job, `no scrape job '${name}'`).toBeDefined();
    expect(job?.metrics_path ?? "/metrics").toBe("/metrics");
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual([`${name}:8080`]);
  });

  it("provisions Grafana with Prometheus and a dashboard of calls, errors, latency per tool and upstream latency", () => {
    const datasources = parse(
      readFileSync(join(root, "deploy/grafana/provisioning/datasources/prometheus.yaml"), "utf8"),
    ) as { datasources: { uid: string; url: string }[] };
    expect(datasources.datasources[0]).toMatchObject({ uid: "prometheus", url: "http://prometheus:9090" });
    const dashboard = readJson<{ panels: { title: string; targets: { expr: string }[] }[] }>(
      "deploy/grafana/dashboards/toolshed.json",
    );
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
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

  it("sends the servers' traces through the collector to Jaeger", () => {
    const collector = parse(readFileSync(join(root, "deploy/otel/collector.yaml"), "utf8")) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint?: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe("0.0.0.0:4318");
    expect(collector.exporters["otlp/jaeger"]?.endpoint).toBe("jaeger:4317");
    expect(collector.service.pipelines.traces.exporters).toContain("otlp/jaeger");
    expect(compose.services.jaeger?.environment?.COLLECTOR_OTLP_ENABLED).toBe("true");
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
        const local = (v: string) => v.replace(hosts, "127.0.0.1").replace(/\b8080\b/g, String(port));
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(service.environment ?? {})) env[k] = local(v ?? "");
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
      expect(await metrics.text()).toContain("mcp_tool_calls_total");
    }, 60_000);
  },
);
