#!/usr/bin/env node
/**
 * pnpm bench:vector-scale [--quick | --smoke] [--out <dir>]
 *
 * Where embedded PGlite stops being the right engine: the vector-search store with the server's
 * defaults at growing collection sizes (100,000, 200,000 and 300,000 clustered 384-dimension
 * vectors; quick 10,000 and 20,000), each size in a process of its own so its memory is its own:
 * ingest rate, HNSW build time, process RSS growth, search p50/p99 and recall@10. Writes
 * <out>/results/vector-scale.json and the vector-scale section of <out>/RESULTS.md; the README's
 * crossover paragraph (servers/vector-search/README.md) is read off these figures.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import { measureInChild, measureSize, type SizeResult } from "./vector/scale.js";
import { SERVER_DEFAULTS } from "./vector/run.js";

interface Plan {
  sizes: number[];
  queries: number;
  dim: number;
  watchdogMs: number;
}

const PLANS = {
  full: { sizes: [100_000, 200_000, 300_000], queries: 200, dim: 384, watchdogMs: 90 * 60_000 },
  quick: { sizes: [10_000, 20_000], queries: 100, dim: 384, watchdogMs: 10 * 60_000 },
  smoke: { sizes: [1_000, 2_000], queries: 20, dim: 384, watchdogMs: 3 * 60_000 },
};

interface Samples {
  sizes: SizeResult[];
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  // One size, in this child process: the result is the last line of stdout.
  const [n, q, dim] = argv.slice(1).map(Number);
  measureSize(n!, q!, dim!).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  runBenchmark<Plan, Samples>({
    name: "vector-scale",
    plans: PLANS,
    run: async (plan, log) => {
      const sizes: SizeResult[] = [];
      for (const n of plan.sizes) {
        log(`${n} vectors: ingest, index, search (own process)`);
        sizes.push(await measureInChild(import.meta.url, n, plan.queries, plan.dim, log));
      }
      return { sizes };
    },
    figures: ({ sizes }) => {
      const figures: Record<string, number> = {};
      for (const s of sizes) {
        const k = `${Math.round(s.vectors / 1000)}k`;
        figures[`pglite_rss_mb_${k}`] = s.pglite_rss_mb;
        figures[`index_build_s_${k}`] = s.index_build_s;
        figures[`search_p50_ms_${k}`] = s.search_p50_ms;
        figures[`recall_at_10_${k}`] = s.recall_at_10;
      }
      const [a, b] = [sizes[0], sizes.at(-1)];
      if (a && b && b.vectors > a.vectors) {
        figures.rss_kb_per_vector = Math.round(
          ((b.pglite_rss_mb - a.pglite_rss_mb) * 1024) / (b.vectors - a.vectors),
        );
      }
      return figures;
    },
    section: ({ samples, plan, mode, date, machine }: Report<Plan, Samples>) =>
      [
        "## vector-scale: the embedded engine as collections grow",
        "",
        `\`pnpm bench:vector-scale\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: ` +
          `Node ${machine.node}, ${machine.cpus} CPUs (${machine.cpu_model}), load average ` +
          `${machine.loadavg_1m_start} at start and ${machine.loadavg_1m_end} at end.`,
        "",
        `The vector-search store on embedded PGlite with the server's defaults (HNSW m ${SERVER_DEFAULTS.hnswM}, ` +
          `ef_construction ${SERVER_DEFAULTS.hnswEfConstruction}, ef_search ${SERVER_DEFAULTS.efSearch}, cosine), ` +
          `${plan.dim}-dimension clustered vectors as in \`bench:vector\`, each size in a fresh process: ingest ` +
          `with the index deferred, one HNSW build, then ${plan.queries} searches against exact ground truth. ` +
          "RSS growth is the process's, from opening PGlite to the index built.",
        "",
        markdownTable(
          [
            "vectors",
            "ingest vec/s",
            "index build s",
            "RSS growth MB",
            "search p50 ms",
            "p99 ms",
            "recall@10",
          ],
          samples.sizes.map((s) => [
            s.vectors.toLocaleString("en"),
            String(s.ingest_vectors_per_s),
            String(s.index_build_s),
            String(s.pglite_rss_mb),
            String(s.search_p50_ms),
            String(s.search_p99_ms),
            String(s.recall_at_10),
          ]),
        ),
        "",
        "Raw numbers: `results/vector-scale.json`.",
      ].join("\n"),
    summary: (figures, mode) =>
      [`vector-scale (${mode})`, ...Object.entries(figures).map(([k, v]) => `  ${k.padEnd(28)} ${v}`)].join(
        "\n",
      ) + "\n",
  });
}
