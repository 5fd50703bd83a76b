import { createRequire } from "node:module";
import type MiniSearch from "minisearch";
import { wireAnnotations } from "./tool-json.js";

const require = createRequire(import.meta.url);
let miniSearchClass: typeof MiniSearch | undefined;
/**
 * MiniSearch, loaded when the first index is built: a server not in search mode never loads it.
 * Loaded with `require` (its CommonJS build) because `ToolIndex` is built synchronously.
 */
function miniSearch(): typeof MiniSearch {
  return (miniSearchClass ??= require("minisearch") as typeof MiniSearch);
}

/**
 * What the index reads of one tool: its `tools/list` entry (name, title, description, the names and
 * descriptions of its input's properties), and optionally a group it belongs to (a gateway's
 * upstream) and the name to index when it differs from the listed one (a namespaced name).
 */
export interface IndexedTool {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema?: { properties?: Record<string, unknown> } | Record<string, unknown> | undefined;
  annotations?: { title?: string | undefined } | Record<string, unknown> | undefined;
  /** Indexed instead of `name` (e.g. a gateway's tool name without its upstream prefix). */
  indexName?: string;
  /** A group the tool belongs to (e.g. a gateway's upstream), searchable with a lower weight. */
  group?: string;
}

/** One search result: the tool's name, title and the first sentence of its description. */
export interface ToolSearchHit {
  name: string;
  title: string;
  /** The first sentence of the description (at most 200 characters). */
  summary: string;
  /** The BM25 score, rounded to two places: higher is better. */
  score: number;
}

interface Doc {
  id: string;
  name: string;
  title: string;
  description: string;
  params: string;
  group: string;
}

/**
 * Full-text search over a tool catalogue, for search mode (`search_tools`): MiniSearch's BM25 over
 * names (split on `_ - .` and camelCase), titles, descriptions and parameter names and
 * descriptions, with prefix matching for words of four letters or more, light fuzzy matching for
 * six or more, stop words dropped and plural endings folded ("issues" finds "issue"); names and
 * titles weigh more than prose. Built once per catalogue; searching does not change it.
 */
export class ToolIndex<T extends IndexedTool = IndexedTool> {
  readonly #index: MiniSearch<Doc>;
  readonly #tools = new Map<string, T>();

  constructor(tools: Iterable<T>) {
    const MiniSearchClass = miniSearch();
    this.#index = new MiniSearchClass<Doc>({
      fields: ["name", "title", "description", "params", "group"],
      storeFields: [],
      processTerm: normalise,
      searchOptions: {
        boost: { name: 3, title: 2.5, group: 1.5, params: 1, description: 1 },
        prefix: (term) => term.length >= 4,
        fuzzy: (term) => (term.length >= 6 ? 0.2 : false),
        combineWith: "OR",
        processTerm: normalise,
      },
    });
    const docs: Doc[] = [];
    for (const tool of tools) {
      if (this.#tools.has(tool.name)) continue;
      this.#tools.set(tool.name, tool);
      docs.push(docOf(tool));
    }
    this.#index.addAll(docs);
  }

  get size(): number {
    return this.#tools.size;
  }

  /** The tool named `name`, if indexed. */
  get(name: string): T | undefined {
    return this.#tools.get(name);
  }

  /**
   * The tools that best match `query`, best first: at most `limit` (8 unless set), only those
   * `filter` lets through (e.g. what the caller may see).
   */
  search(
    query: string,
    options: { limit?: number; filter?: (tool: T) => boolean } = {},
  ): (ToolSearchHit & { tool: T })[] {
    const filter = options.filter;
    const results = this.#index.search(
      query,
      filter ? { filter: (result) => filter(this.#tools.get(result.id as string)!) } : {},
    );
    return results.slice(0, options.limit ?? 8).map((r) => {
      const tool = this.#tools.get(r.id as string)!;
      return { ...summaryOf(tool), score: Math.round(r.score * 100) / 100, tool };
    });
  }
}

/** A tool's name, title and one-line summary, as search_tools lists it. */
export function summaryOf(tool: IndexedTool): Omit<ToolSearchHit, "score"> {
  const annotationsTitle = (tool.annotations as { title?: unknown } | undefined)?.title;
  return {
    name: tool.name,
    title: tool.title ?? (typeof annotationsTitle === "string" ? annotationsTitle : tool.name),
    summary: firstSentence(tool.description ?? ""),
  };
}

function docOf(tool: IndexedTool): Doc {
  const properties = ((tool.inputSchema as { properties?: unknown } | undefined)?.properties ?? {}) as Record<
    string,
    { description?: unknown } | undefined
  >;
  const params = Object.entries(properties)
    .map(([key, value]) => `${words(key)} ${typeof value?.description === "string" ? value.description : ""}`)
    .join(" ");
  return {
    id: tool.name,
    name: words(tool.indexName ?? tool.name),
    title: tool.title ?? "",
    description: tool.description ?? "",
    params,
    group: words(tool.group ?? ""),
  };
}

/** `create_issue` / `listPullRequests` / `repos.get` -> "create issue" / "list pull requests" / "repos get". */
function words(identifier: string): string {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/[_\-./]+/g, " ");
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

/** The three tools of search mode, by name. */
export const SEARCH_MODE_TOOLS = ["search_tools", "describe_tool", "call_tool"] as const;

/**
 * The `tools/list` entries of search mode: `search_tools`, `describe_tool`, `call_tool`. `scope`
 * says where the tools are ("this server's tools", "tools across every connected server") and
 * `example` is a tool name a model might pass.
 */
export function searchModeTools(
  options: { scope?: string; example?: string } = {},
): Record<string, unknown>[] {
  const scope = options.scope ?? "this server's tools";
  const example = options.example ? `, e.g. '${options.example}'` : "";
  return [
    {
      name: "search_tools",
      title: "Search the tool catalogue",
      description: `Finds ${scope} by what they do. Returns up to \`limit\` tools (name, title, one-line summary), best first. Then call describe_tool for the arguments, and call_tool to run it.`,
      inputSchema: {
        type: "object",
        properties: {
          query: {
            type: "string",
            minLength: 1,
            description: "What you want to do, in a few words, e.g. 'open an issue'.",
          },
          limit: {
            type: "integer",
            minimum: 1,
            maximum: 20,
            description: "How many tools to return (8 unless set).",
          },
        },
        required: ["query"],
        additionalProperties: false,
      },
      annotations: wireAnnotations({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      }),
    },
    {
      name: "describe_tool",
      title: "Describe a tool",
      description:
        "Returns one tool's full description, input schema (its arguments), output schema and annotations, by the name search_tools gave. Read it before call_tool.",
      inputSchema: {
        type: "object",
        properties: {
          name: {
            type: "string",
            minLength: 1,
            description: `The tool's name from search_tools${example}.`,
          },
        },
        required: ["name"],
        additionalProperties: false,
      },
      annotations: wireAnnotations({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      }),
    },
    {
      name: "call_tool",
      title: "Call a tool",
      description:
        "Runs one tool by name with its arguments (an object matching the schema describe_tool returned) and returns that tool's result as is.",
      inputSchema: {
        type: "object",
        properties: {
          name: { type: "string", minLength: 1, description: "The tool's name from search_tools." },
          arguments: {
            type: "object",
            description: "The tool's arguments, as describe_tool's inputSchema says.",
            additionalProperties: true,
          },
        },
        required: ["name"],
        additionalProperties: false,
      },
      annotations: wireAnnotations({
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      }),
    },
  ];
}
