#!/usr/bin/env node
/**
 * pnpm bench:vector-quality [--quick | --smoke] [--out <dir>]
 *
 * Retrieval quality of vector-search's modes on real text we did not write: the MDN summaries in
 * TypeScript's lib.dom.d.ts (3,803 pages; quick 800, smoke 300, always including the targets),
 * embedded by the server's default (offline) embedder. Three query sets: the tuning set
 * (bench/src/vector/quality-queries.ts: paraphrases and exact API names), on which the search's
 * rerank, weights and rules were chosen; the first held-out set (heldout-queries.ts: paraphrases,
 * exact names and mixed queries, other target pages), seen while a rescaling of the rerank was
 * tried; and held-out-2 (heldout2-queries.ts, other pages again), written before either scaling was
 * run on it, which decided only that the rescaling did not ship, and gives the verdict (its exact-term
 * losses were since seen while the whole-query phrase rule was made: that figure is no longer blind).
 * hit@5 and MRR@5 per mode and set, and hybrid's MRR@5 minus the better of vector and keyword.
 * Writes <out>/results/vector-quality.json and the vector-quality section of <out>/RESULTS.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import server, { configSchema, type Deps } from "@toolshed/server-vector-search";
import type { Hit } from "@toolshed/server-vector-search/store";
import { createTestClient } from "@toolshed/testing";
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import { round } from "./lib/stats.js";
import { domCorpus } from "./vector/corpus.js";
import { HELDOUT_EXACT, HELDOUT_MIXED, HELDOUT_PARAPHRASE } from "./vector/heldout-queries.js";
import { HELDOUT2_EXACT, HELDOUT2_MIXED, HELDOUT2_PARAPHRASE } from "./vector/heldout2-queries.js";
import { querySetProblems } from "./vector/query-checks.js";
import { EXACT, PARAPHRASE, type LabeledQuery } from "./vector/quality-queries.js";

type Mode = "full" | "quick" | "smoke";
interface Plan {
  docs: number;
  watchdogMs: number;
}
const PLANS: Record<Mode, Plan> = {
  full: { docs: Infinity, watchdogMs: 3_600_000 },
  quick: { docs: 800, watchdogMs: 1_200_000 },
  smoke: { docs: 300, watchdogMs: 600_000 },
};

/** The modes scored: the three search modes, hybrid reranked, and hybrid at other weights. */
const MODES = [
  "vector",
  "keyword",
  "hybrid",
  "hybrid_rrf",
  "hybrid_w_vector_2",
  "hybrid_w_keyword_2",
  "hybrid_rrf_w_keyword_2",
] as const;
type SearchMode = (typeof MODES)[number];
/**
 * Tuning sets keep their first names; held-out ones are prefixed `heldout_` (the first) and
 * `heldout2_` (held-out-2), as are their figures.
 */
const SETS = {
  paraphrase: PARAPHRASE,
  exact: EXACT,
  heldout_paraphrase: HELDOUT_PARAPHRASE,
  heldout_exact: HELDOUT_EXACT,
  heldout_mixed: HELDOUT_MIXED,
  heldout2_paraphrase: HELDOUT2_PARAPHRASE,
  heldout2_exact: HELDOUT2_EXACT,
  heldout2_mixed: HELDOUT2_MIXED,
} as const;
type SetName = keyof typeof SETS;
const TUNING_SETS = ["paraphrase", "exact"] as const;
const HELDOUT_SETS = ["heldout_paraphrase", "heldout_exact", "heldout_mixed"] as const;
const HELDOUT2_SETS = ["heldout2_paraphrase", "heldout2_exact", "heldout2_mixed"] as const;
const kindOf = (set: SetName) => set.replace(/^heldout2?_/, "");
/** A figure's name for a set: `hit_at_5_exact_vector`, `heldout2_hit_at_5_mixed_vector`. */
const figureName = (set: SetName, name: (kind: string) => string) =>
  set === kindOf(set) ? name(set) : `${set.slice(0, -kindOf(set).length)}${name(kindOf(set))}`;

interface Samples {
  docs: number;
  embed_s: number;
  /** The 1-based rank of the target in each query's top 5 (0: not there), per set and mode. */
  ranks: Record<SetName, Record<SearchMode, number[]>>;
}

async function run(plan: Plan, log: (line: string) => void): Promise<Samples> {
  const all = domCorpus();
  const problems = querySetProblems(
    {
      tuning: { paraphrase: PARAPHRASE, exact: EXACT },
      heldout: { paraphrase: HELDOUT_PARAPHRASE, exact: HELDOUT_EXACT, mixed: HELDOUT_MIXED },
      heldout2: { paraphrase: HELDOUT2_PARAPHRASE, exact: HELDOUT2_EXACT, mixed: HELDOUT2_MIXED },
    },
    new Set(all.map((d) => d.id)),
  );
  if (problems.length) throw new Error(`the query sets break their rules:\n${problems.join("\n")}`);
  const targets = new Set(Object.values(SETS).flatMap((qs) => qs.map((q) => q.target)));
  // Every target, and an even sample of the rest (all of it in a full run).
  const others = all.filter((d) => !targets.has(d.id));
  const room = Math.max(0, Math.min(others.length, plan.docs - targets.size));
  const step = others.length / Math.max(1, room);
  const docs = [
    ...all.filter((d) => targets.has(d.id)),
    ...Array.from({ length: room }, (_, i) => others[Math.floor(i * step)]!),
  ];
  log(`${docs.length} MDN summaries (${targets.size} targets), embedding with the default embedder`);

  const dir = mkdtempSync(join(tmpdir(), "toolshed-bench-vq-"));
  const t = await createTestClient(server, { config: configSchema.parse({ dataDir: dir }) });
  try {
    const { store, embedder } = (await t.runtime.deps()) as Deps;
    await store.createCollection({
      name: "mdn",
      dimension: await embedder.dimension(),
      metric: "cosine",
      embedder: embedder.id,
    });
    const start = performance.now();
    for (let i = 0; i < docs.length; i += 200) {
      const chunk = docs.slice(i, i + 200);
      const vectors = await embedder.embed(chunk.map((d) => d.text));
      await store.upsert(
        "mdn",
        chunk.map((d, j) => ({ id: d.id, text: d.text, vector: vectors[j]! })),
      );
      log(`embedded ${Math.min(i + 200, docs.length)} / ${docs.length}`);
    }
    const embed_s = round((performance.now() - start) / 1000, 1);

    const search = (mode: SearchMode, q: string, v: number[]): Promise<Hit[]> => {
      const opts = { topK: 5 };
      switch (mode) {
        case "vector":
          return store.searchVector("mdn", v, opts);
        case "keyword":
          return store.searchKeyword("mdn", q, opts);
        case "hybrid":
          return store.searchHybrid("mdn", q, v, opts);
        case "hybrid_rrf":
          return store.searchHybrid("mdn", q, v, { ...opts, rerank: false });
        case "hybrid_w_vector_2":
          return store.searchHybrid("mdn", q, v, { ...opts, weights: { vector: 2, keyword: 1 } });
        case "hybrid_w_keyword_2":
          return store.searchHybrid("mdn", q, v, { ...opts, weights: { vector: 1, keyword: 2 } });
        case "hybrid_rrf_w_keyword_2":
          return store.searchHybrid("mdn", q, v, {
            ...opts,
            rerank: false,
            weights: { vector: 1, keyword: 2 },
          });
      }
    };
    const ranks = {} as Samples["ranks"];
    for (const [name, queries] of Object.entries(SETS) as [SetName, readonly LabeledQuery[]][]) {
      const vectors = await embedder.embed(queries.map((q) => q.query));
      ranks[name] = {} as Record<SearchMode, number[]>;
      for (const mode of MODES) {
        ranks[name][mode] = [];
        for (const [i, q] of queries.entries()) {
          const hits = await search(mode, q.query, vectors[i]!);
          ranks[name][mode].push(hits.findIndex((h) => h.id === q.target) + 1);
        }
      }
      log(`${name}: ${queries.length} queries scored in ${MODES.length} modes`);
    }
    return { docs: docs.length, embed_s, ranks };
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const hitAt5 = (ranks: number[]) => round(ranks.filter((r) => r > 0).length / ranks.length, 3);
const mrrAt5 = (ranks: number[]) =>
  round(ranks.reduce((a, r) => a + (r > 0 ? 1 / r : 0), 0) / ranks.length, 3);

function figures(s: Samples): Record<string, number> {
  const f: Record<string, number> = { docs: s.docs };
  for (const set of Object.keys(SETS) as SetName[]) {
    const mrr = (mode: SearchMode) => figureName(set, (k) => `mrr_at_5_${k}_${mode}`);
    for (const mode of MODES) {
      f[figureName(set, (k) => `hit_at_5_${k}_${mode}`)] = hitAt5(s.ranks[set][mode]);
      f[mrr(mode)] = mrrAt5(s.ranks[set][mode]);
    }
    const best = Math.max(f[mrr("vector")]!, f[mrr("keyword")]!);
    f[figureName(set, (k) => `hybrid_minus_best_mrr_${k}`)] = round(f[mrr("hybrid")]! - best, 3);
    f[figureName(set, (k) => `hybrid_rrf_minus_best_mrr_${k}`)] = round(f[mrr("hybrid_rrf")]! - best, 3);
  }
  return f;
}

function section({ figures: f, samples, mode, date, machine }: Report<Plan, Samples>): string {
  const table = (sets: SetName[]) =>
    markdownTable(
      ["mode", ...sets.flatMap((set) => [`${kindOf(set)} hit@5`, `${kindOf(set)} MRR@5`])],
      MODES.map((m) => [
        `\`${m}\``,
        ...sets.flatMap((set) => [
          String(f[figureName(set, (k) => `hit_at_5_${k}_${m}`)]),
          String(f[figureName(set, (k) => `mrr_at_5_${k}_${m}`)]),
        ]),
      ]),
    );
  const met = (x: number) => (x >= 0 ? "met" : "missed");
  const margin = (name: string, target: (heldout: number) => string) => [
    `\`${name}\``,
    String(f[`heldout2_${name}`]),
    String(f[`heldout_${name}`]),
    f[name] === undefined ? "(no such set)" : String(f[name]),
    target(f[`heldout2_${name}`]!),
  ];
  const heldoutTargets = new Set(HELDOUT_SETS.flatMap((set) => SETS[set].map((q) => q.target))).size;
  const heldout2Targets = new Set(HELDOUT2_SETS.flatMap((set) => SETS[set].map((q) => q.target))).size;
  const tuningTargets = new Set(TUNING_SETS.flatMap((set) => SETS[set].map((q) => q.target))).size;
  const losses = hybridLosses(samples);
  return [
    "## vector-quality: retrieval quality per search mode on real text",
    "",
    `\`pnpm bench:vector-quality\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs, load average ${machine.loadavg_1m_start} at start and ${machine.loadavg_1m_end} at end.`,
    "",
    `${samples.docs.toLocaleString("en")} MDN summaries from TypeScript's \`lib/lib.dom.d.ts\` (text we did not write; ` +
      "every query's target plus an even sample of the rest, or all 3,803 in a full run), embedded by the " +
      `default offline embedder in ${samples.embed_s} s. Each query has one target page; hit@5: the target in ` +
      "the top 5; MRR@5: mean of 1/rank in the top 5. Three query sets, every mode scored on each:",
    "",
    `- **Held-out-2** (\`bench/src/vector/heldout2-queries.ts\`; ${HELDOUT2_PARAPHRASE.length} paraphrase, ` +
      `${HELDOUT2_EXACT.length} exact-term and ${HELDOUT2_MIXED.length} mixed queries over ${heldout2Targets} pages ` +
      "neither other set targets): written and committed after the first held-out set had been run and " +
      "looked at, before a rescaling of the rerank (below) was run on it; it decided only that the rescaling did not ship. " +
      "**The verdict is on this set.** Same kinds and rules as the first held-out set. Since then its exact-term " +
      "losses (`URL username`, and `Element attributes` in a quick run) were looked at while the whole-query phrase " +
      "rule (below) was made, so its exact-term figure is no longer blind; its paraphrase and mixed losses were in " +
      "view too, but nothing was changed for them and that rule moves no rank in those two sets.",
    `- **Held-out** (\`bench/src/vector/heldout-queries.ts\`; ${HELDOUT_PARAPHRASE.length} paraphrase, ` +
      `${HELDOUT_EXACT.length} exact-term and ${HELDOUT_MIXED.length} mixed queries over ${heldoutTargets} pages ` +
      "the tuning set does not target): written after the rerank, weights and rules were first settled; " +
      "its losses were then traced to the rerank's scaling, and a rescaling was checked on it, and its " +
      "`KeyboardEvent code` loss led to the whole-query phrase rule, so it is no longer held out. Paraphrases say what a page " +
      "does in words with none of its names and no identifier; exact-term queries are API names as typed " +
      "(`Interface member`, a bare member, `navigator.getGamepads()`); mixed queries, the kind the tuning set " +
      "lacks, pair a need in plain words with one exact name, usually the interface while the need picks the " +
      'member ("how do I stop IntersectionObserver watching an element" for `IntersectionObserver/unobserve`).',
    `- **Tuning** (\`bench/src/vector/quality-queries.ts\`; ${PARAPHRASE.length} paraphrase and ` +
      `${EXACT.length} exact-term queries over ${tuningTargets} pages): the set the rerank, weights and rules ` +
      "were chosen on. Its margins are optimistic; it is kept as it was, for comparison.",
    "",
    "`hybrid` is the default: weighted reciprocal-rank fusion (weights vector 1, keyword 1) then the " +
      "fused candidates re-scored on both signals (`rerank`, on by default); `hybrid_rrf` is `rerank: false`; " +
      "the `_w_` rows are other weights. The rerank scales cosine from -1 (real similarities of 0.4 " +
      "to 0.8 land in 0.85 to 1) and the keyword score as a share of the best candidate's (0.3 to 1), so " +
      "equal weights act like 1 : 5-10 for keyword. Scaling cosine from the vector list's lowest score " +
      "instead was tried and judged on held-out-2: it did no better (see the verdict), so it did not ship. It has three exact-term rules: a candidate " +
      "containing the query's identifier-like words (camelCase, dotted.names, snake_case) or quoted phrases " +
      "verbatim ranks a tier above one that does not; the vector signal counts less the larger the " +
      "share of identifiers in the query (not at all for a query of identifiers only); and a query of two or " +
      "more words without quotes or exclusions is also read as one name or phrase (its words in order, " +
      "separated by spaces or by one of `.` `_` `/` `:`, any case), a candidate containing it ranking a tier " +
      "above one that does not (counted only when some candidate has it, so a sentence found nowhere is scored " +
      "as before). The second rule came " +
      "after `IntersectionObserver` (tuning set) ranked its page second behind `IntersectionObserver/disconnect`. " +
      "The third came after a full run on 2026-12-07 in which `KeyboardEvent code` (held-out) and `URL username` " +
      "(held-out-2) ranked their pages second, behind `KeyboardEvent/keyCode` and `HTMLAnchorElement/username`, " +
      "while keyword ranked them first: the query spells the page's name with a space for the dot. On the same " +
      "3,803 summaries and embeddings, hybrid's MRR@5 minus the better half went from +0.029 to +0.063 on " +
      "held-out-2 exact (hybrid 0.894 to 0.928) and from -0.010 to +0.009 on held-out exact (0.915 to 0.934); " +
      "tuning exact stayed +0.018, and every paraphrase and mixed figure stayed as it was (held-out-2 +0.008 and " +
      "+0.068, held-out +0.008 and +0.066, tuning paraphrase -0.003). Four ranks moved, all up: `KeyboardEvent code` " +
      "and `WebSocket bufferedAmount` (held-out) 2 to 1, `URL username` 2 to 1 and `Element attributes` 4 to 1 " +
      "(held-out-2). `referrerPolicy` (held-out-2) still misses: seven pages have that member and keyword, which " +
      "alone orders a query of identifiers only, ranks the other six (which repeat the name more) first.",
    "",
    "Held-out-2 (the verdict):",
    "",
    table([...HELDOUT2_SETS]),
    "",
    "Held-out set (seen while a rescaling was tried):",
    "",
    table([...HELDOUT_SETS]),
    "",
    "Tuning set:",
    "",
    table([...TUNING_SETS]),
    "",
    "Hybrid's MRR@5 minus the better of `vector` and `keyword` (figures are `heldout2_`- and " +
      "`heldout_`-prefixed in the JSON):",
    "",
    markdownTable(
      ["figure", "held-out-2", "held-out", "tuning", "target"],
      [
        margin("hybrid_minus_best_mrr_paraphrase", (x) => `>= 0 on held-out-2: ${met(x)}`),
        margin("hybrid_minus_best_mrr_exact", (x) => `>= 0 on held-out-2: ${met(x)}`),
        margin("hybrid_minus_best_mrr_mixed", (x) => `>= 0: ${met(x)} (reported; not in the verdict)`),
        margin("hybrid_rrf_minus_best_mrr_paraphrase", () => "weighted RRF alone (`rerank: false`)"),
        margin("hybrid_rrf_minus_best_mrr_exact", () => "the same"),
        margin("hybrid_rrf_minus_best_mrr_mixed", () => "the same"),
      ],
    ),
    "",
    losses.length
      ? `Held-out queries (both sets) where \`hybrid\` ranks the target below the better of \`vector\` and \`keyword\` (rank 0: not in the top 5):\n\n` +
        markdownTable(
          ["set", "query", "target", "vector", "keyword", "hybrid"],
          losses.map((l) => [setLabel(l.set), l.query, `\`${l.target}\``, ...l.ranks.map(String)]),
        )
      : "No held-out query ranks its target lower in `hybrid` than in the better of `vector` and `keyword`.",
    "",
    "Raw ranks, per set and mode in the sets' query order: `results/vector-quality.json`.",
  ].join("\n");
}

/** `held-out-2 exact`, `held-out mixed`. */
const setLabel = (set: SetName) =>
  `${set.startsWith("heldout2_") ? "held-out-2" : "held-out"} ${kindOf(set)}`;

/** Held-out queries whose target hybrid ranks lower (or drops) than the better single mode does. */
function hybridLosses(s: Samples) {
  const score = (r: number) => (r > 0 ? 1 / r : 0);
  return [...HELDOUT2_SETS, ...HELDOUT_SETS].flatMap((set) =>
    SETS[set].flatMap((q, i) => {
      const [v, k, h] = (["vector", "keyword", "hybrid"] as const).map((m) => s.ranks[set][m][i]!);
      return score(h!) < Math.max(score(v!), score(k!))
        ? [{ set, query: q.query, target: q.target, ranks: [v!, k!, h!] }]
        : [];
    }),
  );
}

function summary(f: Record<string, number>, mode: Mode): string {
  const line = (set: SetName) =>
    `  ${set}: ` +
    MODES.map(
      (m) =>
        `${m} hit@5 ${f[figureName(set, (k) => `hit_at_5_${k}_${m}`)]} MRR@5 ${f[figureName(set, (k) => `mrr_at_5_${k}_${m}`)]}`,
    ).join("; ");
  const margins = (sets: readonly SetName[]) =>
    "  " +
    sets
      .map((set) => figureName(set, (k) => `hybrid_minus_best_mrr_${k}`))
      .map((name) => `${name} ${f[name]}`)
      .join(", ");
  return (
    [
      `vector-quality benchmark (${mode}; ${f.docs} documents)`,
      ...(Object.keys(SETS) as SetName[]).map(line),
      margins(HELDOUT2_SETS) + " (held-out-2: the verdict)",
      margins(HELDOUT_SETS) + " (first held-out set)",
      margins(TUNING_SETS) + " (tuning set)",
    ].join("\n") + "\n"
  );
}

runBenchmark({
  name: "vector-quality",
  plans: PLANS,
  run,
  figures,
  section,
  summary,
  // The issue's two figures, judged on held-out-2; the other sets' are reported beside.
  verdict: (f) =>
    f.heldout2_hybrid_minus_best_mrr_paraphrase! < 0 || f.heldout2_hybrid_minus_best_mrr_exact! < 0
      ? `hybrid's MRR@5 on held-out-2 is under the better of vector and keyword (paraphrase ${f.heldout2_hybrid_minus_best_mrr_paraphrase}, exact ${f.heldout2_hybrid_minus_best_mrr_exact})`
      : undefined,
});
