import { beforeAll, describe, expect, it } from "vitest";
import { domCorpus } from "../src/vector/corpus.js";
import { HELDOUT_EXACT, HELDOUT_MIXED, HELDOUT_PARAPHRASE } from "../src/vector/heldout-queries.js";
import { HELDOUT2_EXACT, HELDOUT2_MIXED, HELDOUT2_PARAPHRASE } from "../src/vector/heldout2-queries.js";
import { querySetProblems, type QuerySets } from "../src/vector/query-checks.js";
import { EXACT, PARAPHRASE } from "../src/vector/quality-queries.js";

// bench:vector-quality's query sets, checked for shape without embedding anything: the bench itself
// refuses to run on sets that break these rules, and a held-out set is only held out while they hold.
const sets: QuerySets = {
  tuning: { paraphrase: PARAPHRASE, exact: EXACT },
  heldout: { paraphrase: HELDOUT_PARAPHRASE, exact: HELDOUT_EXACT, mixed: HELDOUT_MIXED },
  heldout2: { paraphrase: HELDOUT2_PARAPHRASE, exact: HELDOUT2_EXACT, mixed: HELDOUT2_MIXED },
};
let corpusIds: Set<string>;
beforeAll(() => {
  corpusIds = new Set(domCorpus().map((d) => d.id));
});

/** The problems of the real sets with one more query of a kind in a held-out set (the first by default). */
function problemsWith(
  kind: keyof QuerySets["heldout"],
  query: QuerySets["heldout"]["mixed"][number],
  set: "heldout" | "heldout2" = "heldout",
) {
  return querySetProblems(
    { ...sets, [set]: { ...sets[set], [kind]: [...sets[set][kind], query] } },
    corpusIds,
  );
}

describe("bench:vector-quality query sets", () => {
  it("the held-out set has at least 30 queries of each kind, on targets the tuning set does not have", () => {
    expect(HELDOUT_PARAPHRASE.length).toBeGreaterThanOrEqual(30);
    expect(HELDOUT_EXACT.length).toBeGreaterThanOrEqual(30);
    expect(HELDOUT_MIXED.length).toBeGreaterThanOrEqual(30);
    const tuning = new Set([...PARAPHRASE, ...EXACT].map((q) => q.target));
    const heldout = [...HELDOUT_PARAPHRASE, ...HELDOUT_EXACT, ...HELDOUT_MIXED].map((q) => q.target);
    expect(heldout.filter((t) => tuning.has(t))).toEqual([]);
    expect(new Set(heldout).size).toBe(heldout.length);
  });

  it("held-out-2 has at least 30 queries of each kind, on targets neither earlier set has", () => {
    expect(HELDOUT2_PARAPHRASE.length).toBeGreaterThanOrEqual(30);
    expect(HELDOUT2_EXACT.length).toBeGreaterThanOrEqual(30);
    expect(HELDOUT2_MIXED.length).toBeGreaterThanOrEqual(30);
    const earlier = new Set(
      [...PARAPHRASE, ...EXACT, ...HELDOUT_PARAPHRASE, ...HELDOUT_EXACT, ...HELDOUT_MIXED].map(
        (q) => q.target,
      ),
    );
    const second = [...HELDOUT2_PARAPHRASE, ...HELDOUT2_EXACT, ...HELDOUT2_MIXED].map((q) => q.target);
    expect(second.filter((t) => earlier.has(t))).toEqual([]);
    expect(new Set(second).size).toBe(second.length);
  });

  it("the sets keep their rules: targets in the corpus, names where due, none in held-out paraphrases", () => {
    expect(corpusIds.size).toBeGreaterThan(3_000);
    expect(querySetProblems(sets, corpusIds)).toEqual([]);
  });

  it("the rules catch what would spoil the held-out set", () => {
    const only = (problems: string[]) => {
      expect(problems).toHaveLength(1);
      return problems[0];
    };
    // A tuning target, and a target twice.
    expect(only(problemsWith("exact", { query: "setItem", target: "Storage/setItem", name: "" }))).toMatch(
      /Storage\/setItem is a tuning target/,
    );
    expect(
      only(problemsWith("exact", { query: "scrollY", target: HELDOUT_PARAPHRASE[1]!.target, name: "" })),
    ).toMatch(/Window\/scrollY is also the target of/);
    // A paraphrase with its page's name, an inflection of it, or another API's identifier.
    expect(
      only(
        problemsWith("paraphrase", { query: "pause the clip", target: "HTMLMediaElement/pause", name: "" }),
      ),
    ).toMatch(/"pause", a word of HTMLMediaElement\/pause's name/);
    expect(
      only(
        problemsWith("paraphrase", {
          query: "a cancelled signal's why",
          target: "AbortSignal/reason",
          name: "",
        }),
      ),
    ).toMatch(/"signal", a word of AbortSignal\/reason's name/);
    expect(
      only(
        problemsWith("paraphrase", {
          query: "like addEventListener but once",
          target: "Event/timeStamp",
          name: "",
        }),
      ),
    ).toMatch(/has the identifier addEventListener/);
    // An exact query without its page's name; a mixed query without its one name, or with the
    // page's other name in its plain words.
    expect(
      only(problemsWith("exact", { query: "Range collapse", target: "Range/detach", name: "" })),
    ).toMatch(/does not name detach/);
    expect(
      only(
        problemsWith("mixed", {
          query: "empty a Selection of its nodes",
          target: "Range/deleteContents",
          name: "Range",
        }),
      ),
    ).toMatch(/has its name Range 0 times/);
    expect(
      only(
        problemsWith("mixed", {
          query: "delete what a Range covers",
          target: "Range/deleteContents",
          name: "Range",
        }),
      ),
    ).toMatch(/"delete", a word of Range\/deleteContents's name/);
    // Held-out-2 is held to the same rules, and shares no target with the first held-out set.
    expect(
      only(
        problemsWith(
          "exact",
          { query: "scrollY", target: HELDOUT_PARAPHRASE[1]!.target, name: "" },
          "heldout2",
        ),
      ),
    ).toMatch(/held-out-2 exact: Window\/scrollY is also the target of/);
    expect(
      only(
        problemsWith(
          "paraphrase",
          { query: "pause the clip", target: "HTMLMediaElement/pause", name: "" },
          "heldout2",
        ),
      ),
    ).toMatch(/held-out-2 paraphrase: .*"pause", a word of HTMLMediaElement\/pause's name/);
    expect(
      only(
        problemsWith(
          "mixed",
          { query: "empty a Selection of its nodes", target: "Range/deleteContents", name: "Range" },
          "heldout2",
        ),
      ),
    ).toMatch(/held-out-2 mixed: .* has its name Range 0 times/);
  });
});
