import { ToolshedError, defineResource } from "@toolshed/server";
import type { Config } from "./config.js";
import { getDataset, listDatasets } from "./datasets.js";
import type { Deps } from "./deps.js";
import { latestEngine } from "./engine.js";

export const SAMPLE_MAX_ROWS = 10_000;

export const datasetSchemaResource = defineResource<Config, Deps>({
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
  complete: {
    // Completion callbacks get no context from the kit, so they use the engine setup last opened.
    name: async (value) => {
      const engine = latestEngine();
      if (!engine) return [];
      const names = (await listDatasets(engine)).map((d) => d.name);
      return names.filter((n) => n.startsWith(value)).slice(0, 100);
    },
  },
  read: async (uri, variables, ctx) => {
    const info = await getDataset(ctx.deps.engine, String(variables.name));
    return [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(info, null, 2) }];
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

export const sampleDatasetResource = defineResource<Config, Deps>({
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
