#!/usr/bin/env node
// Keeps every server's MCP registry entry (servers/<name>/server.json) in step with what is released:
//   node scripts/server-json.mjs [--check] [servers/<name> …]
// Sets the entry's version and its npm package's version from the server's package.json, and writes
// the image (OCI) package the release workflow pushes: ghcr.io/…/toolshed-<name>:<version>, run by the
// client as `docker run -i --rm … <image> --transport stdio` (the image's own command serves HTTP). The
// image gets the npm package's settings except host file paths, which mean nothing inside a container;
// a required file (the gateway's config) is mounted read-only instead. `pnpm version-packages` runs this
// after `changeset version`, and pins the same tag in the server's k8s overlays (deploy/k8s/overlays/
// <name> and <name>-cluster); `--check` (deploy/test/workflows.test.ts) exits 1 naming what is out of step.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WORKFLOW = ".github/workflows/release-images.yml";

/** The image name prefix the release workflow pushes to (its IMAGE_PREFIX). */
export function imagePrefix(repoRoot = root) {
  const text = readFileSync(join(repoRoot, WORKFLOW), "utf8");
  const m = /^\s+IMAGE_PREFIX:\s*(\S+)\s*$/m.exec(text);
  if (!m) throw new Error(`${WORKFLOW} sets no IMAGE_PREFIX; the image entries cannot be named`);
  return m[1];
}

/** The server.json `dir` should have: its npm package as given, versions from package.json, the image. */
export function expectedServerJson(dir, repoRoot = root) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, dir, "package.json"), "utf8"));
  const sj = JSON.parse(readFileSync(join(repoRoot, dir, "server.json"), "utf8"));
  const npm = sj.packages?.find((p) => p.registryType === "npm");
  if (!npm) throw new Error(`${dir}/server.json has no npm package to derive the image entry from`);
  const name = dir.split("/").pop();
  const version = pkg.version;
  const mounts = [];
  const env = [];
  for (const v of npm.environmentVariables ?? []) {
    if (v.format !== "filepath") env.push(v);
    else if (v.isRequired) {
      // The file is mounted where the variable then points, so the host path is the client's input.
      const inside = `/etc/toolshed/${v.name
        .toLowerCase()
        .replace(/^toolshed_/, "")
        .replace(/_/g, "-")}`;
      mounts.push({
        type: "named",
        name: "--volume",
        value: `{host_path}:${inside}:ro`,
        isRequired: true,
        variables: {
          host_path: { description: v.description, isRequired: true, format: "filepath" },
        },
      });
      env.push({
        name: v.name,
        description: v.description,
        isRequired: true,
        format: "string",
        value: inside,
      });
    }
  }
  const oci = {
    registryType: "oci",
    identifier: `${imagePrefix(repoRoot)}${name}:${version}`,
    runtimeHint: "docker",
    ...(mounts.length ? { runtimeArguments: mounts } : {}),
    packageArguments: [{ type: "named", name: "--transport", value: "stdio" }],
    transport: { type: "stdio" },
    environmentVariables: env,
  };
  return {
    ...sj,
    version,
    packages: [{ ...npm, identifier: pkg.name, version }, oci],
  };
}

/** The server's k8s overlays whose image tag is not `version`: [file, text with the tag set]. */
function staleOverlays(dir, version, repoRoot = root) {
  const name = dir.split("/").pop();
  const image = `${imagePrefix(repoRoot)}${name}`;
  const out = [];
  for (const overlay of [name, `${name}-cluster`]) {
    const file = join(repoRoot, "deploy/k8s/overlays", overlay, "kustomization.yaml");
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    const escaped = image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const fixed = text.replace(new RegExp(`(newName: ${escaped}\\n\\s+newTag: )\\S+`), `$1${version}`);
    if (fixed !== text) out.push([file, fixed]);
  }
  return out;
}

function serverDirs(repoRoot = root) {
  return readdirSync(join(repoRoot, "servers"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(repoRoot, "servers", d.name, "server.json")))
    .map((d) => `servers/${d.name}`)
    .sort();
}

async function main(argv) {
  const check = argv.includes("--check");
  const given = argv.filter((a) => a !== "--check").map((a) => relative(root, resolve(a)));
  const dirs = given.length ? given : serverDirs();
  const stale = [];
  for (const dir of dirs) {
    if (!existsSync(join(root, dir, "server.json"))) {
      process.stderr.write(`server-json: ${dir} has no server.json (give a servers/<name> directory)\n`);
      process.exit(2);
    }
    const file = join(root, dir, "server.json");
    const want = expectedServerJson(dir);
    const overlays = staleOverlays(dir, want.version);
    for (const [overlay, text] of overlays) {
      stale.push(relative(root, overlay));
      if (!check) writeFileSync(overlay, text);
    }
    if (isDeepStrictEqual(JSON.parse(readFileSync(file, "utf8")), want)) continue;
    stale.push(dir);
    if (check) continue;
    // The workspace's Prettier, so the file is written as `prettier --check` wants it.
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(file, await prettier.format(JSON.stringify(want), { ...options, filepath: file }));
  }
  if (check && stale.length) {
    process.stderr.write(
      `server-json: out of step with package.json or the release workflow: ${stale.join(", ")}; ` +
        "run node scripts/server-json.mjs\n",
    );
    process.exit(1);
  }
  if (!check) process.stdout.write(stale.length ? `server-json: updated ${stale.join(", ")}\n` : "");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
