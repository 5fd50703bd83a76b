#!/usr/bin/env node
// Brings every server up over Streamable HTTP on embedded defaults (no Docker, no database server,
// no tokens): each servers/* package with a bin, plus the kit's fixture server as a demo.
// Ports start at TOOLSHED_BASE_PORT (3000). Ctrl-C stops them all gracefully.
// A server whose package.json has `toolshed.devUpstream` (example-api) gets that upstream started
// too, on a port from TOOLSHED_UPSTREAM_BASE_PORT (4010), with a fresh token it is pointed at.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const basePort = Number(process.env.TOOLSHED_BASE_PORT ?? 3000);
const host = process.env.TOOLSHED_HOST ?? "127.0.0.1";

function bins() {
  const found = [];
  const dirs = [
    ...readdirSync(join(root, "servers"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(root, "servers", d.name)),
    join(root, "packages/testing/fixtures/everything"),
  ];
  for (const dir of dirs) {
    const pkgPath = join(dir, "package.json");
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
    const bin = typeof pkg.bin === "string" ? pkg.bin : Object.values(pkg.bin ?? {})[0];
    if (bin) found.push({ name: pkg.name, bin: join(dir, bin), dir, upstream: pkg.toolshed?.devUpstream });
  }
  return found;
}

const children = [];
let stopping = false;
const servers = bins();
let upstreamPort = Number(process.env.TOOLSHED_UPSTREAM_BASE_PORT ?? 4010);

/** Starts a server's dev upstream; returns the env that points the server at it. */
function startUpstream(short, dir, spec) {
  const port = upstreamPort++;
  const token = randomBytes(16).toString("hex");
  const fill = (v) => v.replaceAll("{port}", String(port)).replaceAll("{token}", token);
  const child = spawn(process.execPath, [join(dir, spec.bin), ...spec.args.map(fill)], {
    stdio: ["ignore", "inherit", "pipe"],
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, fill(v)])),
    },
  });
  watch(child, `${short} upstream`);
  process.stdout.write(`${`${short} upstream`.padEnd(18)} http://${host}:${port}   (${spec.description})\n`);
  return Object.fromEntries(Object.entries(spec.serverEnv ?? {}).map(([k, v]) => [k, fill(v)]));
}

function watch(child, short) {
  child.stderr.setEncoding("utf8").on("data", (chunk) => {
    for (const line of chunk.split("\n").filter(Boolean)) process.stderr.write(`[${short}] ${line}\n`);
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`[${short}] exited (${signal ?? code}); stopping the others\n`);
      stop(1);
    }
  });
  children.push(child);
}

servers.forEach(({ name, bin, dir, upstream }, i) => {
  const port = basePort + i;
  const short = name.replace(/^@toolshed\/(server-|fixture-)?/, "");
  const extraEnv = upstream && existsSync(join(dir, upstream.bin)) ? startUpstream(short, dir, upstream) : {};
  const child = spawn(
    process.execPath,
    [bin, "--transport", "http", "--host", host, "--port", String(port)],
    {
      stdio: ["ignore", "inherit", "pipe"],
      env: { ...process.env, ...extraEnv },
    },
  );
  watch(child, short);
  process.stdout.write(
    `${short.padEnd(18)} http://${host}:${port}/mcp   (health: /healthz, metrics: /metrics)\n`,
  );
});
process.stdout.write("Press Ctrl-C to stop.\n");

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  let left = children.filter((c) => c.exitCode === null).length;
  if (left === 0) process.exit(code);
  for (const child of children) child.once("exit", () => --left === 0 && process.exit(code));
  setTimeout(() => process.exit(code), 15_000).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
