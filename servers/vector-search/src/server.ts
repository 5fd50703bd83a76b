import { defineServer, packageVersion } from "@toolshed/server";
import { configSchema } from "./config.js";
import { closeDeps, openDeps, type Deps } from "./deps.js";
import { collectionResource } from "./resources.js";
import { buildIndexTool } from "./tools/build-index.js";
import { collectionInfoTool } from "./tools/collection-info.js";
import { createCollectionTool } from "./tools/create-collection.js";
import { deleteCollectionTool } from "./tools/delete-collection.js";
import { deleteDocumentsTool } from "./tools/delete-documents.js";
import { embedTextTool } from "./tools/embed-text.js";
import { getDocumentsTool } from "./tools/get-documents.js";
import { listCollectionsTool } from "./tools/list-collections.js";
import { searchTool } from "./tools/search.js";
import { upsertDocumentsTool } from "./tools/upsert-documents.js";

const version = packageVersion(import.meta.url);

export { configSchema } from "./config.js";
export type { Config } from "./config.js";
export type { Deps } from "./deps.js";

export default defineServer({
  name: "vector-search",
  title: "Toolshed vector search",
  version,
  instructions:
    "Stores documents in named collections and finds them by meaning (vector), by words (keyword) or both (hybrid, the default). Start with list_collections; create one with create_collection (index 'deferred' then build_index for a bulk load; text is embedded by the server's embedder, offline by default, or bring your own vectors with embedder 'none'); add or replace documents with upsert_documents (optionally chunking long text); find with search (top_k, metadata filter, min_score); read with get_documents; remove with delete_documents or delete_collection.",
  config: configSchema,
  setup: async ({ config }): Promise<Deps> => openDeps(config),
  ready: (deps) => deps.store.ping(),
  teardown: (deps) => closeDeps(deps),
  tools: [
    listCollectionsTool,
    createCollectionTool,
    collectionInfoTool,
    deleteCollectionTool,
    buildIndexTool,
    upsertDocumentsTool,
    getDocumentsTool,
    deleteDocumentsTool,
    searchTool,
    embedTextTool,
  ],
  resources: [collectionResource],
  // collection://{name} is updated on upsert, delete and build_index; the list on create and delete.
  notifications: { resourceUpdated: true, resourceListChanged: true },
});
