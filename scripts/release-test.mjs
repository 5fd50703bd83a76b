#!/usr/bin/env node
// The release, end to end, against a throwaway registry: start Verdaccio on loopback, publish every
// package with the real release command (`pnpm release`, i.e. turbo build + changeset publish), check
// that the published manifests carry real versions (no `workspace:` / `catalog:`), then in an empty
// directory that knows only that registry run `npx @toolshed/server-<name> --version` and a stdio
// initialize + tools/list through the SDK client for every server.
// @toolshed/* never leaves the local registry; other packages are proxied to the configured registry.
// Bounded in time; Verdaccio is killed on every exit path.
import { spawn, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const VERDACCIO_VERSION = "6.8.0"; // the newest that runs on Node 20 (6.9+ need Node 22)
const PNPM = "pnpm@10.34.8";
const TOTAL_MS = Number(process.env.RELEASE_TEST_TIMEOUT_MS ?? 600_000);
const root = new URL("..", import.meta.url).pathname;
const started = Date.now();
const tmp = mkdtempSync(join(tmpdir(), "toolshed-release-"));
let verdaccio;
let verdaccioOutput = "";

function log(msg) {
  process.stderr.write(`release-test [${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
}

function cleanup() {
  if (verdaccio?.pid && verdaccio.exitCode === null) {
    try {
      process.kill(-verdaccio.pid, "SIGKILL"); // its own process group: npx and the server under it
    } catch {
      /* already gone */
    }
  }
  if (!process.env.RELEASE_TEST_KEEP) rmSync(tmp, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    log(`${sig}; stopping`);
    process.exit(130);
  });
}
setTimeout(() => {
  log(`FAIL: did not finish within ${TOTAL_MS / 1000}s`);
  process.exit(1);
}, TOTAL_MS).unref();

function fail(msg) {
  log(`FAIL: ${msg}`);
  if (verdaccioOutput) process.stderr.write(`--- verdaccio output ---\n${verdaccioOutput.slice(-8000)}\n`);
  process.exit(1);
}

/** The environment without any npm/pnpm config inherited from the calling package manager. */
function cleanEnv(extra) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(npm|pnpm)_(config|package|lifecycle)_/i.test(k)),
  );
  return { ...env, ...extra };
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
    ...opts,
  });
  if (r.status !== 0) {
    fail(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout ?? ""}\n${r.stderr ?? ""}`);
  }
  return r.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function publishedServers() {
  return readdirSync(join(root, "servers"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, "servers", d.name, "package.json")))
    .map((d) => JSON.parse(readFileSync(join(root, "servers", d.name, "package.json"), "utf8")))
    .filter((p) => !p.private);
}

function workspacePackages() {
  const out = [];
  for (const parent of ["packages", "servers"]) {
    for (const d of readdirSync(join(root, parent), { withFileTypes: true })) {
      const path = join(root, parent, d.name, "package.json");
      if (d.isDirectory() && existsSync(path)) out.push(JSON.parse(readFileSync(path, "utf8")));
    }
  }
  return out.filter((p) => !p.private);
}

/**
 * Installs the pinned Verdaccio once into node_modules/.cache (reused by later runs). Through npm rather
 * than `npx` so that an override can pin node-fetch: Verdaccio asks for the `cjs` dist-tag, which
 * mirrors do not always carry.
 */
function installVerdaccio() {
  const dir = join(root, "node_modules/.cache/toolshed-release-test", `verdaccio-${VERDACCIO_VERSION}`);
  const bin = join(dir, "node_modules/verdaccio/bin/verdaccio");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      private: true,
      dependencies: { verdaccio: VERDACCIO_VERSION },
      overrides: { "node-fetch": "2.7.0" },
    }),
  );
  log(`installing verdaccio@${VERDACCIO_VERSION} into ${dir}`);
  run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"], {
    cwd: dir,
    env: cleanEnv(),
  });
  if (!existsSync(bin)) fail(`verdaccio installed but ${bin} is missing`);
  return bin;
}

async function startVerdaccio() {
  const upstream = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8", env: cleanEnv() })
    .stdout.trim()
    .replace(/\/?$/, "/");
  const port = await freePort();
  const dir = join(tmp, "verdaccio");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "config.yaml"),
    [
      `storage: ${join(dir, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${join(dir, "htpasswd")}`,
      "    max_users: 10",
      "uplinks:",
      "  upstream:",
      `    url: ${upstream}`,
      "    timeout: 60s",
      "packages:",
      "  '@toolshed/*':", // ours: local only, never proxied
      "    access: $all",
      "    publish: $authenticated",
      "  '**':",
      "    access: $all",
      "    publish: $authenticated",
      "    proxy: upstream",
      "max_body_size: 200mb",
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  const bin = installVerdaccio();
  log(`starting verdaccio@${VERDACCIO_VERSION} on 127.0.0.1:${port} (others proxied to ${upstream})`);
  verdaccio = spawn(
    process.execPath,
    [bin, "--config", join(dir, "config.yaml"), "--listen", `127.0.0.1:${port}`],
    {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(),
    },
  );
  verdaccio.stdout.on("data", (d) => (verdaccioOutput += d));
  verdaccio.stderr.on("data", (d) => (verdaccioOutput += d));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (verdaccio.exitCode !== null) fail(`Verdaccio exited ${verdaccio.exitCode}`);
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) return url;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  fail("Verdaccio did not answer within 180s");
}

async function createUser(registry) {
  const res = await fetch(`${registry}-/user/org.couchdb.user:release`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "release", password: "release-test-only", type: "user", roles: [] }),
  });
  const body = await res.json();
  if (!res.ok || !body.token)
    fail(`could not create a Verdaccio user: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** npm and pnpm settings that point at the local registry and nothing else. */
function registryEnv(registry, token, name) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const npmrc = join(dir, ".npmrc");
  const hostPath = registry.replace(/^https?:/, "");
  writeFileSync(npmrc, `registry=${registry}\n${token ? `${hostPath}:_authToken=${token}\n` : ""}`);
  writeFileSync(join(dir, "global.npmrc"), "");
  return cleanEnv({
    npm_config_registry: registry,
    npm_config_userconfig: npmrc,
    npm_config_globalconfig: join(dir, "global.npmrc"),
    npm_config_cache: join(dir, "npm-cache"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  });
}

/** fetch, retried: a keep-alive connection Verdaccio closed while the release ran fails once. */
async function fetchRetrying(url, attempts = 3) {
  for (let i = 1; ; i++) {
    try {
      return await fetch(url);
    } catch (e) {
      if (i >= attempts) fail(`GET ${url}: ${e.cause?.message ?? e.message}`);
    }
  }
}

async function checkManifests(registry, packages) {
  const published = new Map();
  for (const pkg of packages) {
    const url = `${registry}${pkg.name.replace("/", "%2f")}`;
    const res = await fetchRetrying(url);
    if (!res.ok) fail(`${pkg.name} is not in the local registry after the release (${res.status})`);
    const doc = await res.json();
    const manifest = doc.versions?.[pkg.version];
    if (!manifest) fail(`${pkg.name}@${pkg.version} was not published`);
    published.set(pkg.name, manifest);
  }
  for (const [name, manifest] of published) {
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
        if (/^(workspace|catalog):/.test(range))
          fail(`${name} was published with ${field}.${dep} = ${range}`);
        if (dep.startsWith("@toolshed/") && field === "dependencies") {
          const target = published.get(dep);
          if (!target) fail(`${name} depends on ${dep}, which the release did not publish`);
          if (!range.includes(target.version))
            fail(`${name} depends on ${dep}@${range}, not ${target.version}`);
        }
      }
    }
  }
  const sample = published.get("@toolshed/server");
  log(`manifests ok; e.g. @toolshed/server dependencies: ${JSON.stringify(sample?.dependencies ?? {})}`);
}

async function checkServer(pkg, env) {
  const dir = join(tmp, "empty", pkg.name.split("/")[1]);
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const version = run("npx", ["-y", pkg.name, "--version"], { cwd: dir, env }).trim();
  if (!version.includes(pkg.version))
    fail(`npx ${pkg.name} --version printed '${version}', not ${pkg.version}`);
  log(`npx ${pkg.name} --version -> ${version} (${Date.now() - t0} ms, install included)`);

  const transport = new StdioClientTransport({
    command: "npx",
    args: ["-y", pkg.name],
    cwd: dir,
    env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const client = new Client({ name: "toolshed-release-test", version: "0.0.0" });
  try {
    await client.connect(transport, { timeout: 120_000 });
    const info = client.getServerVersion();
    if (info?.version !== pkg.version) fail(`${pkg.name} initialize reported version ${info?.version}`);
    const { tools } = await client.listTools();
    // The gateway, run without a config, fronts nothing yet: it starts and lists no tools.
    if (pkg.toolshed?.gateway) {
      if (tools.length !== 0) fail(`${pkg.name} without a config lists tools: ${tools.map((t) => t.name)}`);
    } else if (tools.length === 0) fail(`${pkg.name} lists no tools`);
    log(
      `${pkg.name}: initialize ok (${info.name} ${info.version}), tools/list -> ${tools.map((t) => t.name).join(", ")}`,
    );
  } catch (e) {
    fail(`${pkg.name} over stdio: ${e instanceof Error ? e.message : String(e)}\n${stderr}`);
  } finally {
    await client.close();
  }
}

async function main() {
  const registry = await startVerdaccio();
  const token = await createUser(registry);
  const publishEnv = registryEnv(registry, token, "publisher");
  log("publishing with `pnpm release --no-git-tag` (turbo build + changeset publish)");
  const out = run("npx", ["-y", PNPM, "release", "--no-git-tag"], { cwd: root, env: publishEnv });
  writeFileSync(join(tmp, "release.log"), out);
  process.stderr.write(
    `${out
      .split("\n")
      .filter((l) => /🦋  (success|error|warn)|^🦋  @toolshed/.test(l))
      .join("\n")}\n`,
  );
  await checkManifests(registry, workspacePackages());
  const userEnv = registryEnv(registry, "", "user");
  for (const pkg of publishedServers()) await checkServer(pkg, userEnv);
  log(`PASS in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  process.exit(0);
}

main().catch((e) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
