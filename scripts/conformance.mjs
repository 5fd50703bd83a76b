#!/usr/bin/env node
// Runs the official MCP conformance suite (@modelcontextprotocol/conformance@0.1.16, on Node 22
// fetched through npm) against the kit's fixture server over Streamable HTTP on loopback.
// Extra arguments go to the suite, e.g. `pnpm conformance --suite all`. No expected-failures file:
// any failure fails the run. Writes .test-results/conformance.json for the test summary.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync, createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = `${root}packages/testing/fixtures/everything/dist/bin.js`;
const outDir = `${root}.test-results`;
mkdirSync(outDir, { recursive: true });
const serverLog = createWriteStream(`${outDir}/conformance-server.log`);

const server = spawn(process.execPath, [bin, "--transport", "http", "--host", "127.0.0.1", "--port", "0"], {
  stdio: ["ignore", "ignore", "pipe"],
});
let stderr = "";
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("fixture server did not start within 30 s")), 30_000);
  server.stderr.setEncoding("utf8").on("data", (chunk) => {
    serverLog.write(chunk);
    stderr += chunk;
    const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
  server.once("exit", (code) => reject(new Error(`fixture server exited (${code}):\n${stderr}`)));
}).catch((err) => {
  process.stderr.write(`conformance: ${err.message}\n`);
  process.exit(1);
});

const args = [
  "-y",
  "-p",
  "node@22",
  "-p",
  "@modelcontextprotocol/conformance@0.1.16",
  "--",
  "conformance",
  "server",
  "--url",
  url,
  "-o",
  `${outDir}/conformance`,
  ...process.argv.slice(2),
];
process.stdout.write(`conformance: running the suite against ${url}\n`);
const suite = spawn("npx", args, { stdio: ["ignore", "pipe", "inherit"] });
let out = "";
suite.stdout.setEncoding("utf8").on("data", (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
const watchdog = setTimeout(() => suite.kill("SIGTERM"), 15 * 60_000);
const code = await new Promise((resolve) =>
  suite.once("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))),
);
clearTimeout(watchdog);
server.kill("SIGTERM");

const total = /Total: (\d+) passed, (\d+) failed/.exec(out);
const passed = total ? Number(total[1]) : 0;
const failed = total ? Number(total[2]) : 1;
writeFileSync(`${outDir}/conformance.json`, JSON.stringify({ passed, failed, exitCode: code, url }, null, 2));
if (!total) process.stderr.write("conformance: the suite printed no total; see the output above\n");
process.exit(code === 0 && total && failed === 0 ? 0 : 1);
