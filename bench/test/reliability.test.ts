import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TARGETS } from "../src/reliability/targets.js";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/reliability.js", import.meta.url));

// The smoke mode runs the real suites (fuzz over stdio and HTTP, load, attacks; the faults have their
// own test file) with a thousand messages, into a temp folder: the committed results stay untouched.
describe("pnpm reliability --smoke", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-reliability-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  // Every target in TARGETS is started several times (each server's first start includes its setup).
  it("writes the issue's figures, all zero, and its RESULTS.md section", async () => {
    expect(existsSync(cli), `${cli} is missing; build first (turbo run build)`).toBe(true);
    const { stdout } = await run(process.execPath, [cli, "--smoke", "--out", out], { timeout: 88_000 });
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
    // 1,000 fuzz messages per target and transport.
    expect(result.figures.fuzz_stdio_messages_sent).toBe(1000 * TARGETS.length);
    expect(result.figures.fuzz_http_messages_sent).toBe(1000 * TARGETS.length);
    expect(result.figures.attacks_run).toBeGreaterThanOrEqual(10);
    expect(result.figures.load_calls_per_s).toBeGreaterThan(0);
    // The corpus must actually contain requests to answer, or "0 unanswered" would mean nothing.
    for (const f of result.samples.fuzz) expect(f.requests_expecting_answer).toBeGreaterThan(200);

    const md = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(md).toContain("<!-- reliability:start -->");
    expect(md).toMatch(/\| `attacks_not_refused` +\| 0 /);
  }, 90_000);
});
