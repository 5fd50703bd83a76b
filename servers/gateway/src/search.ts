import { ToolIndex, type IndexedTool } from "@toolshed/server";
import { canUse, type Access, type Catalog, type CatalogTool } from "./catalog.js";

export interface SearchHit {
  name: string;
  title: string;
  upstream: string;
  /** The first sentence of the description. */
  summary: string;
  score: number;
}

/**
 * The catalogue's search for search mode: the kit's tool index (BM25 over names, titles,
 * descriptions and parameters) over every upstream tool, each indexed under its own name with its
 * upstream's namespace as a group, filtered by what the caller may use (its virtual server and
 * its scopes: a tool it lacks a scope for is never a hit). Built once per catalogue.
 */
export class ToolSearch {
  readonly #index: ToolIndex<IndexedTool & { catalog: CatalogTool }>;

  constructor(catalog: Catalog) {
    this.#index = new ToolIndex(
      [...catalog.tools.values()].map((tool) => ({
        name: tool.exposed,
        indexName: tool.original,
        group: tool.upstream.namespace,
        title: tool.entry.title,
        description: tool.entry.description,
        inputSchema: tool.entry.inputSchema,
        catalog: tool,
      })),
    );
  }

  search(query: string, access: Access, limit = 8): SearchHit[] {
    return this.#index
      .search(query, { limit, filter: (t) => canUse(access, t.catalog) })
      .map(({ name, summary, score, tool: { catalog } }) => ({
        name,
        title: catalog.entry.title ?? catalog.entry.annotations?.title ?? catalog.original,
        upstream: catalog.upstream.name,
        summary,
        score,
      }));
  }
}
