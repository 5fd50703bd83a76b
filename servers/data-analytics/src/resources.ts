import { ToolshedError, type CompletionContext } from "@toolshed/server";
import type { Config } from "./config.js";
import { getDataset, listDatasets } from "./datasets.js";
import { defineResource, type Deps } from "./deps.js";
import { capBytes } from "./render.js";

export const SAMPLE_MAX_ROWS = 10_000;

/** Rows in a dataset's sample resource; its bytes are capped like a query's. */
export const DATASET_SAMPLE_ROWS = 20;

/** Completes a dataset name from this server's registered datasets. */
async function completeDatasetName(value: string, ctx: CompletionContext<Config, Deps>): Promise<string[]> {
  const names = (await listDatasets(ctx.deps.engine)).map((d) => d.name);
  return names.filter((n) => n.startsWith(value)).slice(0, 100);
}

export const datasetSchemaResource = defineResource({
  name: "dataset_schema",
  title: "Dataset schema",
  description: "The columns and types, row count and source of one registered dataset, as JSON.",
  mimeType: "application/json",
  uriTemplate: "dataset://{name}/schema",
  list: async (ctx) =>
    (await listDatasets(ctx.deps.engine)).map((d) => ({
      uri: `dataset://${d.name}/schema`,
      name: `${d.name} schema`,
      mimeType: "application/json",
    })),
  complete: { name: completeDatasetName },
  read: async (uri, variables, ctx) => {
    const info = await getDataset(ctx.deps.engine, String(variables.name));
    return [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(info, null, 2) }];
  },
});

export const datasetSampleResource = defineResource({
  name: "dataset_sample",
  title: "Dataset sample rows",
  description: `The first ${DATASET_SAMPLE_ROWS} rows of one registered dataset as JSON objects, with its column types and row count (bytes capped like a query's).`,
  mimeType: "application/json",
  uriTemplate: "dataset://{name}/sample",
  list: async (ctx) =>
    (await listDatasets(ctx.deps.engine)).map((d) => ({
      uri: `dataset://${d.name}/sample`,
      name: `${d.name} sample`,
      mimeType: "application/json",
    })),
  complete: { name: completeDatasetName },
  read: async (uri, variables, ctx) => {
    const { engine } = ctx.deps;
    const info = await getDataset(engine, String(variables.name));
    const result = await engine.run(`SELECT * FROM ${engine.tableRef(info.name)} LIMIT ?`, {
      params: [DATASET_SAMPLE_ROWS],
    });
    const { rows, cut } = capBytes(result.rows, ctx.config.maxBytes);
    const body = {
      name: info.name,
      rowCount: info.rowCount,
      columns: result.columns,
      rows: rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c.name, r[i]]))),
      ...(cut ? { truncated: true } : {}),
    };
    return [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(body, null, 2) }];
  },
});

/** A deterministic generated sales table, for trying the server without a file. */
export function sampleCsv(rows: number): string {
  const regions = ["north", "south", "east", "west"];
  const products = ["widget", "gadget", "gizmo"];
  const lines = ["id,date,region,product,units,unit_price,amount"];
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 1; i <= rows; i++) {
    const day = new Date(Date.UTC(2024, 0, 1) + (i % 366) * 86_400_000).toISOString().slice(0, 10);
    const units = 1 + Math.floor(rand() * 20);
    const price = Math.round((5 + rand() * 95) * 100) / 100;
    const amount = Math.round(units * price * 100) / 100;
    lines.push(`${i},${day},${regions[i % 4]},${products[i % 3]},${units},${price},${amount}`);
  }
  return `${lines.join("\n")}\n`;
}

export const sampleDatasetResource = defineResource({
  name: "sample_dataset",
  title: "Generated sample dataset",
  description: `A generated sales table as CSV with the given number of rows (1-${SAMPLE_MAX_ROWS}), e.g. dataset://sample/100. Load it with load_inline_dataset to try the tools.`,
  mimeType: "text/csv",
  uriTemplate: "dataset://sample/{rows}",
  read: (uri, variables) => {
    const rows = Number(variables.rows);
    if (!Number.isInteger(rows) || rows < 1) {
      throw new ToolshedError("invalid_input", `rows must be a whole number from 1 to ${SAMPLE_MAX_ROWS}`);
    }
    return [{ uri: uri.href, mimeType: "text/csv", text: sampleCsv(Math.min(rows, SAMPLE_MAX_ROWS)) }];
  },
});
