import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/gateway.js", import.meta.url));

// The smoke mode runs the real measurement (four domain servers, two gateways, the fixture) with a few
// hundred calls, into a temp folder: the committed results stay untouched.
describe("bench:gateway --smoke", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-bench-gateway-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("writes its figures as finite positive numbers, and its RESULTS.md section", async () => {
    expect(existsSync(cli), `${cli} is missing; build first (turbo run build)`).toBe(true);
    const { stdout } = await run(process.execPath, [cli, "--smoke", "--out", out], { timeout: 150_000 });
    expect(stdout).toContain("gateway_ratio_vs_direct");
    const result = JSON.parse(await readFile(join(out, "results", "gateway.json"), "utf8"));
    for (const name of [
      "direct_tools_list_bytes",
      "gateway_all_tools_list_bytes",
      "gateway_search_tools_list_bytes",
      "direct_calls_per_s",
      "gateway_calls_per_s",
      "gateway_ratio_vs_direct",
      "gateway_20ms_calls_per_s",
      "gateway_ratio_vs_direct_20ms",
      "gateway_cpu_us_per_call",
    ]) {
      const value: unknown = result.figures[name];
      expect(
        typeof value === "number" && Number.isFinite(value) && value > 0,
        `${name} = ${String(value)}`,
      ).toBe(true);
    }
    // Search mode lists three tools whatever the stack holds: far fewer bytes than every schema.
    expect(result.figures.gateway_search_tools_list_bytes).toBeLessThan(
      result.figures.direct_tools_list_bytes / 10,
    );
    const md = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(md).toContain("## gateway: context bytes and call throughput");
  }, 180_000);
});
