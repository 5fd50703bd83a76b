// No Docker engine here, so this runs the Dockerfile's own build steps (its RUN lines, with /out and
// /app mapped to a temp dir): turbo prune, frozen install from the pruned lockfile, build, prod install,
// then starts the entry point with the image's CMD and checks /healthz and the HEALTHCHECK command
// (readiness: healthy once the server can serve callers; a gateway without upstreams never is).
import { spawn } from "node:child_process";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, runCommand, stopProcess, waitForHealthz } from "./processes.js";
import { root, servers } from "./workspace.js";

const dockerfile = readFileSync(join(root, "deploy/docker/Dockerfile"), "utf8");

// One turbo cache for the five builds (as a CI's shared cache mount would be): the first builds compile the
// platform packages inside their pruned workspace, the later ones replay those and compile only their
// own server. Each build still runs every RUN line, and every server package is compiled in its prune.
const turboCache = mkdtempSync(join(tmpdir(), "toolshed-docker-turbo-"));
afterAll(() => rmSync(turboCache, { recursive: true, force: true }));

interface Instruction {
  op: string;
  args: string;
}

/** Instructions per stage name, with line continuations joined and comments dropped. */
function stages(): Map<string, Instruction[]> {
  const text = dockerfile.replace(/\\\n/g, " ");
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line || line.startsWith("#")) continue;
    const [op = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op === "FROM") {
      current = [];
      out.set(/ AS (\S+)$/i.exec(line)?.[1] ?? `stage${out.size}`, current);
    }
    current.push({ op, args });
  }
  return out;
}

describe("deploy/docker/Dockerfile", () => {
  const all = stages();
  const runtime = all.get("runtime") ?? [];
  const find = (op: string) => runtime.filter((i) => i.op === op).map((i) => i.args);

  it("is multi-stage on Node 22 slim with ARG SERVER, and runs as a non-root user", () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m);
    expect([...all.keys()]).toEqual(["base", "prune", "build", "runtime"]);
    for (const stage of ["prune", "build", "runtime"]) {
      expect(
        all.get(stage)?.some((i) => i.op === "ARG" && i.args === "SERVER"),
        stage,
      ).toBe(true);
    }
    expect(find("USER")).toEqual(["node"]);
  });

  it("health-checks readiness through node (no curl) and serves HTTP on 0.0.0.0:8080 by default", () => {
    const health = find("HEALTHCHECK")[0] ?? "";
    expect(health).toMatch(/CMD \["node", "-e", .*\/readyz/);
    expect(dockerfile).not.toMatch(/\bcurl\b|\bwget\b/);
    expect(find("CMD")).toEqual(['["--transport", "http", "--host", "0.0.0.0", "--port", "8080"]']);
    expect(find("EXPOSE")).toEqual(["8080"]);
  });

  it("has a .dockerignore that keeps node_modules, dist and secrets out of the context", () => {
    const ignore = readFileSync(join(root, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["**/node_modules", "**/dist", ".git", ".env"]) expect(ignore).toContain(entry);
  });

  // Two servers at a time (the deploy project's maxConcurrency): each build is mostly one busy core
  // (tsc, node) and waits on the disk, so a pair keeps both cores of a small CI machine working.
  describe.concurrent.each(servers().map((s) => [s.name] as const))("built for SERVER=%s", (server) => {
    const tmp = mkdtempSync(join(tmpdir(), `toolshed-docker-${server}-`));
    const children: ReturnType<typeof spawn>[] = [];
    afterAll(async () => {
      await Promise.all(children.map((c) => stopProcess(c)));
      rmSync(tmp, { recursive: true, force: true });
    });

    /** Container paths the RUN lines use, mapped to this machine. */
    let store = "";
    const mapPath = (s: string) =>
      s
        .replace(/(^|[\s"'=])\/pnpm\/store\b/g, `$1${store}`)
        .replace(/(^|[\s"'=])\/(out|app)\b/g, `$1${tmp}/$2`);

    function shims(): string {
      const bin = join(tmp, "bin");
      mkdirSync(bin, { recursive: true });
      const shim = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };
      shim("pnpm", 'exec npx -y pnpm@10.34.8 "$@"');
      shim("turbo", `exec ${join(root, "node_modules/.bin/turbo")} "$@"`);
      return bin;
    }

    it("prunes, installs frozen, builds and answers /healthz with the image's CMD", async () => {
      store = (await runCommand("npx", ["-y", "pnpm@10.34.8", "store", "path"])).stdout.trim();
      expect(store, "pnpm store path").not.toBe("");
      const env = {
        ...process.env,
        SERVER: server,
        CI: "true",
        TURBO_CACHE_DIR: turboCache,
        PATH: `${shims()}:${process.env.PATH ?? ""}`,
      };
      for (const stage of ["prune", "build"]) {
        let cwd = root;
        for (const { op, args } of all.get(stage) ?? []) {
          if (op === "WORKDIR") {
            cwd = args === "/repo" ? root : mapPath(args);
            mkdirSync(cwd, { recursive: true });
          } else if (op === "COPY" && args !== ". .") {
            const m = /^(?:--from=(\S+) )?(\S+) (\S+)$/.exec(args);
            expect(m, `COPY ${args}`).not.toBeNull();
            const [, from, src = "", dest = ""] = m!;
            const source = from ? mapPath(src) : join(root, src);
            // As in Docker: a file copied to "dir/" or "." keeps its name; a directory's contents merge.
            const target =
              statSync(source).isFile() && /(\/|^\.)$/.test(dest)
                ? join(cwd, dest, basename(src))
                : join(cwd, dest);
            cpSync(source, target, { recursive: true });
          } else if (op === "RUN") {
            const command = mapPath(args.replace(/--mount=\S+\s+/g, ""));
            const r = await runCommand("sh", ["-c", command], { cwd, env, timeoutMs: 240_000 });
            expect(r.status, `RUN ${command}\n${r.stdout}\n${r.stderr}`).toBe(0);
          }
        }
      }
      // The prod install left no dev-only tools behind, and the entry point resolves.
      expect(readFileSync(join(tmp, "app/server.js"), "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");

      const cmd = JSON.parse(find("CMD")[0] ?? "[]") as string[];
      const dataDir = join(tmp, "data");
      const runEnv = {
        ...process.env,
        NODE_ENV: "production",
        TOOLSHED_DATA_DIR: dataDir,
        TOOLSHED_LOG_LEVEL: "warn",
      };
      const argsFor = (port: number) => cmd.map((a) => (a === "8080" ? String(port) : a));

      // Beyond loopback without credentials the server refuses to start: the image needs keys (or an opt-out).
      const refused = await runCommand("node", [join(tmp, "app/server.js"), ...argsFor(await freePort())], {
        env: runEnv,
      });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/insecure-no-auth/);

      // A free port can be taken by a parallel test before the server binds it: then try another.
      let port = 0;
      for (let attempt = 1; ; attempt++) {
        port = await freePort();
        const child = spawn("node", [join(tmp, "app/server.js"), ...argsFor(port)], {
          env: { ...runEnv, TOOLSHED_API_KEYS: `docker-test:${"a".repeat(64)}:read` },
          stdio: ["ignore", "ignore", "pipe"],
        });
        children.push(child);
        try {
          await waitForHealthz(`http://127.0.0.1:${port}`, child);
          break;
        } catch (err) {
          if (attempt >= 3 || !/is in use/.test(String(err))) throw err;
        }
      }

      const health = /CMD \[(.*)\]$/.exec(find("HEALTHCHECK")[0] ?? "")?.[1] ?? "";
      const [node, ...hcArgs] = JSON.parse(`[${health.replace(/8080/g, String(port))}]`) as string[];
      const check = async () => (await runCommand(node!, hcArgs, { timeoutMs: 10_000 })).status;
      if (server === "gateway") {
        // No config mounted: up, but it serves nothing, so not healthy (/readyz says what to add).
        expect(await check()).toBe(1);
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.text()).toMatch(/no upstreams configured/);
        return;
      }
      // Healthy within the image's start period (20 s), as Docker would wait for it.
      const deadline = Date.now() + 20_000;
      let status = await check();
      while (status !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        status = await check();
      }
      expect(status).toBe(0);
    }, 300_000);
  });
});
