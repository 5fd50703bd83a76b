import { defineTool, type AnyObjectSchema, type ToolDefinition } from "@toolshed/server";
import type { Config } from "./config.js";
import type { Downloader } from "./downloads.js";
import type { Engine } from "./engine.js";

export interface Deps {
  engine: Engine;
  /** Fetches dataset files from the --allow-url bases (refuses everything when there are none). */
  downloads: Downloader;
}

/** defineTool with this server's config and deps types filled in. */
export function defineAnalyticsTool<In extends AnyObjectSchema, Out extends AnyObjectSchema>(
  tool: ToolDefinition<In, Out, Config, Deps>,
): ToolDefinition<In, Out, Config, Deps> {
  return defineTool(tool);
}
