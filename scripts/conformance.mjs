#!/usr/bin/env node
// Runs the official MCP conformance suites (on Node 22, fetched through npm) over Streamable HTTP on
// loopback, in three passes per server:
// - "0.1.16": @modelcontextprotocol/conformance@0.1.16's active suite (the 2025 protocol);
// - "2025-11-25" and "2026-07-28": the newest published suite with `--requirements <revision>`, i.e.
//   exactly what that revision requires (the suite runs but never scores extension and pending
//   scenarios; neither does this script).
// Against the kit's fixture server, which has every test tool, resource and prompt the suites call,
// every scored scenario must pass (no expected-failures file, nothing skipped). Against every server in servers/, on embedded
// defaults in a temp dir, the protocol scenarios that need no particular tool must pass: checks the
// suite reports as not testable (a missing diagnostic tool) or that concern a capability the server
// does not declare are not applicable; the rest name the fixture's test tools.
// Extensions are never in a requirement set: the 2026-07-28 pass runs the tasks extension's
// scenarios (io.modelcontextprotocol/tasks) without scoring them, so this script scores them on the
// fixture (running by name any the pass did not run); a scenario the suite itself skips is reported
// as skipped, not passed. Domain servers have none of
// the tools these scenarios call, so they run against the fixture only.
// The gateway runs every pass twice, in front of the fixture reached on 2026-07-28 and in front of
// the fixture as a 2025-only upstream, scored on the scenarios that pass through it
// (`--gateway-only` runs just those, for work on the gateway).
// Extra arguments go to the suite, e.g. `pnpm conformance --suite all` (then only the fixture runs,
// on 0.1.16, or on the newest suite when they contain --requirements).
// The fixture's passes, the servers', and each gateway's run side by side (a pass mostly waits), so
// the whole takes about as long as its longest group (113 s against 299 s one after another).
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
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = `${root}.test-results`;
mkdirSync(outDir, { recursive: true });
// `--gateway-only`: only the gateway passes (while working on the gateway).
const gatewayOnly = process.argv.includes("--gateway-only");
const extra = process.argv.slice(2).filter((a) => a !== "--gateway-only");

const LEGACY_SUITE = "@modelcontextprotocol/conformance@0.1.16";
const NEWEST_SUITE = "@modelcontextprotocol/conformance@0.2.0-alpha.12";

/**
 * The passes, each with the protocol scenarios every MCP server must pass whatever its tools (the
 * resources/prompts ones only when the server declares that capability).
 */
const SUITES = [
  {
    id: "0.1.16",
    pkg: LEGACY_SUITE,
    args: [],
    protocol: [
      "server-initialize",
      "logging-set-level",
      "ping",
      "tools-list",
      "resources-list",
      "prompts-list",
      "server-sse-multiple-streams",
      "dns-rebinding-protection",
    ],
  },
  {
    id: "2025-11-25",
    pkg: NEWEST_SUITE,
    args: ["--requirements", "2025-11-25"],
    protocol: [
      "server-initialize",
      "logging-set-level",
      "ping",
      "tools-list",
      "resources-list",
      "prompts-list",
      "server-sse-multiple-streams",
      "dns-rebinding-protection",
    ],
  },
  {
    id: "2026-07-28",
    pkg: NEWEST_SUITE,
    args: ["--requirements", "2026-07-28"],
    protocol: [
      "server-stateless",
      "tools-list",
      "resources-list",
      "prompts-list",
      "server-sse-multiple-streams",
      "dns-rebinding-protection",
      "caching",
      "sep-2164-resource-not-found",
      "input-required-result-unsupported-methods",
    ],
  },
];

/**
 * The tasks extension's scenarios (SEP-2663) in the newest suite, run one by one with --scenario.
 * Every one calls the fixture's test tools (slow_compute, greet, confirm_delete, failing_job, …), so
 * none applies to a domain server. tasks-status-notifications is skipped by the suite itself up to
 * 0.2.0-alpha.12 (pending a subscriptions/listen harness); the kit's notifications/tasks are covered
 * by packages/testing/test/task-notifications.test.ts until it runs.
 */
const TASK_SCENARIOS = [
  "tasks-lifecycle",
  "tasks-capability-negotiation",
  "tasks-wire-fields",
  "tasks-request-state-removal",
  "tasks-mrtr-input",
  "tasks-request-headers",
  "tasks-dispatch-and-envelope",
  "tasks-status-notifications",
  "tasks-required-task-error",
  "tasks-mrtr-composition",
];

/** Starts a server bin on a free loopback port; resolves with its /mcp URL once it listens. */
function startServer(name, bin, cwd, args = []) {
  const log = createWriteStream(`${outDir}/conformance-${name}.log`);
  const child = spawn(
    process.execPath,
    [bin, "--transport", "http", "--host", "127.0.0.1", "--port", "0", ...args],
    {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
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
  return { child, url, stderr: () => stderr };
}

/**
 * The PATH npx gives a suite (Node 22 and the suite's bin first), resolved once per suite package:
 * each of the two dozen runs would otherwise pay npx's own resolution (2-3 s each on this machine).
 * Undefined when it cannot be read; the run then goes through npx as before.
 */
const suitePaths = new Map();
function suitePath(pkg) {
  if (!suitePaths.has(pkg)) {
    suitePaths.set(
      pkg,
      new Promise((resolve) => {
        const probe = spawn(
          "npx",
          ["-y", "-p", "node@22", "-p", pkg, "--", "node", "-e", "process.stdout.write(process.env.PATH)"],
          { stdio: ["ignore", "pipe", "ignore"] },
        );
        let out = "";
        probe.stdout.setEncoding("utf8").on("data", (chunk) => (out += chunk));
        probe.once("error", () => resolve(undefined));
        probe.once("exit", (code) => {
          const bins = out.split(":").filter((dir) => existsSync(join(dir, "conformance")));
          resolve(code === 0 && bins.length ? out : undefined);
        });
      }),
    );
  }
  return suitePaths.get(pkg);
}

/**
 * Runs one suite against `url`; resolves with its exit code, the scored per-scenario verdicts (each
 * with its checks from the suite's checks.json) and the totals over scored scenarios.
 */
async function runSuite(name, url, suite, args, echo) {
  const dir = `${outDir}/conformance/${name}/${suite.id}`;
  rmSync(dir, { recursive: true, force: true });
  const suiteArgs = [
    "-y",
    "-p",
    "node@22",
    "-p",
    suite.pkg,
    "--",
    "conformance",
    "server",
    "--url",
    url,
    "-o",
    dir,
    ...args,
  ];
  process.stdout.write(`conformance: running ${suite.id} against ${name} at ${url}\n`);
  const started = Date.now();
  const path = await suitePath(suite.pkg);
  const child = path
    ? spawn("conformance", suiteArgs.slice(suiteArgs.indexOf("--") + 2), {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PATH: path },
      })
    : spawn("npx", suiteArgs, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  // Echoed whole lines only: the other groups of passes write their lines meanwhile.
  let echoed = 0;
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    out += chunk;
    const end = out.lastIndexOf("\n") + 1;
    if (echo && end > echoed) {
      process.stdout.write(out.slice(echoed, end));
      echoed = end;
    }
  });
  // npm's engine warnings and the like; shown only when the suite fails to report.
  child.stderr.setEncoding("utf8").on("data", (chunk) => (err += chunk));
  const watchdog = setTimeout(() => child.kill("SIGTERM"), 15 * 60_000);
  const code = await new Promise((resolve) =>
    child.once("close", (c, signal) => resolve(c ?? (signal ? 1 : 0))),
  );
  clearTimeout(watchdog);
  if (echo && out.length > echoed) process.stdout.write(`${out.slice(echoed)}\n`);
  const unscored = new Set(
    [...(out.split(/^Not scored for /m)[1] ?? "").matchAll(/^\s+[✓✗] (\S+) \(/gm)].map((m) => m[1]),
  );
  const checks = checksByScenario(dir);
  const scenarios = {};
  for (const m of out.matchAll(/^([✓✗]) (\S+): (\d+) passed, (\d+) failed/gm)) {
    if (unscored.has(m[2])) continue;
    scenarios[m[2]] = {
      ok: m[1] === "✓",
      passed: Number(m[3]),
      failed: Number(m[4]),
      checks: checks[m[2]] ?? [],
    };
  }
  // One scenario run by name prints no summary line: its verdict comes from its checks.json.
  if (args.includes("--scenario")) {
    for (const [scenario, list] of Object.entries(checks)) scenarios[scenario] = verdictOf(list);
  }
  // What the suite ran but does not score (extensions, pending): the caller may score it.
  const unscoredVerdicts = Object.fromEntries(
    [...unscored].filter((s) => checks[s]).map((s) => [s, verdictOf(checks[s])]),
  );
  if (!Object.keys(scenarios).length) process.stderr.write(err.slice(-2000));
  return { code, scenarios, unscored: unscoredVerdicts, seconds: Math.round((Date.now() - started) / 1000) };
}

/** A scenario's verdict from its checks: failed checks fail it; all checks SKIPPED is the suite's own skip. */
function verdictOf(list) {
  const count = (status) => list.filter((c) => c.status === status).length;
  return {
    ok: count("FAILURE") === 0,
    passed: count("SUCCESS"),
    failed: count("FAILURE"),
    skipped: list.length > 0 && count("SKIPPED") === list.length,
    checks: list,
  };
}

/** The suite's checks.json files under `dir`, by scenario (directories are server-<scenario>-<time>). */
function checksByScenario(dir) {
  const result = {};
  if (!existsSync(dir)) return result;
  for (const entry of readdirSync(dir)) {
    const m = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(entry);
    const file = join(dir, entry, "checks.json");
    if (m && existsSync(file)) result[m[1]] = JSON.parse(readFileSync(file, "utf8"));
  }
  return result;
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

/**
 * The failed checks of a domain server's scenario that count: not those the suite could not test (it
 * says so: a diagnostic tool only the fixture has), nor those about a capability the server lacks.
 */
function failedChecks(scenario, caps) {
  return scenario.checks.filter((c) => {
    if (c.status !== "FAILURE") return false;
    if (c.details?.untestable || /^Not testable/.test(c.errorMessage ?? "")) return false;
    if (!caps.prompts && /prompts/.test(c.id)) return false;
    if (!caps.resources && /resources/.test(c.id)) return false;
    return true;
  });
}

/** Whether a server offers the tasks extension (its 2026-07-28 `server/discover` lists it). */
async function offersTasks(url) {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "server/discover",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "server/discover",
      params: {
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientCapabilities": {},
          "io.modelcontextprotocol/clientInfo": { name: "conformance-probe", version: "0" },
        },
      },
    }),
  });
  const text = await res.text();
  const json = text.startsWith("{") ? text : (/^data: (\{.*)$/m.exec(text)?.[1] ?? "{}");
  return JSON.parse(json).result?.capabilities?.extensions?.["io.modelcontextprotocol/tasks"] !== undefined;
}

/**
 * The suite's tasks scenarios drive test tools only the fixture has (slow_compute, greet, …). On a
 * domain server a check that needed one cannot apply: it fails naming the unknown tool (or the
 * -32602 a call of it gets), or says it was not testable because such a step came first.
 */
const TASK_FIXTURE_TOOLS =
  /'(slow_compute|greet|failing_job|protocol_error_job|test_tool_with_task|confirm_delete|multi_input)'|tools\/call for (slow_compute|greet|failing_job|protocol_error_job|test_tool_with_task|confirm_delete|multi_input) returned error code -32602|fixture from Check \d+ unavailable|^Not testable/;

/** A domain server's checks of the tasks scenarios: those that apply, and those that passed. */
function applicableTaskChecks(unscored) {
  const applicable = [];
  for (const scenario of TASK_SCENARIOS) {
    for (const check of unscored[scenario]?.checks ?? []) {
      if (check.status === "SKIPPED") continue;
      if (check.status === "FAILURE" && TASK_FIXTURE_TOOLS.test(check.errorMessage ?? "")) continue;
      applicable.push({ scenario, ...check });
    }
  }
  return applicable;
}

function serverBins() {
  return readdirSync(join(root, "servers"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, "servers", d.name, "package.json")))
    .map((d) => {
      const dir = join(root, "servers", d.name);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      const bin = typeof pkg.bin === "string" ? pkg.bin : Object.values(pkg.bin ?? {})[0];
      // The gateway needs upstreams: it runs below, in front of the fixture.
      if (pkg.toolshed?.gateway) return undefined;
      return bin ? { name: d.name, bin: join(dir, bin) } : undefined;
    })
    .filter(Boolean);
}

/**
 * The scenarios that must pass through the gateway with the fixture as its upstream (mounted at the
 * gateway's root, so the suite's tool, resource and prompt names are the fixture's): the fixture's
 * own. Questions to the user, log notifications during a call, completions and resource
 * subscriptions pass through (servers/gateway/README.md).
 */
const GATEWAY_SCENARIOS_2025 = [
  "server-initialize",
  "logging-set-level",
  "ping",
  "tools-list",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-error",
  "tools-call-with-progress",
  "tools-call-with-logging",
  "tools-call-sampling",
  "tools-call-elicitation",
  "elicitation-sep1034-defaults",
  "elicitation-sep1330-enums",
  "server-sse-multiple-streams",
  "resources-list",
  "resources-read-text",
  "resources-read-binary",
  "resources-templates-read",
  "resources-subscribe",
  "resources-unsubscribe",
  "prompts-list",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-embedded-resource",
  "prompts-get-with-image",
  "completion-complete",
  "dns-rebinding-protection",
];

/** The 2026-07-28 scenarios that pass through whatever the upstream's era. */
const GATEWAY_SCENARIOS_2026_ANY_UPSTREAM = [
  "tools-list",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-error",
  "tools-call-with-progress",
  "server-sse-multiple-streams",
  "resources-list",
  "resources-read-text",
  "resources-read-binary",
  "resources-templates-read",
  "sep-2164-resource-not-found",
  "prompts-list",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-embedded-resource",
  "prompts-get-with-image",
  "completion-complete",
  "dns-rebinding-protection",
  "caching",
  "input-required-result-basic-sampling",
  "input-required-result-basic-list-roots",
  "input-required-result-request-state",
  "input-required-result-multiple-input-requests",
  "input-required-result-multi-round",
  "input-required-result-missing-input-response",
  "input-required-result-non-tool-request",
  "input-required-result-result-type",
  "input-required-result-unsupported-methods",
  "input-required-result-tampered-state",
  "input-required-result-capability-check",
  "input-required-result-ignore-extra-params",
  "input-required-result-validate-input",
];

const GATEWAY_SCENARIOS = {
  "0.1.16": GATEWAY_SCENARIOS_2025,
  "2025-11-25": GATEWAY_SCENARIOS_2025,
  "2026-07-28": [
    "server-stateless",
    ...GATEWAY_SCENARIOS_2026_ANY_UPSTREAM,
    "input-required-result-basic-elicitation",
  ],
};
const GATEWAY_NOT_APPLICABLE = {
  "0.1.16": [],
  "2025-11-25": [],
  "2026-07-28": [],
};

async function stop(server) {
  server.child.kill("SIGTERM");
  await new Promise((resolve) =>
    server.child.exitCode !== null ? resolve() : server.child.once("exit", resolve),
  );
}

const report = { passed: 0, failed: 0, fixture: {}, servers: {} };
let ok = true;
const started = Date.now();

// Four groups side by side, each a run of passes one after another: the fixture's, the servers', and
// the gateway's in front of each era of upstream. A pass mostly waits (on its scenarios' timeouts and on the server), so the groups
// overlap instead of adding up; passes against one server never run at once, so none sees another's
// state (tasks, subscriptions, log levels).
async function fixtureGroup() {
  const server = startServer("fixture", `${root}packages/testing/fixtures/everything/dist/bin.js`, root);
  try {
    const url = await server.url;
    const passes = extra.length
      ? [{ ...(extra.includes("--requirements") ? SUITES[2] : SUITES[0]), id: "custom", args: extra }]
      : SUITES.map((s) => ({ ...s }));
    let modern;
    for (const suite of passes) {
      const r = await runSuite("fixture", url, suite, suite.args, true);
      if (suite.id === "2026-07-28") modern = r;
      let passed = 0;
      let failed = 0;
      const failing = [];
      for (const [name, v] of Object.entries(r.scenarios)) {
        passed += v.passed;
        failed += v.failed;
        if (!v.ok) failing.push(name);
      }
      const empty = Object.keys(r.scenarios).length === 0;
      report.passed += passed;
      report.failed += failed + (empty ? 1 : 0);
      report.fixture[suite.id] = { exitCode: r.code, passed, failed, failing, seconds: r.seconds };
      process.stdout.write(
        `conformance: fixture ${suite.id}: ${passed} checks passed, ${failed} failed` +
          (failing.length ? ` (FAILED: ${failing.join(", ")})` : "") +
          ` [${r.seconds}s]\n`,
      );
      if (empty) process.stderr.write(`conformance: ${suite.id} reported no scenarios for the fixture\n`);
      if (failed > 0 || empty) ok = false;
    }
    if (extra.length === 0) {
      // The tasks extension: every scenario must pass (or be skipped by the suite itself). The
      // 2026-07-28 pass runs them without scoring them; any it did not run is run here by name.
      const tasks = { passed: 0, failed: 0, failing: [], skippedBySuite: [], seconds: 0 };
      for (const scenario of TASK_SCENARIOS) {
        let v = modern?.unscored[scenario];
        if (!v) {
          const r = await runSuite("fixture", url, { id: `tasks/${scenario}`, pkg: NEWEST_SUITE }, [
            "--scenario",
            scenario,
          ]);
          tasks.seconds += r.seconds;
          v = r.scenarios[scenario];
        }
        if (v?.skipped) tasks.skippedBySuite.push(scenario);
        else if (!v || !v.ok) tasks.failing.push(scenario);
        tasks.passed += v?.passed ?? 0;
        tasks.failed += v ? v.failed : 1;
      }
      report.passed += tasks.passed;
      report.failed += tasks.failed;
      report.fixture.tasks = tasks;
      process.stdout.write(
        `conformance: fixture tasks extension: ${TASK_SCENARIOS.length - tasks.failing.length - tasks.skippedBySuite.length}/${TASK_SCENARIOS.length} scenarios passed, ${tasks.passed} checks` +
          (tasks.failing.length ? ` (FAILED: ${tasks.failing.join(", ")})` : "") +
          (tasks.skippedBySuite.length
            ? `; skipped by the suite itself: ${tasks.skippedBySuite.join(", ")}`
            : "") +
          ` [${tasks.seconds}s]\n`,
      );
      if (tasks.failing.length) ok = false;
    }
  } catch (err) {
    process.stderr.write(`conformance: ${err.message}\n`);
    report.failed += 1;
    ok = false;
  } finally {
    await stop(server);
  }
}

// Every server: the protocol scenarios of every pass, each counted as one test.
async function serversGroup() {
  for (const { name, bin } of serverBins()) {
    if (!existsSync(bin)) {
      process.stderr.write(`conformance: ${name} is not built (${bin}); run turbo run build\n`);
      report.failed += 1;
      ok = false;
      continue;
    }
    const cwd = mkdtempSync(join(tmpdir(), `toolshed-conformance-${name}-`));
    const server = startServer(name, bin, cwd);
    report.servers[name] = {};
    try {
      const url = await server.url;
      const caps = await capabilitiesOf(url);
      for (const suite of SUITES) {
        const scenarios = suite.protocol.filter(
          (s) =>
            (!/^(resources-list|sep-2164)/.test(s) || caps.resources) &&
            (s !== "prompts-list" || caps.prompts),
        );
        const r = await runSuite(name, url, suite, suite.args, false); // its output is in .test-results/conformance/
        const verdicts = Object.fromEntries(
          scenarios.map((s) => [
            s,
            r.scenarios[s] !== undefined && failedChecks(r.scenarios[s], caps).length === 0,
          ]),
        );
        const failedHere = scenarios.filter((s) => !verdicts[s]);
        report.passed += scenarios.length - failedHere.length;
        report.failed += failedHere.length;
        report.servers[name][suite.id] = verdicts;
        process.stdout.write(
          `conformance: ${name} ${suite.id}: ${scenarios.length - failedHere.length}/${scenarios.length} protocol scenarios passed` +
            (failedHere.length ? ` (FAILED: ${failedHere.join(", ")})` : "") +
            `; not applicable: ${suite.protocol.filter((x) => !scenarios.includes(x)).join(", ") || "none"} (capability not declared) and the tool-specific scenarios [${r.seconds}s]\n`,
        );
        if (failedHere.length) ok = false;
        // The tasks extension on a server that offers it: every check that does not need the
        // fixture's test tools (advertising, gating without the extension, removed methods, bad ids,
        // header checks, wire schemas), one test each.
        if (suite.id === "2026-07-28" && (await offersTasks(url))) {
          const checks = applicableTaskChecks(r.unscored);
          const failing = checks.filter((c) => c.status !== "SUCCESS");
          report.passed += checks.length - failing.length;
          report.failed += failing.length + (checks.length ? 0 : 1);
          report.servers[name].tasks = Object.fromEntries(
            checks.map((c) => [`${c.scenario}/${c.id}`, c.status === "SUCCESS"]),
          );
          process.stdout.write(
            `conformance: ${name} tasks extension: ${checks.length - failing.length}/${checks.length} applicable checks passed` +
              (failing.length
                ? ` (FAILED: ${failing.map((c) => `${c.scenario}/${c.id}: ${c.errorMessage ?? c.status}`).join("; ")})`
                : "") +
              "; the others drive the suite's test tools, which only the fixture has\n",
          );
          if (failing.length || !checks.length) ok = false;
        }
      }
    } catch (err) {
      process.stderr.write(`conformance: ${name}: ${err.message}\n`);
      report.failed += 1;
      ok = false;
    } finally {
      await stop(server);
      rmSync(cwd, { recursive: true, force: true });
    }
  }
}

/**
 * The gateway in front of the fixture, reached as a 2025-only upstream: the gateway's connection is
 * pinned to the 2025 handshake (`protocol: "2025"`), so the fixture is for it what a server that has
 * never heard of 2026-07-28 is (the fixture has no switch to serve 2025 alone, and the gateway's
 * traffic is the same: initialize, then 2025 requests and server-to-client requests over the
 * session). Both client eras reach it through the gateway. Not applicable, besides what the gateway
 * does not pass through at all (tasks are an unscored extension):
 * - input-required-result-basic-elicitation: the suite checks the input key the fixture chose
 *   (`user_name`); a 2025 `elicitation/create` carries no key, so the gateway names the question
 *   itself (`q1`). The answer still reaches the tool (the other input-required-result-* pass).
 * - server-stateless: its missing-capability checks call a tool that needs the caller's `sampling`
 *   capability; a 2025 upstream sees the capabilities the gateway declared once at its handshake (all
 *   three it relays), not each caller's, so it runs the tool and the gateway's relay answers the
 *   question with the caller's refusal instead of the -32021 the check wants.
 */
const GATEWAY_SCENARIOS_2025_UPSTREAM = {
  "0.1.16": GATEWAY_SCENARIOS_2025,
  "2025-11-25": GATEWAY_SCENARIOS_2025,
  "2026-07-28": GATEWAY_SCENARIOS_2026_ANY_UPSTREAM,
};
const GATEWAY_NOT_APPLICABLE_2025_UPSTREAM = {
  "0.1.16": [],
  "2025-11-25": [],
  "2026-07-28": [
    "input-required-result-basic-elicitation (a 2025 elicitation/create carries no input key)",
    "server-stateless (a 2025 upstream sees the gateway's capabilities, not each caller's)",
  ],
};

/**
 * The gateway in front of the fixture (mounted at the gateway's root, so the suite's names are the
 * fixture's): every pass, scored on `scenariosBySuite`; `notApplicable` (by suite id) is reported.
 */
async function gatewayPass(label, upstreamSpec, era, scenariosBySuite, notApplicable) {
  const gatewayBin = `${root}servers/gateway/dist/bin.js`;
  const cwd = mkdtempSync(join(tmpdir(), `toolshed-conformance-${label}-`));
  const fixture = startServer(
    `${label}-upstream`,
    `${root}packages/testing/fixtures/everything/dist/bin.js`,
    cwd,
  );
  let gateway;
  report.servers[label] = {};
  try {
    const upstream = await fixture.url;
    const config = join(cwd, "gateway.yaml");
    writeFileSync(
      config,
      `upstreams:\n  fixture:\n    url: ${upstream}\n    namespace: false\n${upstreamSpec}`,
    );
    gateway = startServer(label, gatewayBin, cwd, ["--config", config]);
    const url = await gateway.url;
    // Ready once the fixture is connected (the gateway connects in the background).
    for (let i = 0; i < 300; i++) {
      if ((await fetch(new URL("/readyz", url)).catch(() => undefined))?.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The era the gateway speaks to the fixture, from its log ("upstream 'fixture' ready"); the line
    // may reach this process a moment after /readyz turns ready.
    const eraLine = /"era":"(\w+)"[^\n]*upstream 'fixture' ready/;
    for (let i = 0; i < 100 && !eraLine.test(gateway.stderr()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const spoken = eraLine.exec(gateway.stderr())?.[1];
    if (spoken !== era) throw new Error(`the gateway reached the fixture on '${spoken}', not '${era}'`);
    for (const suite of SUITES) {
      const scenarios = scenariosBySuite[suite.id];
      const r = await runSuite(label, url, suite, suite.args, false);
      const verdicts = Object.fromEntries(scenarios.map((s) => [s, r.scenarios[s]?.ok === true]));
      const failedHere = scenarios.filter((s) => !verdicts[s]);
      report.passed += scenarios.length - failedHere.length;
      report.failed += failedHere.length;
      report.servers[label][suite.id] = verdicts;
      process.stdout.write(
        `conformance: ${label} ${suite.id}: ${scenarios.length - failedHere.length}/${scenarios.length} pass-through scenarios passed` +
          (failedHere.length ? ` (FAILED: ${failedHere.join(", ")})` : "") +
          (notApplicable[suite.id]?.length ? `; not applicable: ${notApplicable[suite.id].join("; ")}` : "") +
          ` [${r.seconds}s]\n`,
      );
      if (failedHere.length) ok = false;
      if (suite.id === "2026-07-28" && era === "modern") scoreGatewayTasks(label, r.unscored);
    }
  } catch (err) {
    process.stderr.write(`conformance: ${label}: ${err.message}\n`);
    report.failed += 1;
    ok = false;
  } finally {
    if (gateway) await stop(gateway);
    await stop(fixture);
    rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * The tasks extension through the gateway in front of a 2026-07-28 fixture: the upstream runs the
 * tasks, the gateway passes them through (its ids bound to the caller). The 2026-07-28 pass runs
 * these scenarios without scoring them; every one must pass here, or be skipped by the suite itself.
 */
function scoreGatewayTasks(label, unscored) {
  const failing = [];
  const skipped = [];
  let passed = 0;
  let failed = 0;
  for (const scenario of TASK_SCENARIOS) {
    const v = unscored[scenario];
    if (v?.skipped) skipped.push(scenario);
    else if (!v || !v.ok) failing.push(scenario);
    passed += v?.passed ?? 0;
    failed += v ? v.failed : 1;
  }
  report.passed += passed;
  report.failed += failed;
  report.servers[label].tasks = { passed, failed, failing, skippedBySuite: skipped };
  process.stdout.write(
    `conformance: ${label} tasks extension (passed through): ${TASK_SCENARIOS.length - failing.length - skipped.length}/${TASK_SCENARIOS.length} scenarios passed, ${passed} checks` +
      (failing.length ? ` (FAILED: ${failing.join(", ")})` : "") +
      (skipped.length ? `; skipped by the suite itself: ${skipped.join(", ")}` : "") +
      "\n",
  );
  if (failing.length) ok = false;
}

// The gateway in front of the fixture (its era probed: 2026-07-28), and in front of the fixture as a
// 2025-only upstream (each with a fixture of its own). `--gateway-only` runs just these two.
const runGateways = extra.length === 0 || gatewayOnly;
await Promise.all([
  gatewayOnly ? undefined : fixtureGroup(),
  extra.length === 0 && !gatewayOnly ? serversGroup() : undefined,
  runGateways ? gatewayPass("gateway", "", "modern", GATEWAY_SCENARIOS, GATEWAY_NOT_APPLICABLE) : undefined,
  runGateways
    ? gatewayPass(
        "gateway-2025-upstream",
        '    protocol: "2025"\n',
        "legacy",
        GATEWAY_SCENARIOS_2025_UPSTREAM,
        GATEWAY_NOT_APPLICABLE_2025_UPSTREAM,
      )
    : undefined,
]);

report.seconds = Math.round((Date.now() - started) / 1000);
process.stdout.write(
  `conformance: ${report.passed} passed, ${report.failed} failed, in ${report.seconds}s\n`,
);
// A gateway-only run does not stand for the whole suite: its report goes beside the real one.
writeFileSync(
  `${outDir}/${gatewayOnly ? "conformance-gateway" : "conformance"}.json`,
  JSON.stringify(report, null, 2),
);
process.exit(ok ? 0 : 1);
