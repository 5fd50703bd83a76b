import { definers, ToolshedError } from "@toolshed/server";
import type { Config } from "./config.js";
import type { Embedder } from "./embedders/embedder.js";
import { OfflineEmbedder } from "./embedders/offline.js";
import { OpenAICompatibleEmbedder } from "./embedders/openai-compatible.js";
import { openPGlite, openPostgres, VectorStore } from "./store/index.js";

export interface Deps {
  store: VectorStore;
  embedder: Embedder;
}

/** This server's definers: `ctx.config` and `ctx.deps` typed in every tool and resource. */
export const { defineTool, defineResource } = definers<Config, Deps>();

export function makeEmbedder(config: Config): Embedder {
  if (config.embedder === "offline")
    return new OfflineEmbedder({ workers: config.embedWorkers, bulkNice: config.embedNice });
  if (!config.embeddingUrl) {
    throw new ToolshedError(
      "invalid_input",
      "--embedder openai-compatible needs --embedding-url (TOOLSHED_EMBEDDING_URL), e.g. http://localhost:11434/v1",
    );
  }
  return new OpenAICompatibleEmbedder({
    url: config.embeddingUrl,
    model: config.embeddingModel,
    apiKey: config.embeddingApiKey,
    dimension: config.embeddingDimension,
    batchSize: config.embeddingBatchSize,
    allowPrivateNetwork: config.embeddingAllowPrivate,
    timeoutMs: config.queryTimeoutMs,
  });
}

/** PostgreSQL when a URL is configured, embedded PGlite in the data dir otherwise. */
export async function openDeps(config: Config): Promise<Deps> {
  const embedder = makeEmbedder(config);
  const sql = config.postgresUrl
    ? await openPostgres({
        url: config.postgresUrl,
        poolSize: config.postgresPoolSize,
        efSearch: config.efSearch,
        statementTimeoutMs: config.queryTimeoutMs,
        maintenanceWorkMemMb: config.maintenanceWorkMemMb,
      })
    : await openPGlite(config.dataDir, {
        efSearch: config.efSearch,
        maintenanceWorkMemMb: config.maintenanceWorkMemMb,
      });
  return {
    store: await VectorStore.open(sql, { m: config.hnswM, efConstruction: config.hnswEfConstruction }),
    embedder,
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await deps.store.close();
  await deps.embedder.close?.();
}
