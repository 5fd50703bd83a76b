import { defineServer, packageVersion } from "@toolshed/server";
import * as path from "node:path";
import { chartAppResource } from "./chart-app.js";
import { configSchema } from "./config.js";
import type { Deps } from "./deps.js";
import { Downloader } from "./downloads.js";
import { openEngine } from "./engine/open-engine.js";
import { dataAnalysisWorkflowPrompt } from "./prompts.js";
import { RedisResultCursors } from "./redis-result-cursors.js";
import { MemoryResultCursors, type ResultCursors } from "./result-cursors.js";
import { datasetSampleResource, datasetSchemaResource, sampleDatasetResource } from "./resources.js";
import { analyzeTool } from "./tools/analyze.js";
import { chartTool } from "./tools/chart.js";
import { correlateTool } from "./tools/correlate.js";
import { describeDatasetTool } from "./tools/describe-dataset.js";
import { explainTool } from "./tools/explain.js";
import { exportDatasetTool } from "./tools/export-dataset.js";
import { listDatasetsTool } from "./tools/list-datasets.js";
import { loadInlineDatasetTool } from "./tools/load-inline-dataset.js";
import { queryTool } from "./tools/query.js";
import { registerDatasetTool } from "./tools/register-dataset.js";
import { transformTool } from "./tools/transform.js";
import { validateJsonTool } from "./tools/validate-json.js";

const version = packageVersion(import.meta.url);

export { configSchema } from "./config.js";
export type { Config } from "./config.js";

export default defineServer({
  name: "data-analytics",
  title: "Toolshed data analytics",
  version,
  instructions:
    "Answers questions about tabular data on an embedded DuckDB (or, when configured, a PostgreSQL database, read-only). Start with list_datasets; add data with register_dataset (files under the allowed roots, or URLs under --allow-url bases) or load_inline_dataset; learn a dataset with describe_dataset; summarise with analyze and correlate; reshape into a new dataset with transform and write it out with export_dataset; answer specific questions with query (read-only SQL over datasets by name; a long result comes in pages, the next one read with the answer's cursor). validate_json checks JSON text.",
  config: configSchema,
  setup: async ({ config, metrics, redisUrl, log }): Promise<Deps> => {
    const downloads = Downloader.create({
      allowUrl: config.allowUrl,
      dataDir: path.resolve(config.dataDir),
      maxBytes: config.maxDownloadBytes,
      timeoutMs: config.downloadTimeoutMs,
      metrics,
    });
    // With replicas sharing a Redis, a cursor from one reads on all of them; alone, in memory.
    const cursors: ResultCursors = redisUrl
      ? await RedisResultCursors.connect(redisUrl, {
          ttlMs: config.cursorTtlMs,
          keyPrefix: "toolshed:data-analytics:cursors",
          log,
        })
      : new MemoryResultCursors(config.cursorTtlMs);
    try {
      return { engine: await openEngine(config), downloads, cursors };
    } catch (err) {
      await cursors.close();
      throw err;
    }
  },
  ready: (deps) => deps.engine.ping(),
  teardown: async (deps) => {
    await deps.downloads.close();
    await deps.engine.close();
    await deps.cursors.close();
  },
  tools: [
    listDatasetsTool,
    registerDatasetTool,
    loadInlineDatasetTool,
    describeDatasetTool,
    queryTool,
    explainTool,
    analyzeTool,
    correlateTool,
    transformTool,
    exportDatasetTool,
    chartTool,
    validateJsonTool,
  ],
  resources: [datasetSchemaResource, datasetSampleResource, sampleDatasetResource, chartAppResource],
  prompts: [dataAnalysisWorkflowPrompt],
  // register_dataset, load_inline_dataset and transform announce the datasets they write
  // (dataset-changes.ts): dataset://{name}/schema and /sample updated, the list when a name is new.
  notifications: { resourceUpdated: true, resourceListChanged: true },
});
