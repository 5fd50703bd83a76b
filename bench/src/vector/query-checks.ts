/**
 * The rules bench:vector-quality's query sets keep, as a list of what breaks them (empty: none).
 * The bench refuses to run on a broken set, and bench/test/vector-quality.test.ts checks them.
 */
import type { MixedQuery } from "./heldout-queries.js";
import type { LabeledQuery } from "./quality-queries.js";

export interface HeldoutSet {
  paraphrase: LabeledQuery[];
  exact: LabeledQuery[];
  mixed: MixedQuery[];
}

export interface QuerySets {
  tuning: { paraphrase: LabeledQuery[]; exact: LabeledQuery[] };
  heldout: HeldoutSet;
  /** The second held-out set (heldout2-queries.ts): its targets are in neither set above. */
  heldout2: HeldoutSet;
}

/**
 * What is wrong with the sets: targets missing from the corpus, a held-out target the tuning set
 * also targets or two held-out queries (in either held-out set) sharing a target, a duplicate query, an exact query without
 * its page's name, a held-out paraphrase (or a mixed query outside its one name) with a word of its
 * page's names or any identifier. The tuning paraphrases are not held to the name rule: they were
 * written before it, 9 of 28 carry a word of their page's names ("window" for Window/innerWidth,
 * "playing" for HTMLMediaElement/play, "random" for Crypto/randomUUID), and they stay as they were
 * tuned on.
 */
export function querySetProblems(sets: QuerySets, corpusIds: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const all = [
    ...Object.entries(sets.tuning).map(([kind, qs]) => ({ set: `tuning ${kind}`, qs })),
    ...Object.entries(sets.heldout).map(([kind, qs]) => ({ set: `held-out ${kind}`, qs })),
    ...Object.entries(sets.heldout2).map(([kind, qs]) => ({ set: `held-out-2 ${kind}`, qs })),
  ];
  for (const { set, qs } of all) {
    const seen = new Set<string>();
    for (const q of qs) {
      if (!corpusIds.has(q.target)) problems.push(`${set}: target ${q.target} is not in the corpus`);
      if (seen.has(q.query)) problems.push(`${set}: "${q.query}" is there twice`);
      seen.add(q.query);
    }
  }
  const tuningTargets = new Set([...sets.tuning.paraphrase, ...sets.tuning.exact].map((q) => q.target));
  const heldoutTargets = new Map<string, string>();
  const heldouts = [
    ["held-out", sets.heldout],
    ["held-out-2", sets.heldout2],
  ] as const;
  for (const [name, set] of heldouts) {
    for (const [kind, qs] of Object.entries(set)) {
      for (const q of qs) {
        if (tuningTargets.has(q.target)) problems.push(`${name} ${kind}: ${q.target} is a tuning target`);
        const other = heldoutTargets.get(q.target);
        if (other) problems.push(`${name} ${kind}: ${q.target} is also the target of "${other}"`);
        heldoutTargets.set(q.target, q.query);
      }
    }
  }
  for (const [set, qs] of [
    ["tuning exact", sets.tuning.exact],
    ...heldouts.map(([name, set]) => [`${name} exact`, set.exact] as const),
  ] as const) {
    for (const q of qs) {
      const name = q.target.split("/").at(-1)!;
      if (!wholeWord(name).test(q.query)) problems.push(`${set}: "${q.query}" does not name ${name}`);
    }
  }
  for (const [name, set] of heldouts) {
    for (const q of set.paraphrase) {
      problems.push(...plainWordProblems(`${name} paraphrase`, q.query, q.target));
    }
    for (const q of set.mixed) {
      const found = q.query.match(new RegExp(wholeWord(q.name).source, "g"))?.length ?? 0;
      if (found !== 1)
        problems.push(`${name} mixed: "${q.query}" has its name ${q.name} ${found} times, not once`);
      const rest = q.query.replace(wholeWord(q.name), " ");
      if (words(rest).length < 3)
        problems.push(`${name} mixed: "${q.query}" has under 3 words besides ${q.name}`);
      problems.push(...plainWordProblems(`${name} mixed`, rest, q.target));
    }
  }
  return problems;
}

/** A page's names: its id's segments and their camelCase parts of 3 or more letters, lower case. */
export function targetNames(target: string): string[] {
  const names = new Set<string>();
  for (const segment of target.split("/")) {
    names.add(segment.toLowerCase());
    for (const part of segment.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+/g) ?? []) {
      if (part.length >= 3) names.add(part.toLowerCase());
    }
  }
  return [...names];
}

/** Problems of text that must carry none of the target's names nor any identifier. */
function plainWordProblems(set: string, text: string, target: string): string[] {
  const problems: string[] = [];
  const names = targetNames(target);
  for (const word of words(text)) {
    if (IDENTIFIER.test(word)) problems.push(`${set}: "${text.trim()}" has the identifier ${word}`);
    const name = names.find((n) => sameWord(word.toLowerCase(), n));
    if (name) problems.push(`${set}: "${text.trim()}" has "${word}", a word of ${target}'s name ${name}`);
  }
  return problems;
}

/**
 * Whether a query word is a name's word: the same after a crude English stem ("recording" /
 * "recorder"), or for 4 letters or more one starting the other ("signature" / "sign", "children" /
 * "child", "device" / "devices").
 */
function sameWord(word: string, name: string): boolean {
  if (stem(word) === stem(name)) return true;
  return (name.length >= 4 && word.startsWith(name)) || (word.length >= 4 && name.startsWith(word));
}

function stem(word: string): string {
  for (const suffix of ["ings", "ing", "ers", "er", "ed", "es", "s"]) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) return word.slice(0, -suffix.length);
  }
  return word;
}

/** Words as a query's reader sees them: dotted names kept whole, other punctuation a break. */
const words = (text: string) => text.match(/[A-Za-z0-9$_]+(?:\.[A-Za-z$_][\w$]*)*/g) ?? [];

/** camelCase, PascalCase with an inner capital, a leading acronym (HTMLElement), dotted or snake_case. */
const IDENTIFIER = /^[A-Za-z$][\w$]*(?:[a-z0-9][A-Z]|\.[A-Za-z$]|_[A-Za-z0-9])|^[A-Z]{2,}[a-z]/;

const wholeWord = (name: string) =>
  new RegExp(`(?<![\\w$])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w$])`);
