import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/analytics.js", import.meta.url));

// The smoke mode runs the real measurement (the server as a child over stdio, DuckDB directly in
// the bench process) on 20,000 rows, into a temp folder: the committed results stay untouched.
describe("bench:analytics --smoke", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-bench-analytics-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("writes the issue's figures as finite positive numbers, and its RESULTS.md section", async () => {
    expect(existsSync(cli), `${cli} is missing; build first (turbo run build)`).toBe(true);
    const { stdout } = await run(process.execPath, [cli, "--smoke", "--out", out], { timeout: 25_000 });
    expect(stdout).toContain("groupby_ratio_vs_duckdb");

    const result = JSON.parse(await readFile(join(out, "results", "analytics.json"), "utf8"));
    for (const name of [
      "groupby_ratio_vs_duckdb",
      "topk_ratio_vs_duckdb",
      "load_rows_per_s",
      "peak_rss_mb",
      "call_floor_ratio_vs_sdk",
      "call_floor_fresh_ratio_vs_sdk",
      "coldstart_ratio_vs_sdk",
    ]) {
      const value: unknown = result.figures[name];
      expect(typeof value, name).toBe("number");
      expect(Number.isFinite(value) && (value as number) > 0, `${name} = ${String(value)}`).toBe(true);
    }
    expect(result).toMatchObject({ mode: "smoke", plan: { rows: 20_000 } });
    expect(result.samples.kit_ms.groupby).toHaveLength(3);
    expect(result.samples.server_stderr_bytes).toBeGreaterThan(0);

    const markdown = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(markdown).toContain("## analytics: data-analytics server vs DuckDB directly");
    expect(markdown).toContain("`groupby_ratio_vs_duckdb`");
    expect(markdown).toContain("`coldstart_ratio_vs_sdk`");
    expect(stdout).toMatch(/call_floor_ratio_vs_sdk \d/);
    expect(stdout).toMatch(/call_floor_fresh_ratio_vs_sdk \d/);
    expect(markdown).toContain("`call_floor_fresh_ratio_vs_sdk`");
    expect(result.samples.floor_fresh_ms).toHaveLength(result.plan.floorCalls);
  }, 30_000);
});
