import MiniSearch from "minisearch";
import { allows, type Access, type Catalog, type CatalogTool } from "./catalog.js";

export interface SearchHit {
  name: string;
  title: string;
  upstream: string;
  /** The first sentence of the description. */
  summary: string;
  score: number;
}

interface Doc {
  id: string;
  name: string;
  title: string;
  description: string;
  params: string;
  upstream: string;
}

/**
 * Full-text search over the catalogue (names, titles, descriptions, parameter names and their
 * descriptions) with MiniSearch: BM25 ranking, prefix and light fuzzy matching, names and titles
 * weighted above prose. Built once per catalogue version.
 */
export class ToolSearch {
  readonly #index: MiniSearch<Doc>;
  readonly #catalog: Catalog;

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
    this.#index = new MiniSearch<Doc>({
      fields: ["name", "title", "description", "params", "upstream"],
      storeFields: [],
      processTerm: normalise,
      searchOptions: {
        boost: { name: 3, title: 2.5, upstream: 1.5, params: 1, description: 1 },
        prefix: (term) => term.length >= 4,
        fuzzy: (term) => (term.length >= 6 ? 0.2 : false),
        combineWith: "OR",
        processTerm: normalise,
      },
    });
    this.#index.addAll([...catalog.tools.values()].map(docOf));
  }

  search(query: string, access: Access, limit = 8): SearchHit[] {
    const results = this.#index.search(query, {
      filter: (result) => allows(access, result.id as string),
    });
    return results.slice(0, limit).map((r) => {
      const tool = this.#catalog.tools.get(r.id as string)!;
      return {
        name: tool.exposed,
        title: tool.entry.title ?? tool.entry.annotations?.title ?? tool.original,
        upstream: tool.upstream.name,
        summary: firstSentence(tool.entry.description ?? ""),
        score: Math.round(r.score * 100) / 100,
      };
    });
  }
}

function docOf(tool: CatalogTool): Doc {
  const properties = (tool.entry.inputSchema?.properties ?? {}) as Record<string, { description?: string }>;
  const params = Object.entries(properties)
    .map(([key, value]) => `${words(key)} ${value?.description ?? ""}`)
    .join(" ");
  return {
    id: tool.exposed,
    name: words(tool.original),
    title: tool.entry.title ?? "",
    description: tool.entry.description ?? "",
    params,
    upstream: words(tool.upstream.namespace),
  };
}

/** `create_issue` / `listPullRequests` -> "create issue" / "list pull requests". */
function words(identifier: string): string {
  return identifier.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_\-.]+/g, " ");
}

const STOP = new Set([
  "a",
  "an",
  "the",
  "of",
  "to",
  "in",
  "on",
  "for",
  "and",
  "or",
  "is",
  "it",
  "by",
  "with",
  "my",
  "me",
  "i",
  "from",
  "this",
  "that",
  "all",
  "into",
]);

/** Lower-cases, drops stop words and strips common English endings so "issues"/"issue" meet. */
function normalise(term: string): string | null {
  const t = term.toLowerCase();
  if (STOP.has(t)) return null;
  if (t.length > 4 && t.endsWith("ies")) return `${t.slice(0, -3)}y`;
  if (t.length > 4 && t.endsWith("es") && /(ch|sh|x|ss)es$/.test(t)) return t.slice(0, -2);
  if (t.length > 3 && t.endsWith("s") && !t.endsWith("ss")) return t.slice(0, -1);
  return t;
}

function firstSentence(text: string): string {
  const match = /^(.+?[.!?])(\s|$)/s.exec(text);
  return (match?.[1] ?? text).slice(0, 200);
}
