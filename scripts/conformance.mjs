#!/usr/bin/env node
// Runs the official MCP conformance suite (@modelcontextprotocol/conformance@0.1.16, on Node 22
// fetched through npm) over Streamable HTTP on loopback:
// - against the kit's fixture server, which has the suite's test tools, resources and prompts:
//   every active scenario must pass (no expected-failures file);
// - against every server in servers/, on embedded defaults in a temp dir: the protocol scenarios
//   that need no particular tool (initialize, ping, logging, tools/resources/prompts lists, SSE
//   streams, DNS-rebinding protection) must pass; the rest name the fixture's test tools, so they
//   are reported as not applicable.
// Extra arguments go to the suite, e.g. `pnpm conformance --suite all` (then only the fixture runs).
// Writes .test-results/conformance.json for the test summary.
import { spawn } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = `${root}.test-results`;
mkdirSync(outDir, { recursive: true });
const extra = process.argv.slice(2);

/** Scenarios every MCP server must pass whatever its tools. */
const PROTOCOL_SCENARIOS = [
  "server-initialize",
  "logging-set-level",
  "ping",
  "tools-list",
  "resources-list",
  "prompts-list",
  "server-sse-multiple-streams",
  "dns-rebinding-protection",
];

/** Starts a server bin on a free loopback port; resolves with its /mcp URL once it listens. */
function startServer(name, bin, cwd) {
  const log = createWriteStream(`${outDir}/conformance-${name}.log`);
  const child = spawn(process.execPath, [bin, "--transport", "http", "--host", "127.0.0.1", "--port", "0"], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      log.write(chunk);
      stderr += chunk;
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}):\n${stderr.slice(-2000)}`)));
  });
  return { child, url };
}

/** Runs the suite against `url`; resolves with its exit code and per-scenario verdicts. */
async function runSuite(name, url, args, echo) {
  const suiteArgs = [
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
    `${outDir}/conformance/${name}`,
    ...args,
  ];
  process.stdout.write(`conformance: running the suite against ${name} at ${url}\n`);
  const suite = spawn("npx", suiteArgs, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  suite.stdout.setEncoding("utf8").on("data", (chunk) => {
    out += chunk;
    if (echo) process.stdout.write(chunk);
  });
  const watchdog = setTimeout(() => suite.kill("SIGTERM"), 15 * 60_000);
  const code = await new Promise((resolve) =>
    suite.once("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))),
  );
  clearTimeout(watchdog);
  const scenarios = {};
  for (const m of out.matchAll(/^([✓✗]) (\S+): (\d+) passed, (\d+) failed/gm)) {
    scenarios[m[2]] = { ok: m[1] === "✓", passed: Number(m[3]), failed: Number(m[4]) };
  }
  const total = /Total: (\d+) passed, (\d+) failed/.exec(out);
  return {
    code,
    scenarios,
    total: total ? { passed: Number(total[1]), failed: Number(total[2]) } : undefined,
  };
}

/** The capabilities a server declares at initialize (its resources and prompts scenarios apply only if declared). */
async function capabilitiesOf(url) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "conformance-probe", version: "0" },
      },
    }),
  });
  const text = await res.text();
  // JSON, or SSE whose first event may be an empty priming event.
  const json = text.startsWith("{") ? text : (/^data: (\{.*)$/m.exec(text)?.[1] ?? "{}");
  const session = res.headers.get("mcp-session-id");
  if (session) await fetch(url, { method: "DELETE", headers: { "mcp-session-id": session } }).catch(() => {});
  return JSON.parse(json).result?.capabilities ?? {};
}

function serverBins() {
  return readdirSync(join(root, "servers"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, "servers", d.name, "package.json")))
    .map((d) => {
      const dir = join(root, "servers", d.name);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      const bin = typeof pkg.bin === "string" ? pkg.bin : Object.values(pkg.bin ?? {})[0];
      return bin ? { name: d.name, bin: join(dir, bin) } : undefined;
    })
    .filter(Boolean);
}

const report = { passed: 0, failed: 0, fixture: undefined, servers: {} };
let ok = true;

// The fixture: the whole active suite (or what the extra arguments ask for).
{
  const server = startServer("fixture", `${root}packages/testing/fixtures/everything/dist/bin.js`, root);
  try {
    const url = await server.url;
    const r = await runSuite("fixture", url, extra, true);
    report.passed += r.total?.passed ?? 0;
    report.failed += r.total ? r.total.failed : 1;
    report.fixture = { exitCode: r.code, ...r.total };
    if (!r.total) process.stderr.write("conformance: the suite printed no total for the fixture\n");
    if (r.code !== 0 || !r.total || r.total.failed > 0) ok = false;
  } catch (err) {
    process.stderr.write(`conformance: ${err.message}\n`);
    report.failed += 1;
    ok = false;
  } finally {
    server.child.kill("SIGTERM");
  }
}

// Every server: the protocol scenarios, each counted as one test.
if (extra.length === 0) {
  for (const { name, bin } of serverBins()) {
    if (!existsSync(bin)) {
      process.stderr.write(`conformance: ${name} is not built (${bin}); run turbo run build\n`);
      report.failed += 1;
      ok = false;
      continue;
    }
    const cwd = mkdtempSync(join(tmpdir(), `toolshed-conformance-${name}-`));
    const server = startServer(name, bin, cwd);
    try {
      const url = await server.url;
      // A server that declares no resources (or prompts) need not answer resources/list (prompts/list).
      const caps = await capabilitiesOf(url);
      const scenarios = PROTOCOL_SCENARIOS.filter(
        (s) => (s !== "resources-list" || caps.resources) && (s !== "prompts-list" || caps.prompts),
      );
      const r = await runSuite(name, url, [], false); // its own output is in .test-results/conformance/
      const verdicts = Object.fromEntries(scenarios.map((s) => [s, r.scenarios[s]?.ok === true]));
      const failedHere = scenarios.filter((s) => !verdicts[s]);
      report.passed += scenarios.length - failedHere.length;
      report.failed += failedHere.length;
      report.servers[name] = { protocolScenarios: verdicts };
      process.stdout.write(
        `conformance: ${name}: ${scenarios.length - failedHere.length}/${scenarios.length} protocol scenarios passed` +
          (failedHere.length ? ` (FAILED: ${failedHere.join(", ")})` : "") +
          `; not applicable: ${PROTOCOL_SCENARIOS.filter((x) => !scenarios.includes(x)).join(", ") || "none"} (capability not declared) and the tool-specific scenarios (they need the fixture's test tools)\n`,
      );
      if (failedHere.length) ok = false;
    } catch (err) {
      process.stderr.write(`conformance: ${name}: ${err.message}\n`);
      report.failed += PROTOCOL_SCENARIOS.length;
      ok = false;
    } finally {
      server.child.kill("SIGTERM");
      await new Promise((resolve) =>
        server.child.exitCode !== null ? resolve() : server.child.once("exit", resolve),
      );
      rmSync(cwd, { recursive: true, force: true });
    }
  }
}

writeFileSync(`${outDir}/conformance.json`, JSON.stringify(report, null, 2));
process.exit(ok ? 0 : 1);
