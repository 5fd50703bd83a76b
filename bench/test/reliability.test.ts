import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { procStat } from "../src/lib/children.js";
import { figuresOf } from "../src/reliability/run.js";
import { TARGETS } from "../src/reliability/targets.js";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/reliability.js", import.meta.url));

// The smoke mode runs the real suites (fuzz over stdio and HTTP, load, attacks; the faults have their
// own test file) with a thousand messages, into a temp folder: the committed results stay untouched.
// It runs on two servers (`--servers`): attacks.test.ts runs every server's attacks one by one, the
// test line fuzzes every server at the full count and the soak below loads every server at once, so
// this checks the whole pipeline (figures, verdict, RESULTS.md) without repeating those.
const SMOKE = ["everything", "example-api"];
describe("pnpm reliability --smoke", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-reliability-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it(
    "writes the issue's figures, all zero, and its RESULTS.md section",
    async () => {
      expect(existsSync(cli), `${cli} is missing; build first (turbo run build)`).toBe(true);
      const { stdout } = await run(
        process.execPath,
        [cli, "--smoke", "--servers", SMOKE.join(","), "--out", out],
        {
          timeout: 40_000 * SMOKE.length,
        },
      );
      expect(stdout).toContain("attacks_not_refused");

      const result = JSON.parse(await readFile(join(out, "results", "reliability.json"), "utf8"));
      for (const name of [
        "crashes",
        "unanswered_requests",
        "stdout_non_protocol_bytes",
        "load_errors",
        "attacks_not_refused",
      ]) {
        expect(result.figures[name], name).toBe(0);
      }
      // A thousand messages per transport for each server under test, and only the servers named.
      expect(result.samples.targets).toEqual(SMOKE);
      expect(result.figures.fuzz_stdio_messages_sent).toBe(1000 * result.samples.targets.length);
      expect(result.figures.fuzz_http_messages_sent).toBe(1000 * result.samples.targets.length);
      expect(result.figures.attacks_run).toBeGreaterThanOrEqual(10);
      expect(result.figures.load_calls_per_s).toBeGreaterThan(0);
      // The corpus must actually contain requests to answer, or "0 unanswered" would mean nothing.
      for (const f of result.samples.fuzz) expect(f.requests_expecting_answer).toBeGreaterThan(200);

      const md = await readFile(join(out, "RESULTS.md"), "utf8");
      expect(md).toContain("<!-- reliability:start -->");
      expect(md).toMatch(/\| `attacks_not_refused` +\| 0 /);
    },
    45_000 * SMOKE.length,
  );

  it("refuses an unknown server in --servers, naming the valid ones", async () => {
    const err = await run(process.execPath, [cli, "--smoke", "--servers", "everything,nope"]).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain(
      `unknown server 'nope'; --servers takes a comma-separated list of: ${TARGETS.map((t) => t.name).join(", ")}`,
    );
  });
});

// The test line runs `--fuzz` at the full count (100,000 messages a transport a server) on every
// server; here, its smoke on one server (scripts/test-summary.mjs checks the full run covered them all).
describe("pnpm reliability --fuzz --smoke", () => {
  it("fuzzes the named server over both transports and nothing else, every run to its count, all zero", async () => {
    const out = await mkdtemp(join(tmpdir(), "toolshed-fuzz-"));
    try {
      await run(process.execPath, [cli, "--fuzz", "--smoke", "--servers", "everything", "--out", out], {
        timeout: 60_000,
      });
      const result = JSON.parse(await readFile(join(out, "results", "reliability-fuzz.json"), "utf8"));
      expect(
        result.samples.fuzz.map((f: { target: string; transport: string }) => `${f.target} ${f.transport}`),
      ).toEqual(["everything stdio", "everything http"]);
      for (const f of result.samples.fuzz) {
        expect(f.messages_planned).toBe(1000);
        expect(f.messages_sent, `${f.target} ${f.transport}`).toBe(1000);
      }
      expect(result.samples.load).toEqual([]);
      expect(result.samples.attacks).toEqual([]);
      for (const name of ["crashes", "unanswered_requests", "stdout_non_protocol_bytes", "fuzz_runs_short"]) {
        expect(result.figures[name], name).toBe(0);
      }
      expect(await readFile(join(out, "RESULTS.md"), "utf8")).toContain("## reliability-fuzz:");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 70_000);

  it("stops the server under fuzz when it is stopped mid-run (SIGTERM)", async () => {
    const out = await mkdtemp(join(tmpdir(), "toolshed-fuzz-"));
    const child = spawn(
      process.execPath,
      [cli, "--fuzz", "--smoke", "--servers", "everything", "--out", out],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      // The HTTP run's server, a child of the run. (Not the stdio run's: that one would exit by itself
      // when its stdin closed with the run, killed or not.)
      let servers: number[] = [];
      for (let i = 0; i < 400 && servers.length < 1; i++) {
        await sleep(50);
        servers = childrenOf(child.pid!, "http");
      }
      expect(servers.length, `the run's children; its stderr: ${stderr}`).toBe(1);
      child.kill("SIGTERM");
      expect(await exited).toBe(143);
      expect(stderr).toContain("bench: SIGTERM, stopping the servers");
      let alive = servers;
      for (let i = 0; i < 100 && alive.length; i++) {
        await sleep(50);
        alive = alive.filter(running);
      }
      expect(alive, "servers still running after the run was stopped").toEqual([]);
    } finally {
      child.kill("SIGKILL");
      await rm(out, { recursive: true, force: true });
    }
  }, 30_000);

  it("counts a run that stopped on its time bound short of its count, which fails a fuzz run", () => {
    const run = (sent: number) => ({
      transport: "http" as const,
      target: "everything",
      seed: 1,
      messages_planned: 100,
      messages_sent: sent,
      bytes_sent: 0,
      seconds: 1,
      messages_per_s: sent,
      requests_expecting_answer: 0,
      unanswered_requests: 0,
      posts_without_response: 0,
      stdout_lines: 0,
      stdout_non_protocol_bytes: 0,
      crashes: 0,
      exit_code: 0,
      alive_after: true,
      by_kind: {},
      unanswered_examples: [],
    });
    const samples = {
      targets: ["everything"],
      fuzz: [run(100), run(99)],
      load: [],
      faults: [],
      attacks: [],
      soak: [],
    };
    expect(figuresOf(samples).fuzz_runs_short).toBe(1);
    expect(figuresOf({ ...samples, fuzz: [run(100)] }).fuzz_runs_short).toBe(0);
  });

  it("refuses --soak with --fuzz, saying why", async () => {
    const err = await run(process.execPath, [cli, "--fuzz", "--soak"]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/separate runs; give one of them/);
  });
});

describe("pnpm reliability --soak --smoke", () => {
  it("soaks every server at once and writes flat-or-not figures with the samples", async () => {
    const out = await mkdtemp(join(tmpdir(), "toolshed-soak-"));
    try {
      const { stdout } = await run(process.execPath, [cli, "--soak", "--smoke", "--out", out], {
        timeout: 90_000,
      });
      expect(stdout).toContain("soak_flat");
      const result = JSON.parse(await readFile(join(out, "results", "reliability-soak.json"), "utf8"));
      // On a failure, the errors' first messages tell a timeout on a loaded machine from a fault.
      const examples = (result.samples.soak as { target: string; error_examples: string[] }[]).flatMap((s) =>
        s.error_examples.map((e) => `${s.target}: ${e}`),
      );
      expect(result.figures.soak_errors, examples.join("\n")).toBe(0);
      expect(result.figures.crashes).toBe(0);
      expect(result.figures.soak_calls).toBeGreaterThan(0);
      expect(result.samples.soak.map((s: { target: string }) => s.target)).toEqual(result.samples.targets);
      for (const s of result.samples.soak) expect(s.samples.length).toBeGreaterThanOrEqual(4);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 100_000);
});

/** The pids whose parent is `pid` and whose command line contains `arg` (Linux /proc). */
function childrenOf(pid: number, arg: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && procStat(Number(name))?.[1] === String(pid))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").includes(arg);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Whether a process still runs (a zombie, killed and waiting to be reaped, does not). */
function running(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== "Z";
}
