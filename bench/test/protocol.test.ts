import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replaceSection } from "../src/lib/results.js";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/protocol.js", import.meta.url));

// The smoke mode runs the real measurement (both servers as child processes, both transports, both
// protocol eras) with a few hundred calls, into a temp folder: the committed results stay untouched.
describe("bench:protocol --smoke", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-bench-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("writes the issue's figures as finite positive numbers, and its RESULTS.md section", async () => {
    expect(existsSync(cli), `${cli} is missing; build first (turbo run build)`).toBe(true);
    const { stdout } = await run(process.execPath, [cli, "--smoke", "--out", out], { timeout: 80_000 });
    expect(stdout).toContain("http_2026_ratio_vs_bare");

    const result = JSON.parse(await readFile(join(out, "results", "protocol.json"), "utf8"));
    const names = ["http_2026_vs_2025_throughput", "stdio_2026_vs_2025_throughput"];
    for (const lane of ["http_2026", "http_2025", "stdio_2026", "stdio_2025"]) {
      names.push(`${lane}_ratio_vs_bare`);
      for (const side of ["kit", "bare"]) {
        names.push(`${lane}_${side}_calls_per_s`, `${lane}_${side}_p50_ms`, `${lane}_${side}_p99_ms`);
      }
    }
    for (const name of names) {
      const value: unknown = result.figures[name];
      expect(
        typeof value === "number" && Number.isFinite(value) && value > 0,
        `${name} = ${String(value)}`,
      ).toBe(true);
    }
    for (const lane of ["http_2026", "http_2025", "stdio_2026", "stdio_2025"]) {
      expect(result.samples[lane].kit[0].calls, lane).toBe(300);
      expect(result.samples[lane].bare[0].calls, lane).toBe(300);
    }
    // The bare SDK server logs nothing; the kit runs at its default level (info), where successful
    // calls are counted in metrics and logged only at debug.
    expect(result.samples.stdio_2025.bare[0].server_log_bytes_per_call).toBe(0);
    expect(result.samples.stdio_2026.kit[0].server_log_bytes_per_call).toBe(0);
    expect(result.quick).toBe(false);

    const md = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(md).toContain("<!-- protocol:start -->");
    expect(md).toMatch(
      new RegExp(`\\| \`http_2026_ratio_vs_bare\` +\\| ${result.figures.http_2026_ratio_vs_bare} `),
    );
  }, 90_000);
});

describe("replaceSection", () => {
  it("rewrites its own section in place and leaves the others alone", () => {
    const first = replaceSection(undefined, "protocol", "old numbers");
    const withOther = replaceSection(first, "other", "kept");
    const updated = replaceSection(withOther, "protocol", "new numbers");
    expect(updated).toContain("new numbers");
    expect(updated).not.toContain("old numbers");
    expect(updated).toContain("kept");
    expect(updated.match(/<!-- protocol:start -->/g)).toHaveLength(1);
    expect(updated.indexOf("protocol:start")).toBeLessThan(updated.indexOf("other:start"));
  });
});
