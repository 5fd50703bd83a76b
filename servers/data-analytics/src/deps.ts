import { definers } from "@toolshed/server";
import type { Config } from "./config.js";
import type { Downloader } from "./downloads.js";
import type { Engine } from "./engine/engine.js";
import type { ResultCursors } from "./result-cursors.js";

export interface Deps {
  engine: Engine;
  /** Fetches dataset files from the --allow-url bases (refuses everything when there are none). */
  downloads: Downloader;
  /** Query results kept for paging with `cursor`: in memory, or in Redis when replicas share one. */
  cursors: ResultCursors;
}

/** This server's definers: `ctx.config` and `ctx.deps` typed in every tool, resource and prompt. */
export const { defineTool, defineResource, definePrompt } = definers<Config, Deps>();
