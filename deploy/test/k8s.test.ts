// Every overlay renders with `kubectl kustomize`, and every Deployment is probed, locked down and bounded.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { needCommand } from "../../test-support/services.js";
import { parseAllDocuments } from "yaml";
import { runCommand } from "./processes.js";
import { root, servers } from "./workspace.js";

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
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
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    scaleTargetRef?: { kind: string; name: string };
    podSelector?: { matchLabels?: Record<string, string> };
    template?: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        securityContext?: { runAsNonRoot?: boolean };
        containers: Container[];
        volumes?: { name: string; emptyDir?: object }[];
      };
    };
  };
}

const overlaysDir = join(root, "deploy/k8s/overlays");
const overlays = existsSync(overlaysDir) ? readdirSync(overlaysDir) : [];

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

describe.runIf(hasKubectl)("deploy/k8s", () => {
  it("has an overlay for every server and none for a server that does not exist", () => {
    expect(overlays.sort()).toEqual(
      servers()
        .map((s) => s.name)
        .sort(),
    );
  });

  describe.each(overlays.map((o) => [o] as const))("overlay %s", (overlay) => {
    let resources: Resource[] = [];
    beforeAll(async () => {
      resources = await render(overlay);
    }, 30_000);
    const ofKind = (kind: string) => resources.filter((r) => r.kind === kind);

    it("renders a Deployment, Service, HPA, PDB and NetworkPolicy named for the server", () => {
      const kinds = resources.map((r) => r.kind).sort();
      expect(kinds).toEqual([
        "Deployment",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
      ]);
      for (const r of resources) expect(r.metadata.name).toBe(`toolshed-${overlay}-server`);
    });

    it("probes /readyz for readiness and /healthz for liveness on the HTTP port", () => {
      for (const d of ofKind("Deployment")) {
        for (const c of d.spec.template!.spec.containers) {
          expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
          expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
          expect(c.args).toEqual(["--transport", "http", "--host", "0.0.0.0", "--port", "8080"]);
        }
      }
    });

    it("runs non-root on a read-only root filesystem with no privileges, /tmp and the data dir on emptyDir", () => {
      for (const d of ofKind("Deployment")) {
        const pod = d.spec.template!.spec;
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        for (const c of pod.containers) {
          expect(c.securityContext).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
          });
          const dataDir = c.env?.find((e) => e.name === "TOOLSHED_DATA_DIR")?.value;
          for (const path of ["/tmp", dataDir]) {
            const mount = c.volumeMounts?.find((m) => m.mountPath === path);
            expect(mount, `no volume at ${path}`).toBeDefined();
            expect(pod.volumes?.find((v) => v.name === mount?.name)?.emptyDir, path).toBeDefined();
          }
        }
      }
    });

    it("sets resource requests and limits, and an image for this server", () => {
      for (const d of ofKind("Deployment")) {
        for (const c of d.spec.template!.spec.containers) {
          for (const k of ["cpu", "memory"]) {
            expect(c.resources?.requests?.[k], `requests.${k}`).toBeTruthy();
            expect(c.resources?.limits?.[k], `limits.${k}`).toBeTruthy();
          }
          expect(c.image).toMatch(new RegExp(`toolshed-${overlay}:\\d+\\.\\d+\\.\\d+$`));
        }
      }
    });

    it("reads TOOLSHED_API_KEYS from this server's Secret, never a literal", () => {
      for (const d of ofKind("Deployment")) {
        const env = d.spec.template!.spec.containers[0]!.env ?? [];
        const keys = env.filter((e) => e.name === "TOOLSHED_API_KEYS");
        expect(keys).toHaveLength(1);
        expect(keys[0]?.value).toBeUndefined();
        expect(keys[0]?.valueFrom?.secretKeyRef).toEqual({ name: `toolshed-${overlay}`, key: "api-keys" });
      }
    });

    it("serves /metrics without a credential only to match the prometheus.io scrape annotations", () => {
      for (const d of ofKind("Deployment")) {
        const annotations =
          (d.spec.template!.metadata as { annotations?: Record<string, string> }).annotations ?? {};
        const env = d.spec.template!.spec.containers[0]!.env ?? [];
        const open = env.find((e) => e.name === "TOOLSHED_PUBLIC_METRICS")?.value === "true";
        expect(open).toBe(annotations["prometheus.io/scrape"] === "true");
      }
    });

    it("points the Service, HPA, PDB and NetworkPolicy at this server's pods only", () => {
      const podLabels = ofKind("Deployment")[0]!.spec.template!.metadata.labels;
      expect(podLabels["app.kubernetes.io/instance"]).toBe(overlay);
      const selectors = [
        ofKind("Service")[0]!.spec.selector,
        ofKind("PodDisruptionBudget")[0]!.spec.selector?.matchLabels,
        ofKind("NetworkPolicy")[0]!.spec.podSelector?.matchLabels,
      ];
      for (const s of selectors) {
        expect(s?.["app.kubernetes.io/instance"]).toBe(overlay);
        for (const [k, v] of Object.entries(s ?? {})) expect(podLabels[k], k).toBe(v);
      }
      expect(ofKind("HorizontalPodAutoscaler")[0]!.spec.scaleTargetRef).toMatchObject({
        kind: "Deployment",
        name: `toolshed-${overlay}-server`,
      });
    });
  });
});
