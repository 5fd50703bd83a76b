// `pnpm test:template`: in a throw-away copy of this workspace, `pnpm gen server <name>` and
// `pnpm gen server --from-openapi <document> <name>` (Directus' published description, from npm), then what
// a team's first CI run does for the new servers: install, build, typecheck, lint, its own tests (example tool,
// contract, schema snapshot, stdio bin), its attack suite (the reliability target the generator added), the
// deploy checks every server must pass, and Prettier; then `pnpm gen remove` for both, which must leave
// the copy as it started (as git sees it, against a snapshot taken right after the copy).
// Everything runs offline from the pnpm store and reads (never writes) this workspace's turbo cache.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "../../..");
const NAME = "template-check";
const PKG = `@toolshed/server-${NAME}`;
// Generated from a real document no one here wrote: Directus' (@directus/specs, the generator's devDependency),
// which names no server URL, so the base URL is given.
const OPENAPI = "openapi-check";
const OPENAPI_PKG = `@toolshed/server-${OPENAPI}`;
const DIRECTUS = "packages/openapi/node_modules/@directus/specs/dist/openapi.json";
const BASE_URL = "https://directus.example.com";
const tmp = mkdtempSync(join(tmpdir(), "toolshed-template-"));
const ws = join(tmp, "ws");
const started = Date.now();

afterAll(() => {
  if (!process.env.TEMPLATE_TEST_KEEP) rmSync(tmp, { recursive: true, force: true });
});

/** pnpm as this process was started (`pnpm test:template`), else the version the workspace pins. */
function pnpm(): string[] {
  const execPath = process.env.npm_execpath ?? "";
  if (/pnpm\.c?js$/.test(execPath)) return [process.execPath, execPath];
  const pinned = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { packageManager: string })
    .packageManager;
  return ["npx", "-y", pinned];
}

/** Where this workspace's turbo cache lives: its own .turbo, or the main checkout's for a git worktree. */
function turboCacheDir(): string {
  const common = spawnSync("git", ["rev-parse", "--path-format=absolute", "--git-common-dir"], {
    cwd: root,
    encoding: "utf8",
  });
  const base = common.status === 0 ? dirname(common.stdout.trim()) : root;
  return join(existsSync(join(base, ".turbo/cache")) ? base : root, ".turbo/cache");
}

/** The child's environment: ours without vitest's markers, turbo reading our cache read-only. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|TEST$|NODE_ENV$)/.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    TURBO_CACHE_DIR: turboCacheDir(),
    TURBO_CACHE: "local:r",
    TURBO_TELEMETRY_DISABLED: "1",
    ...extra,
  };
}

interface Run {
  status: number | null;
  output: string;
}

/** Runs `pnpm <args>` in the copy without blocking the event loop; killed after `timeoutMs`. */
function run(args: string[], timeoutMs: number, extraEnv: Record<string, string> = {}): Promise<Run> {
  const [cmd, ...pre] = pnpm();
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd!, [...pre, ...args], {
      cwd: ws,
      env: childEnv(extraEnv),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[template test] killed after ${timeoutMs / 1000}s: pnpm ${args.join(" ")}`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      process.stderr.write(
        `template test [${((Date.now() - started) / 1000).toFixed(0)}s] pnpm ${args.join(" ")} -> ${status}\n`,
      );
      resolveRun({ status, output });
    });
  });
}

function expectOk(r: Run, what: string): void {
  expect(r.status, `${what} failed:\n${r.output.slice(-6000)}`).toBe(0);
}

/** Copies the workspace as git sees it (tracked and new files, nothing ignored), or minus build output. */
function copyWorkspace(): void {
  mkdirSync(ws);
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (listed.status === 0) {
    for (const file of listed.stdout.split("\0").filter(Boolean)) {
      if (!existsSync(join(root, file))) continue; // deleted in the work tree
      mkdirSync(dirname(join(ws, file)), { recursive: true });
      cpSync(join(root, file), join(ws, file));
    }
    return;
  }
  const skip = new Set(["node_modules", "dist", ".turbo", ".git", ".test-results", "coverage"]);
  cpSync(root, ws, { recursive: true, filter: (src) => !skip.has(basename(src)) });
}

/** git on the copy with its history in `tmp/start.git`, outside the copy, so nothing in it sees a repository. */
function git(args: string[]): string {
  const r = spawnSync("git", [`--git-dir=${join(tmp, "start.git")}`, `--work-tree=${ws}`, ...args], {
    cwd: ws,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(r.status, `git ${args.join(" ")} failed:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

/** Runs vitest in the copy with a JSON report; returns the report (and the run, for failure output). */
async function vitest(args: string[], timeoutMs: number, env: Record<string, string> = {}) {
  const out = join(tmp, `vitest-${Date.now()}.json`);
  const r = await run(
    ["exec", "vitest", "run", ...args, "--reporter=default", "--reporter=json", `--outputFile.json=${out}`],
    timeoutMs,
    env,
  );
  expect(existsSync(out), `vitest wrote no report:\n${r.output.slice(-6000)}`).toBe(true);
  const report = JSON.parse(readFileSync(out, "utf8")) as VitestJson;
  const tests = report.testResults.flatMap((f) => f.assertionResults);
  const failed = tests.filter((t) => t.status === "failed");
  expect(
    failed.map((t) => t.fullName),
    `${failed.map((t) => `${t.fullName}\n${t.failureMessages.join("\n").slice(0, 1500)}`).join("\n\n")}\n${r.output.slice(-3000)}`,
  ).toEqual([]);
  return { r, report, passed: tests.filter((t) => t.status === "passed").map((t) => t.fullName) };
}

// Each step needs the ones before it; after a failure the rest say so instead of failing confusingly.
let broken: string | undefined;
function step(name: string, fn: () => Promise<void>, timeoutMs: number): void {
  it(
    name,
    async () => {
      if (broken) throw new Error(`not run: an earlier step failed (${broken})`);
      try {
        await fn();
      } catch (e) {
        broken = name;
        throw e;
      }
    },
    timeoutMs,
  );
}

describe(`pnpm gen server ${NAME} and --from-openapi ${OPENAPI} in a throw-away copy of the workspace`, () => {
  step(
    "copies the workspace and installs it offline from the pnpm store",
    async () => {
      copyWorkspace();
      expect(existsSync(join(ws, `servers/${NAME}`)), `servers/${NAME} exists already`).toBe(false);
      // The starting state, for the removal at the end to be compared with (ignored files are not in it).
      git(["init", "-q"]);
      git(["add", "-A"]);
      git([
        "-c",
        "user.name=template-test",
        "-c",
        "user.email=template-test@localhost",
        "commit",
        "-q",
        "--no-gpg-sign",
        "-m",
        "start",
      ]);
      expectOk(await run(["install", "--frozen-lockfile", "--prefer-offline"], 180_000), "pnpm install");
    },
    200_000,
  );

  step(
    "refuses a missing name, one that is not kebab-case and one that is taken, saying why, creating nothing",
    async () => {
      const bad = await run(["gen", "server", "Issue_Tracker"], 60_000);
      expect(bad.status).not.toBe(0);
      expect(bad.output).toMatch(
        /"Issue_Tracker" is not a kebab-case server name.*\(e\.g\. "issue-tracker"\)/,
      );
      expect(existsSync(join(ws, "servers/Issue_Tracker"))).toBe(false);
      const none = await run(["gen", "server"], 60_000); // no terminal here to ask on
      expect(none.status).not.toBe(0);
      expect(none.output).toContain("no name given and no terminal to ask on; run: pnpm gen server <name>");
      const taken = await run(["gen", "server", "data-analytics"], 60_000);
      expect(taken.status).not.toBe(0);
      expect(taken.output).toMatch(/servers\/data-analytics already exists; pick another name/);
    },
    130_000,
  );

  step(
    `pnpm gen server ${NAME} writes the server and wires it into the dev stack`,
    async () => {
      const composeBefore = readFileSync(join(ws, "docker-compose.dev.yaml"), "utf8");
      expectOk(await run(["gen", "server", NAME], 60_000), `pnpm gen server ${NAME}`);
      const dir = join(ws, "servers", NAME);
      for (const file of [
        "package.json",
        "server.json",
        "README.md",
        "tsconfig.json",
        "tsconfig.build.json",
        "src/bin.ts",
        "src/server.ts",
        "src/config.ts",
        "src/tools/hello.ts",
        "test/hello.test.ts",
        "test/contract.test.ts",
        "test/stdio.test.ts",
        "test/__snapshots__/tools.json",
      ]) {
        expect(existsSync(join(dir, file)), file).toBe(true);
      }
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
      expect(pkg).toMatchObject({ name: PKG, mcpName: `io.github.toolshed-mcp/${NAME}`, files: ["dist"] });
      expect(pkg.bin).toEqual({ [`toolshed-${NAME}`]: "./dist/bin.js" });
      expect(readFileSync(join(dir, "src/bin.ts"), "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
      const readme = readFileSync(join(dir, "README.md"), "utf8");
      for (const client of ["claude_desktop_config.json", `claude mcp add ${NAME} --`, "--transport http"]) {
        expect(readme).toContain(client);
      }
      expect(readFileSync(join(ws, `.changeset/${NAME}.md`), "utf8")).toContain(`"${PKG}": minor`);
      expect(readFileSync(join(ws, "README.md"), "utf8")).toContain(`](servers/${NAME}/README.md)`);
      expect(existsSync(join(ws, `deploy/k8s/overlays/${NAME}/kustomization.yaml`))).toBe(true);
      const compose = parse(readFileSync(join(ws, "docker-compose.dev.yaml"), "utf8"), { merge: true }) as {
        services: Record<string, unknown>;
      };
      expect(compose.services[NAME]).toBeDefined();
      const old = parse(composeBefore, { merge: true }) as { services: Record<string, unknown> };
      for (const [name, service] of Object.entries(old.services))
        expect(compose.services[name]).toEqual(service);
      expect(readFileSync(join(ws, "deploy/prometheus/prometheus.yml"), "utf8")).toContain(
        `job_name: ${NAME}`,
      );
      const bench = JSON.parse(readFileSync(join(ws, "bench/package.json"), "utf8")) as {
        devDependencies: Record<string, string>;
      };
      expect(bench.devDependencies[PKG]).toBe("workspace:*");
      expect(readFileSync(join(ws, "bench/src/reliability/targets.ts"), "utf8")).toContain(
        `name: "${NAME}",\n    bin: binOf("${PKG}"),`,
      );
    },
    70_000,
  );

  step(
    `pnpm gen server --from-openapi <Directus' document> ${OPENAPI} writes the server and wires it in the same way`,
    async () => {
      const r = await run(
        [
          "gen",
          "server",
          "--from-openapi",
          DIRECTUS,
          OPENAPI,
          "--include",
          "tag:Items",
          "--base-url",
          BASE_URL,
        ],
        180_000,
      );
      expectOk(r, `pnpm gen server --from-openapi ${DIRECTUS} ${OPENAPI}`);
      expect(r.output).toMatch(/\d+ tools in servers\/openapi-check\/src\/generated/);
      const dir = join(ws, "servers", OPENAPI);
      for (const file of ["package.json", "server.json", "README.md", "src/bin.ts", "src/overrides.ts"]) {
        expect(existsSync(join(dir, file)), file).toBe(true);
      }
      const serverJson = JSON.parse(readFileSync(join(dir, "server.json"), "utf8")) as {
        name: string;
        packages: { environmentVariables: { name: string; default?: string; isSecret?: boolean }[] }[];
      };
      expect(serverJson.name).toBe(`io.github.toolshed-mcp/${OPENAPI}`);
      expect(serverJson.packages[0]!.environmentVariables).toContainEqual(
        expect.objectContaining({ name: "OPENAPI_CHECK_BASE_URL", default: BASE_URL }),
      );
      expect(readFileSync(join(ws, `.changeset/${OPENAPI}.md`), "utf8")).toContain(`"${OPENAPI_PKG}": minor`);
      expect(readFileSync(join(ws, "README.md"), "utf8")).toContain(`](servers/${OPENAPI}/README.md)`);
      expect(existsSync(join(ws, `deploy/k8s/overlays/${OPENAPI}/kustomization.yaml`))).toBe(true);
      const compose = parse(readFileSync(join(ws, "docker-compose.dev.yaml"), "utf8"), { merge: true }) as {
        services: Record<string, { ports?: string[]; environment?: Record<string, string> }>;
      };
      // Directus' two security schemes: each credential passed through from the environment in compose
      // and read from the server's Secret in its overlay, never written as a value.
      const secrets = serverJson.packages[0]!.environmentVariables.filter((v) => v.isSecret).map(
        (v) => v.name,
      );
      expect(secrets.length).toBeGreaterThanOrEqual(2);
      const patch = readFileSync(join(ws, `deploy/k8s/overlays/${OPENAPI}/deployment-patch.yaml`), "utf8");
      for (const env of secrets) {
        expect(compose.services[OPENAPI]?.environment?.[env]).toBe(`\${${env}:-}`);
        expect(patch).toContain(`- name: ${env}\n`);
        expect(patch).toContain(`key: ${env.toLowerCase().replaceAll("_", "-")}\n`);
      }
      // The port after the template server's.
      expect(compose.services[OPENAPI]?.ports?.[0]).toMatch(
        /^127\.0\.0\.1:\$\{OPENAPI_CHECK_PORT:-\d+\}:8080$/,
      );
      expect(compose.services[OPENAPI]?.ports?.[0]).not.toBe(compose.services[NAME]?.ports?.[0]);
      expect(readFileSync(join(ws, "deploy/prometheus/prometheus.yml"), "utf8")).toContain(
        `job_name: ${OPENAPI}`,
      );

      // Without a server URL the server could not start in the stack: refused, saying what to add, nothing written.
      // (The `openapi` generator directly: the same actions, without building @toolshed/openapi.)
      const before = ["docker-compose.dev.yaml", "deploy/prometheus/prometheus.yml", "README.md"].map((f) =>
        readFileSync(join(ws, f), "utf8"),
      );
      const refused = await run(
        ["gen", "openapi", "--args", "no-url", join(ws, DIRECTUS), '["--include","tag:Items"]'],
        60_000,
      );
      expect(refused.status).not.toBe(0);
      expect(refused.output).toContain("would not start without NO_URL_BASE_URL; give the API's URL");
      expect(refused.output).toContain("--base-url https://api.example.com");
      expect(existsSync(join(ws, "servers/no-url"))).toBe(false);
      expect(existsSync(join(ws, "deploy/k8s/overlays/no-url"))).toBe(false);
      expect(
        ["docker-compose.dev.yaml", "deploy/prometheus/prometheus.yml", "README.md"].map((f) =>
          readFileSync(join(ws, f), "utf8"),
        ),
      ).toEqual(before);
    },
    300_000,
  );

  step(
    "installs the new packages offline (the lockfile gains them)",
    async () => {
      expectOk(await run(["install", "--no-frozen-lockfile", "--prefer-offline"], 180_000), "pnpm install");
      expect(readFileSync(join(ws, "pnpm-lock.yaml"), "utf8")).toContain(`servers/${NAME}:`);
      expect(readFileSync(join(ws, "pnpm-lock.yaml"), "utf8")).toContain(`servers/${OPENAPI}:`);
    },
    200_000,
  );

  step(
    "builds, typechecks and lints the new servers",
    async () => {
      expectOk(
        await run(
          [
            "exec",
            "turbo",
            "run",
            "build",
            "typecheck",
            "lint",
            `--filter=${PKG}`,
            `--filter=${OPENAPI_PKG}`,
            "--output-logs=errors-only",
          ],
          300_000,
        ),
        "turbo run build typecheck lint",
      );
      expect(existsSync(join(ws, `servers/${NAME}/dist/bin.js`))).toBe(true);
      expect(existsSync(join(ws, `servers/${OPENAPI}/dist/bin.js`))).toBe(true);
    },
    310_000,
  );

  step(
    `${OPENAPI} passes its generated contract test`,
    async () => {
      const { passed } = await vitest(["--project", OPENAPI_PKG], 120_000, { CI: "true" });
      expect(passed.filter((t) => t.startsWith(`${OPENAPI} contract `)).length).toBeGreaterThanOrEqual(5);
    },
    130_000,
  );

  step(
    "passes its own tests (example tool, contract, schema snapshot, stdio bin) as CI runs them",
    async () => {
      // CI=true: a missing or different snapshot fails instead of being written.
      const { passed } = await vitest(["--project", PKG], 120_000, { CI: "true" });
      expect(passed.length).toBeGreaterThanOrEqual(11);
      expect(passed).toContain("keeps tool names, descriptions and schemas stable (snapshot)");
      expect(passed.filter((t) => t.startsWith(`${NAME} contract `)).length).toBeGreaterThanOrEqual(5);
    },
    130_000,
  );

  step(
    "joins the reliability suites: the bench builds with its target and its attack suite passes",
    async () => {
      expectOk(
        await run(
          // Every server too: the deploy checks below read each server's --help (the gateway is no bench dependency).
          [
            "exec",
            "turbo",
            "run",
            "build",
            "--filter=@toolshed/bench",
            "--filter=./servers/*",
            "--output-logs=errors-only",
          ],
          300_000,
        ),
        "turbo run build --filter=@toolshed/bench --filter=./servers/*",
      );
      // Only this server's attacks (the other targets' describe blocks are filtered out, hooks and all).
      const { passed } = await vitest(["bench/test/attacks.test.ts", "-t", `attacks on ${NAME} `], 120_000, {
        CI: "true",
      });
      expect(passed.length).toBeGreaterThanOrEqual(10);
      expect(passed.filter((t) => !t.startsWith(`attacks on ${NAME} `))).toEqual([]);
      for (const title of [
        "auth bypass: no credentials is refused (401)",
        "secrets in logs: failures driven with known secrets leave none in any log line",
      ]) {
        expect(passed, title).toContain(`attacks on ${NAME} ${title}`);
      }
    },
    430_000,
  );

  step(
    "passes the deploy checks every server must pass",
    async () => {
      // The checks that name the server or cover every server; docker-compose and kubectl ones run where
      // those tools are (CI installs docker-compose; elsewhere they are skipped, saying so on stderr).
      // Every test that names either server, and those that cover all servers, containers and packages.
      const { passed } = await vitest(
        [
          "--project",
          "@toolshed/deploy-tests",
          "-t",
          `${NAME}|${OPENAPI}|every (server|container|package)`,
          "--hookTimeout=60000",
        ],
        600_000,
      );
      for (const [name, pkg] of [
        [NAME, PKG],
        [OPENAPI, OPENAPI_PKG],
      ] as const) {
        for (const title of [
          `server ${name} is published as @toolshed/server-<dir> with an mcpName`,
          `server ${name} has a server.json that agrees with package.json`,
          `server ${name} lists environment variables that the server's README or the kit documents`,
          `server ${name} in the MCP registry states the defaults its --help shows, for every variable the server reads`,
          `publishable packages ${pkg} has the publish fields`,
          `observability Prometheus scrapes ${name}'s /metrics`,
          `client snippets in servers/${name}/README.md gives Claude Desktop only stdio servers, and every client a runnable entry`,
          `deploy/docker/Dockerfile built for SERVER=${name} prunes, installs frozen, builds and answers /healthz with the image's CMD`,
        ]) {
          expect(passed, title).toContain(title);
        }
      }
      // Where CI has them (docker-compose, kubectl): the compose service and the k8s overlay.
      if (passed.some((t) => t.startsWith("docker-compose.dev.yaml "))) {
        expect(passed).toContain(
          `the ${OPENAPI} service's command as a local process starts with the compose environment and answers /healthz and /metrics`,
        );
        expect(passed).toContain(
          "docker-compose.dev.yaml hygiene and shared state bounds every container's memory and logs, and restarts it unless stopped",
        );
      }
      if (passed.some((t) => t.startsWith("deploy/k8s "))) {
        expect(
          passed.filter((t) => t.startsWith(`deploy/k8s overlay ${OPENAPI} `)).length,
        ).toBeGreaterThanOrEqual(5);
      }
      expect(passed).toContain("the root README links the README of every package and server");
      // Both generated servers' registry entries carry the image, and the release sync agrees with them.
      for (const title of [
        ".github/workflows/release-images.yml gives every server's server.json the image as an OCI package, as the workflow tags it and a client runs it",
        ".github/workflows/release-images.yml keeps every server.json and overlay tag in step with package.json (scripts/server-json.mjs)",
      ]) {
        expect(passed, title).toContain(title);
      }
    },
    610_000,
  );

  step(
    "leaves every file it wrote or edited Prettier-clean",
    async () => {
      // What the generator wrote or edited (the rest of the copy is this workspace, checked by `pnpm test`).
      const paths = [
        `servers/${NAME}`,
        `deploy/k8s/overlays/${NAME}`,
        `.changeset/${NAME}.md`,
        `servers/${OPENAPI}`,
        `deploy/k8s/overlays/${OPENAPI}`,
        `.changeset/${OPENAPI}.md`,
        "docker-compose.dev.yaml",
        "deploy/prometheus/prometheus.yml",
        "bench/package.json",
        "bench/src/reliability/targets.ts",
        "README.md",
      ];
      expectOk(await run(["exec", "prettier", "--check", ...paths], 120_000), "prettier --check");
    },
    130_000,
  );
  step(
    `pnpm gen remove ${NAME} and ${OPENAPI} leave the copy as it started`,
    async () => {
      // The repository's own servers and unknown names are refused with status 2, touching nothing.
      const own = await run(["gen", "remove", "data-analytics"], 60_000);
      expect(own.status).toBe(2);
      expect(own.output).toContain("servers/data-analytics is one of this repository's own servers");
      expect(existsSync(join(ws, "servers/data-analytics/package.json"))).toBe(true);

      for (const name of [NAME, OPENAPI]) {
        const r = await run(["gen", "remove", name], 60_000);
        expectOk(r, `pnpm gen remove ${name}`);
        for (const line of [
          `removed servers/${name}`,
          `removed deploy/k8s/overlays/${name}`,
          `removed .changeset/${name}.md`,
          `docker-compose.dev.yaml: removed service '${name}'`,
          `deploy/prometheus/prometheus.yml: removed scrape job '${name}'`,
          `README.md: removed the row for ${name} in the table of servers`,
          "next: pnpm install (drops it from pnpm-lock.yaml)",
        ]) {
          expect(r.output, r.output).toContain(line);
        }
        // Twice is once: the second run finds nothing and says so.
        const again = await run(["gen", "remove", name], 60_000);
        expect(again.status).toBe(2);
        expect(again.output).toContain(`nothing to remove: there is no servers/${name}`);
      }
      // Only the template server was a reliability target.
      expect(readFileSync(join(ws, "bench/package.json"), "utf8")).not.toContain(PKG);

      // The lockfile gained both servers at the install above; installing again drops them.
      expectOk(await run(["install", "--no-frozen-lockfile", "--prefer-offline"], 180_000), "pnpm install");
      // Every file as it was copied, nothing new (build output and node_modules are ignored, as in git).
      expect(git(["status", "--porcelain", "--untracked-files=all"])).toBe("");
    },
    400_000,
  );
});
