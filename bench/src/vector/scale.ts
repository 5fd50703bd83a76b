import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configSchema, type Deps } from "@toolshed/server-vector-search";
import server from "@toolshed/server-vector-search";
import { createTestClient } from "@toolshed/testing";
import usearch, { MetricKind, type BatchMatches } from "usearch";
import { quantile, round } from "../lib/stats.js";
import { makeDataset, row } from "./data.js";
import { ingestDeferred, rssMb } from "./run.js";

/** One collection size, measured in a process of its own so each size's memory is its own. */
export interface SizeResult {
  vectors: number;
  ingest_vectors_per_s: number;
  index_build_s: number;
  /** Process RSS growth from opening PGlite to the index built (the dataset itself is excluded). */
  pglite_rss_mb: number;
  search_p50_ms: number;
  search_p99_ms: number;
  recall_at_10: number;
}

const K = 10;

/** Runs in the child: the server's defaults, one collection of `n` vectors, `q` searches. */
export async function measureSize(n: number, q: number, dim: number): Promise<SizeResult> {
  const data = makeDataset(n, q, dim);
  const exact = usearch.exactSearch(data.vectors, data.queries, dim, K, MetricKind.Cos) as BatchMatches;
  const truth = Array.from({ length: q }, (_, i) => new Set([...exact.get(i).keys].map(String)));
  const dir = mkdtempSync(join(tmpdir(), "toolshed-bench-vector-scale-"));
  const before = rssMb();
  const t = await createTestClient(server, { config: configSchema.parse({ dataDir: dir }) });
  try {
    const { store } = (await t.runtime.deps()) as Deps;
    const ingest = await ingestDeferred(store, "s", data);
    const build = (await store.buildIndex("s")) / 1000;
    const rss = rssMb() - before;
    for (let i = 0; i < Math.min(q, 10); i++)
      await store.searchVector("s", row(data.queries, i, dim), { topK: K });
    const ms: number[] = [];
    let hits = 0;
    for (let i = 0; i < q; i++) {
      const t0 = performance.now();
      const found = await store.searchVector("s", row(data.queries, i, dim), { topK: K });
      ms.push(performance.now() - t0);
      hits += found.filter((h) => truth[i]!.has(h.id)).length;
    }
    ms.sort((a, b) => a - b);
    return {
      vectors: n,
      ingest_vectors_per_s: Math.round(n / ingest),
      index_build_s: round(build, 1),
      pglite_rss_mb: rss,
      search_p50_ms: round(quantile(ms, 0.5), 3),
      search_p99_ms: round(quantile(ms, 0.99), 3),
      recall_at_10: round(hits / (q * K), 4),
    };
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs in the parent: one child per size, in order; a size that fails is reported, not hidden. */
export function measureInChild(
  script: string,
  n: number,
  q: number,
  dim: number,
  log: (line: string) => void,
): Promise<SizeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(script), "--child", String(n), String(q), String(dim)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      if (code === 0 && last.startsWith("{")) {
        const r = JSON.parse(last) as SizeResult;
        log(`${n} vectors: ${JSON.stringify(r)}`);
        resolve(r);
      } else reject(new Error(`the ${n}-vector run exited ${code}: ${err.trim().slice(-2000)}`));
    });
  });
}
