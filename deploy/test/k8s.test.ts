// Every overlay renders with `kubectl kustomize`, and every Deployment is probed, locked down, bounded,
// and scaled only as far as its store allows: an embedded store (DuckDB, PGlite) never past one replica.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { needCommand } from "../../test-support/services.js";
import { parse, parseAllDocuments } from "yaml";
import { runCommand } from "./processes.js";
import { embeddedStoreServers, root, servers } from "./workspace.js";

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    replicas?: number;
    maxReplicas?: number;
    strategy?: { type: string };
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    scaleTargetRef?: { kind: string; name: string };
    podSelector?: { matchLabels?: Record<string, string> };
    template?: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        securityContext?: { runAsNonRoot?: boolean };
        terminationGracePeriodSeconds?: number;
        topologySpreadConstraints?: {
          topologyKey: string;
          labelSelector?: { matchLabels?: Record<string, string> };
        }[];
        containers: Container[];
        volumes?: { name: string; emptyDir?: object; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

const overlaysDir = join(root, "deploy/k8s/overlays");
const overlays = existsSync(overlaysDir) ? readdirSync(overlaysDir) : [];
/** `vector-search-cluster` -> `vector-search`: the server an overlay deploys. */
const serverOf = (overlay: string) => overlay.replace(/-cluster$/, "");

// In CI a missing kubectl fails here; elsewhere these tests are skipped, saying so.
const hasKubectl = needCommand(
  "kubectl",
  ["version", "--client"],
  "install kubectl (https://kubernetes.io/docs/tasks/tools/) to render deploy/k8s",
);
const kubectl = "kubectl";

async function render(overlay: string): Promise<Resource[]> {
  const r = await runCommand(kubectl, ["kustomize", join(overlaysDir, overlay)]);
  expect(r.status, `kubectl kustomize ${overlay}:\n${r.stderr}`).toBe(0);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Resource);
}

const SECRET_ENV = /(API_KEYS|TOKEN|PASSWORD|POSTGRES_URL|REDIS_URL)$/;

describe.runIf(hasKubectl)("deploy/k8s", () => {
  const embedded = embeddedStoreServers();
  const rendered = new Map<string, Resource[]>();
  beforeAll(async () => {
    for (const o of overlays) rendered.set(o, await render(o));
  }, 60_000);

  it("has an overlay for every server, a -cluster overlay for every server with an embedded store, and no other", () => {
    expect([...embedded].sort()).toEqual(["data-analytics", "vector-search"]);
    const expected = [...servers().map((s) => s.name), ...[...embedded].map((s) => `${s}-cluster`)];
    expect(overlays.sort()).toEqual(expected.sort());
  });

  it("labels each server's pods with its own app.kubernetes.io/name", () => {
    const names = new Map<string, string>();
    for (const [overlay, resources] of rendered) {
      const d = resources.find((r) => r.kind === "Deployment")!;
      const name = d.spec.template!.metadata.labels["app.kubernetes.io/name"]!;
      expect(name, overlay).toBe(serverOf(overlay));
      names.set(overlay, name);
    }
    expect(new Set(servers().map((s) => names.get(s.name))).size).toBe(servers().length);
  });

  describe.each(overlays.map((o) => [o] as const))("overlay %s", (overlay) => {
    const server = serverOf(overlay);
    const resources = () => rendered.get(overlay)!;
    const ofKind = (kind: string) => resources().filter((r) => r.kind === kind);
    const deployment = () => ofKind("Deployment")[0]!;
    const env = () => deployment().spec.template!.spec.containers[0]!.env ?? [];
    const fromSecret = (name: string) => env().find((e) => e.name === name)?.valueFrom?.secretKeyRef;

    it("renders a Deployment, Service and NetworkPolicy named for the server, and HPA+PDB or a PVC", () => {
      const kinds = resources()
        .map((r) => r.kind)
        .sort();
      const scaled = kinds.includes("HorizontalPodAutoscaler");
      expect(kinds).toEqual(
        scaled
          ? ["Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "PodDisruptionBudget", "Service"]
          : ["Deployment", "NetworkPolicy", "PersistentVolumeClaim", "Service"],
      );
      for (const r of resources()) {
        expect(r.metadata.name).toBe(
          r.kind === "PersistentVolumeClaim" ? `toolshed-${server}-data` : `toolshed-${server}-server`,
        );
      }
    });

    it("never scales an embedded store past one replica; replicas share PostgreSQL and Redis", () => {
      const d = deployment();
      const hpa = ofKind("HorizontalPodAutoscaler")[0];
      const most = Math.max(d.spec.replicas ?? 1, hpa?.spec.maxReplicas ?? 1);
      const onPostgres = fromSecret("TOOLSHED_POSTGRES_URL") !== undefined;
      if (embedded.has(server) && !onPostgres) {
        expect(most, "an embedded store with more than one replica").toBe(1);
        expect(d.spec.strategy?.type, "two pods would open the same files during a rollout").toBe("Recreate");
        const dataDir = env().find((e) => e.name === "TOOLSHED_DATA_DIR")?.value;
        const mount = d.spec.template!.spec.containers[0]!.volumeMounts?.find((m) => m.mountPath === dataDir);
        const volume = d.spec.template!.spec.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.persistentVolumeClaim?.claimName).toBe(`toolshed-${server}-data`);
      } else {
        expect(env().find((e) => e.name === "TOOLSHED_DATA_DIR")).toBeUndefined();
      }
      if (most > 1) {
        expect(
          fromSecret("TOOLSHED_REDIS_URL"),
          "replicas share sessions, limits and tasks in Redis",
        ).toEqual({
          name: "toolshed-redis",
          key: "url",
        });
        if (embedded.has(server)) {
          expect(fromSecret("TOOLSHED_POSTGRES_URL")).toEqual({
            name: `toolshed-${server}`,
            key: "postgres-url",
          });
        }
      }
    });

    it("probes /healthz at startup and for liveness, /readyz for readiness, on the HTTP port", () => {
      for (const c of deployment().spec.template!.spec.containers) {
        expect(c.startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
        expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
        expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
        expect(c.args).toEqual(["--transport", "http", "--host", "0.0.0.0", "--port", "8080"]);
      }
    });

    it("drains before SIGTERM within the grace period, and spreads replicas over nodes and zones", () => {
      const pod = deployment().spec.template!.spec;
      const c = pod.containers[0]!;
      const command = c.lifecycle?.preStop?.exec?.command ?? [];
      const wait = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(command.join(" "))?.[1] ?? 0) / 1000;
      expect(wait).toBeGreaterThanOrEqual(3);
      const shutdown = Number(env().find((e) => e.name === "TOOLSHED_SHUTDOWN_TIMEOUT_SECONDS")?.value);
      expect(wait + shutdown).toBeLessThanOrEqual(pod.terminationGracePeriodSeconds ?? 30);
      const keys = (pod.topologySpreadConstraints ?? []).map((t) => t.topologyKey).sort();
      expect(keys).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
      for (const t of pod.topologySpreadConstraints ?? []) {
        expect(t.labelSelector?.matchLabels?.["app.kubernetes.io/name"]).toBe(server);
      }
    });

    it("runs non-root on a read-only root filesystem with no privileges, /tmp on emptyDir", () => {
      const pod = deployment().spec.template!.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
        });
        const tmp = c.volumeMounts?.find((m) => m.mountPath === "/tmp");
        expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      }
    });

    it("sets resource requests and limits, and an image for this server", () => {
      for (const c of deployment().spec.template!.spec.containers) {
        for (const k of ["cpu", "memory"]) {
          expect(c.resources?.requests?.[k], `requests.${k}`).toBeTruthy();
          expect(c.resources?.limits?.[k], `limits.${k}`).toBeTruthy();
        }
        expect(c.image).toMatch(new RegExp(`toolshed-${server}:\\d+\\.\\d+\\.\\d+$`));
      }
    });

    it("reads every credential from a Secret, never a literal", () => {
      expect(fromSecret("TOOLSHED_API_KEYS")).toEqual({ name: `toolshed-${server}`, key: "api-keys" });
      for (const e of env().filter((e) => SECRET_ENV.test(e.name))) {
        expect(e.value, e.name).toBeUndefined();
        expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
      }
    });

    it("keeps /metrics behind a credential: the Service port is every client's", () => {
      const d = deployment();
      const annotations = d.spec.template!.metadata.annotations ?? {};
      expect(env().find((e) => e.name === "TOOLSHED_PUBLIC_METRICS")).toBeUndefined();
      expect(annotations["prometheus.io/scrape"]).toBeUndefined();
    });

    it("points the Service, HPA, PDB and NetworkPolicy at this overlay's pods only", () => {
      const podLabels = deployment().spec.template!.metadata.labels;
      expect(podLabels["app.kubernetes.io/instance"]).toBe(overlay);
      const selectors = [
        ofKind("Service")[0]!.spec.selector,
        ofKind("NetworkPolicy")[0]!.spec.podSelector?.matchLabels,
        ...ofKind("PodDisruptionBudget").map((p) => p.spec.selector?.matchLabels),
      ];
      for (const s of selectors) {
        expect(s?.["app.kubernetes.io/instance"]).toBe(overlay);
        for (const [k, v] of Object.entries(s ?? {})) expect(podLabels[k], k).toBe(v);
      }
      for (const hpa of ofKind("HorizontalPodAutoscaler")) {
        expect(hpa.spec.scaleTargetRef).toMatchObject({
          kind: "Deployment",
          name: `toolshed-${server}-server`,
        });
      }
    });
  });
});

interface ServiceMonitor {
  kind: string;
  spec: {
    selector: { matchLabels: Record<string, string> };
    jobLabel: string;
    endpoints: {
      port: string;
      path: string;
      authorization: { credentials: { name: string; key: string } };
      relabelings?: { sourceLabels?: string[]; targetLabel: string; action?: string }[];
    }[];
  };
}
interface PrometheusRule {
  kind: string;
  spec: { groups: unknown[] };
}

describe.runIf(hasKubectl)("deploy/k8s/monitoring", () => {
  it("scrapes every overlay's Service on its http port with an API key from a Secret, job = server = server name", async () => {
    const r = await runCommand(kubectl, ["kustomize", join(root, "deploy/k8s/monitoring")]);
    expect(r.status, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as ServiceMonitor | PrometheusRule);
    expect(docs.map((d) => d.kind).sort()).toEqual(["PrometheusRule", "ServiceMonitor"]);
    const monitor = docs.find((d): d is ServiceMonitor => d.kind === "ServiceMonitor");
    const { spec } = monitor!;
    const endpoint = spec.endpoints[0]!;
    expect(endpoint).toMatchObject({ port: "http", path: "/metrics" });
    expect(endpoint.authorization.credentials).toEqual({ name: "toolshed-metrics", key: "api-key" });
    // The `server` target label the alert rules' ToolshedDown selects Toolshed's targets by.
    expect(endpoint.relabelings).toContainEqual({
      sourceLabels: [`__meta_kubernetes_service_label_${spec.jobLabel.replace(/[./-]/g, "_")}`],
      targetLabel: "server",
    });
    // The alert rules, loaded by the Prometheus Operator: the same as the dev stack's, rule for rule.
    const rule = docs.find((d): d is PrometheusRule => d.kind === "PrometheusRule");
    const alerts = parse(readFileSync(join(root, "deploy/prometheus/alerts.yml"), "utf8")) as {
      groups: unknown[];
    };
    expect(rule!.spec.groups, "deploy/k8s/monitoring/prometheusrule.yaml: copy alerts.yml's groups").toEqual(
      alerts.groups,
    );
    for (const overlay of overlays) {
      const service = (await render(overlay)).find((x) => x.kind === "Service")!;
      const labels = service.metadata.labels ?? {};
      for (const [k, v] of Object.entries(spec.selector.matchLabels)) {
        expect(labels[k], `${overlay}: Service label ${k}`).toBe(v);
      }
      expect(labels[spec.jobLabel], overlay).toBe(serverOf(overlay));
      expect((service.spec as { ports?: { name: string }[] }).ports?.map((p) => p.name)).toContain("http");
    }
  }, 60_000);
});
