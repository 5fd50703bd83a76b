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

// The smoke mode runs the real measurement (both servers as child processes, both transports) with a
// few hundred calls, into a temp folder: the committed results stay untouched.
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
    const { stdout } = await run(process.execPath, [cli, "--smoke", "--out", out], { timeout: 25_000 });
    expect(stdout).toContain("http_throughput_ratio_vs_sdk");

    const result = JSON.parse(await readFile(join(out, "results", "protocol.json"), "utf8"));
    const names = ["http_throughput_ratio_vs_sdk", "stdio_throughput_ratio_vs_sdk"];
    for (const t of ["http", "stdio"]) {
      for (const side of ["kit", "sdk"]) {
        names.push(`${t}_${side}_calls_per_s`, `${t}_${side}_p50_ms`, `${t}_${side}_p99_ms`);
      }
    }
    for (const name of names) {
      const value: unknown = result.figures[name];
      expect(
        typeof value === "number" && Number.isFinite(value) && value > 0,
        `${name} = ${String(value)}`,
      ).toBe(true);
    }
    expect(result.samples.http.kit[0].calls).toBe(300);
    expect(result.samples.stdio.sdk[0].calls).toBe(300);
    // The bare SDK server logs nothing; the kit runs at its default level (info), where successful
    // calls are counted in metrics and logged only at debug.
    expect(result.samples.stdio.sdk[0].server_log_bytes_per_call).toBe(0);
    expect(result.quick).toBe(false);

    const md = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(md).toContain("<!-- protocol:start -->");
    expect(md).toMatch(
      new RegExp(`\\| \`http_throughput_ratio_vs_sdk\` +\\| ${result.figures.http_throughput_ratio_vs_sdk} `),
    );
  }, 30_000);
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
