import type { AnyObjectSchema, ChangeNotifier, ToolDefinition, z } from "@toolshed/server";
import type { Config } from "./config.js";
import type { Deps } from "./deps.js";

/** The resources of a dataset, which change with it (see resources.ts). */
export function datasetResourceUris(name: string): string[] {
  return [`dataset://${name}/schema`, `dataset://${name}/sample`];
}

/**
 * A tool that writes the dataset `target(input)` names, which tells clients once the write is done:
 * `notifications/resources/updated` for the dataset's resources (a replaced dataset, or a new one a
 * client subscribed to ahead), and the resource list changed when the name is new.
 */
export function announcesDatasetWrite<In extends AnyObjectSchema, Out extends AnyObjectSchema>(
  tool: ToolDefinition<In, Out, Config, Deps>,
  target: (input: z.output<In>) => string,
): ToolDefinition<In, Out, Config, Deps> {
  return {
    ...tool,
    handler: async (input, ctx) => {
      const name = target(input);
      const existed = (await ctx.deps.engine.findDataset(name)) !== undefined;
      const result = await tool.handler(input, ctx);
      datasetWritten(ctx.notify, name, existed);
      return result;
    },
  };
}

function datasetWritten(notify: ChangeNotifier, name: string, existed: boolean): void {
  for (const uri of datasetResourceUris(name)) notify.resourceUpdated(uri);
  if (!existed) notify.resourceListChanged();
}
