import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * Real English text that ships in an npm package and that we did not write: the MDN summaries in
 * TypeScript's `lib/lib.dom.d.ts` (each JSDoc comment that links an MDN page). One document per MDN
 * page: id `Element/getBoundingClientRect`, text the page's title and summary as the comment has
 * them, e.g. "Element.getBoundingClientRect: The Element.getBoundingClientRect() method returns a
 * position relative to the viewport."
 */
export interface CorpusDoc {
  id: string;
  text: string;
}

export function domCorpus(): CorpusDoc[] {
  const require = createRequire(import.meta.url);
  const file = require.resolve("typescript/lib/lib.dom.d.ts");
  const src = readFileSync(file, "utf8");
  const docs = new Map<string, CorpusDoc>();
  for (const m of src.matchAll(/\/\*\*\n((?:\s*\*.*\n)+?)\s*\*\//g)) {
    const lines = m[1]!.split("\n").map((l) => l.replace(/^\s*\*\s?/, ""));
    const ref = lines
      .map((l) => /\[MDN Reference\]\(https:\/\/developer\.mozilla\.org\/docs\/Web\/API\/([^)#]+)\)/.exec(l))
      .find(Boolean);
    if (!ref) continue;
    const id = ref[1]!;
    if (docs.has(id)) continue;
    const summary = lines
      .filter((l) => !l.includes("[MDN Reference]") && !l.startsWith("@"))
      .join(" ")
      .replace(/\*\*|`/g, "")
      .replace(/\s+/g, " ")
      .trim();
    if (summary.length < 20) continue;
    docs.set(id, { id, text: `${id.replace("/", ".")}: ${summary}` });
  }
  return [...docs.values()];
}
