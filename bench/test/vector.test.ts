import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../dist/vector.js", import.meta.url));

// The smoke mode runs the real measurement (PGlite + pgvector through the store and tools/call,
// usearch as reference) on 2,000 vectors, into a temp folder: the committed results stay untouched.
describe("bench:vector --smoke", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-bench-vector-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("writes the issue's figures and its RESULTS.md section", async () => {
    expect(existsSync(cli), `${cli} is missing; build first (turbo run build)`).toBe(true);
    const { stdout } = await run(process.execPath, [cli, "--smoke", "--out", out], { timeout: 170_000 });
    expect(stdout).toContain("recall_at_10");
    const result = JSON.parse(await readFile(join(out, "results", "vector.json"), "utf8"));
    for (const name of ["recall_at_10", "store_search_p50_ms", "ingest_vectors_per_s", "index_build_s"]) {
      const value: unknown = result.figures[name];
      expect(typeof value, name).toBe("number");
      expect(Number.isFinite(value) && (value as number) > 0, `${name} = ${String(value)}`).toBe(true);
    }
    expect(Number.isFinite(result.figures.tools_call_overhead_ratio)).toBe(true);
    // Tiny clustered sets are easy: HNSW must find nearly all true neighbours.
    expect(result.figures.recall_at_10).toBeGreaterThan(0.9);
    expect(result).toMatchObject({ mode: "smoke", plan: { vectors: 2_000 } });
    expect(result.samples.store_in_tools_ms).toHaveLength(20);
    expect(result.figures.tools_call_added_p50_ms).toBeGreaterThan(0);
    expect(result.samples.live_ingest).toMatchObject({ vectors: 1_000 });
    expect(result.figures.live_index_ingest_tools_call_vectors_per_s).toBeGreaterThan(0);
    expect(result.samples.text_ingest.pool_cpu_s).toHaveLength(1);
    expect(result.figures.ingest_pool_cpu_per_doc_vs_main_thread).toBeGreaterThan(0);
    expect(result.figures.ingest_pool_cores_busy).toBeGreaterThan(0);
    const markdown = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(markdown).toContain("## vector: vector-search store and tools/call vs usearch");
    expect(markdown).toContain("`tools_call_overhead_ratio`");
  }, 180_000);
});

// The crossover measurement behind the vector-search README: sizes in child processes, smoke sizes.
describe("vector-scale --smoke", () => {
  const scaleCli = fileURLToPath(new URL("../dist/vector-scale.js", import.meta.url));
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "toolshed-bench-vector-scale-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("measures each size in its own process and writes its RESULTS.md section", async () => {
    expect(existsSync(scaleCli), `${scaleCli} is missing; build first (turbo run build)`).toBe(true);
    await run(process.execPath, [scaleCli, "--smoke", "--out", out], { timeout: 170_000 });
    const result = JSON.parse(await readFile(join(out, "results", "vector-scale.json"), "utf8"));
    expect(result.samples.sizes.map((s: { vectors: number }) => s.vectors)).toEqual([1_000, 2_000]);
    for (const s of result.samples.sizes) {
      expect(s.pglite_rss_mb).toBeGreaterThan(0);
      expect(s.index_build_s).toBeGreaterThan(0);
      expect(s.search_p50_ms).toBeGreaterThan(0);
      expect(s.recall_at_10).toBeGreaterThan(0.9);
    }
    const markdown = await readFile(join(out, "RESULTS.md"), "utf8");
    expect(markdown).toContain("## vector-scale: the embedded engine as collections grow");
  }, 180_000);
});
