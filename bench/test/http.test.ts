import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/http.js", import.meta.url));

// The smoke mode runs the real measurement (the upstream as a child process, all three clients)
// with a few hundred calls each, into a temp folder: the committed results stay untouched.
describe("bench:http --smoke", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-bench-http-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("writes the issue's figures as finite positive numbers, and its RESULTS.md section", async () => {
    expect(existsSync(cli), `${cli} is missing; build first (turbo run build)`).toBe(true);
    const { stdout } = await run(process.execPath, [cli, "--smoke", "--out", out], { timeout: 25_000 });
    expect(stdout).toContain("throughput_ratio_vs_undici");

    const result = JSON.parse(await readFile(join(out, "results", "http.json"), "utf8"));
    const names = ["throughput_ratio_vs_undici", "throughput_ratio_vs_fetch"];
    for (const client of ["toolshed", "undici", "fetch"]) {
      names.push(
        `${client}_calls_per_s`,
        `${client}_p50_ms`,
        `${client}_p99_ms`,
        `${client}_client_cpu_us_per_call`,
      );
    }
    for (const name of names) {
      const value: unknown = result.figures[name];
      expect(
        typeof value === "number" && Number.isFinite(value) && value > 0,
        `${name} = ${String(value)}`,
      ).toBe(true);
    }
    for (const client of ["toolshed", "undici", "fetch"])
      expect(result.samples.rounds[client][0].calls).toBe(300);
    expect(result.quick).toBe(false);
    expect(result.mode).toBe("smoke");

    const md = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(md).toContain("<!-- http:start -->");
    expect(md).toContain("<!-- http:end -->");
    expect(md).toMatch(
      new RegExp(`\\| \`throughput_ratio_vs_undici\` +\\| ${result.figures.throughput_ratio_vs_undici} `),
    );
  }, 30_000);
});
