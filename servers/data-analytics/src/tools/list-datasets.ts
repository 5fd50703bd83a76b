import { z } from "@toolshed/server";
import { datasetInfoSchema, listDatasets } from "../datasets.js";
import { defineTool } from "../deps.js";

export const listDatasetsTool = defineTool({
  name: "list_datasets",
  title: "List datasets",
  description:
    "Lists the registered datasets with their source, format, row count (an estimate, marked ~, for PostgreSQL tables of 100,000 rows or more) and column types. Call it first to find dataset names for query, describe_dataset and analyze.",
  input: z.object({}),
  output: z.object({ datasets: z.array(datasetInfoSchema) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  render: ({ datasets }) =>
    datasets.length === 0
      ? "No datasets yet; add one with register_dataset or load_inline_dataset."
      : datasets
          .map(
            (d) =>
              `${d.name} (${d.rowCountEstimated ? `~${d.rowCount} rows (estimate)` : `${d.rowCount} rows`}, ${d.format} from ${d.source}): ${d.columns.map((c) => `${c.name} ${c.type}`).join(", ")}`,
          )
          .join("\n"),
  handler: async (_input, ctx) => ({ datasets: await listDatasets(ctx.deps.engine) }),
});
