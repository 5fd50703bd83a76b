#!/usr/bin/env node
// Brings every server up over Streamable HTTP on embedded defaults (no Docker, no database server,
// no tokens): each servers/* package with a bin, plus the kit's fixture server as a demo.
// Ports start at TOOLSHED_BASE_PORT (3000). Ctrl-C stops them all gracefully.
import { spawn } from "node:child_process";
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
    if (bin) found.push({ name: pkg.name, bin: join(dir, bin) });
  }
  return found;
}

const children = [];
let stopping = false;
const servers = bins();
servers.forEach(({ name, bin }, i) => {
  const port = basePort + i;
  const child = spawn(
    process.execPath,
    [bin, "--transport", "http", "--host", host, "--port", String(port)],
    {
      stdio: ["ignore", "inherit", "pipe"],
      env: process.env,
    },
  );
  const short = name.replace(/^@toolshed\/(server-|fixture-)?/, "");
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
