#!/usr/bin/env node
/**
 * pnpm bench:github [--quick | --smoke] [--out <dir>]
 *
 * The github server (the built bin over stdio, SDK client) against a loopback GitHub replaying its
 * recorded fixtures: tools/list size, the size of a 30-PR list and a diff as the model gets them
 * versus GitHub's raw answers, repeated reads (ETag 304s) and secondary rate limits injected on
 * every third request, each against a baseline without retries or ETags measured in the same run.
 */
import { runBenchmark, type Report } from "./lib/cli.js";
import { markdownTable } from "./lib/results.js";
import { figuresOf, OFFICIAL, PLANS, runGithub, type Plan, type Samples } from "./github/run.js";

function section({ figures, samples, plan, mode, date, machine }: Report<Plan, Samples>): string {
  const f = (name: string) => String(figures[name]);
  return [
    "## github: context size, trimmed answers and rate-limit steadiness",
    "",
    `\`pnpm bench:github\`${mode === "full" ? "" : ` (${mode} run)`} on ${date}: Node ${machine.node}, ` +
      `${machine.cpus} CPUs (${machine.cpu_model}), load average ${machine.loadavg_1m_start} at start ` +
      `and ${machine.loadavg_1m_end} at end.`,
    "",
    "The built server over stdio (SDK client) against a loopback GitHub replaying the server's recorded " +
      "fixtures. The baseline is GitHub's raw answer passed through with no retry and no ETag (as a server " +
      "without them does), measured in the same run; the official server's tools/list sizes " +
      `(${OFFICIAL.default.tools} default tools, ${OFFICIAL.all.tools} in all) are the sums of its own tool ` +
      "definitions, since it cannot run here.",
    "",
    markdownTable(
      ["figure", "server", "baseline"],
      [
        [
          "tools/list bytes, default toolsets",
          f("tools_list_bytes_default"),
          `${f("official_tools_list_bytes_default")} (official)`,
        ],
        [
          "tools/list bytes, all / read-only",
          `${f("tools_list_bytes_all")} / ${f("tools_list_bytes_read_only")}`,
          `${f("official_tools_list_bytes_all")} (official, all)`,
        ],
        [
          "30 PRs listed, bytes to the model",
          f("list_30_prs_result_bytes"),
          `${f("list_30_prs_raw_bytes")} (raw API)`,
        ],
        [
          "PR diff, bytes of the first page",
          f("diff_first_page_bytes"),
          `${f("diff_raw_bytes")} (whole diff)`,
        ],
        [
          `calls succeeding with a secondary limit on 1 request in ${plan.limitEvery}`,
          f("limited_success_rate"),
          f("limited_success_rate_baseline"),
        ],
        [
          `full answers for ${plan.calls} repeated reads (rest: 304s, free)`,
          f("repeat_reads_full_answers"),
          f("repeat_reads_full_answers_baseline"),
        ],
      ],
    ),
    "",
    `Ratios: tools/list ${f("tools_list_ratio_vs_official")} of the official server's default ` +
      `(${f("tools_list_ratio_vs_official_all")} with every toolset); a 30-PR list ` +
      `${f("list_30_prs_ratio_vs_raw")} of the raw bytes. Median call under secondary limits ` +
      `${f("limited_call_median_ms")} ms (the 1 s Retry-After waits included); GitHub requests sent: ` +
      `${samples.limited.ours.github_requests} for ${plan.calls} calls. Raw numbers: \`results/github.json\`.`,
  ].join("\n");
}

runBenchmark({
  name: "github",
  plans: PLANS,
  run: runGithub,
  figures: figuresOf,
  section,
  summary: (figures) =>
    Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")
      .concat("\n"),
});
