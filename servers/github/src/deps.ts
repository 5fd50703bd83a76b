import type { HandlerContext } from "@toolshed/server";
import type { Config } from "./config.js";
import type { CallerTokens } from "./github/callers.js";
import type { GitHub } from "./github/client.js";
import type { Toolset } from "./tools/common.js";

export interface Deps {
  gh: GitHub;
  /** Repository visibility by "owner/repo", for lockdown (kept for the process's life: it rarely changes). */
  visibility: Map<string, boolean>;
  /** --dynamic-toolsets: the toolsets enabled so far in this process. */
  enabled: Set<Toolset>;
  /** Each HTTP caller's own GitHub token (--caller-tokens-file). */
  callers?: CallerTokens;
}

export type Ctx = HandlerContext<Config, Deps>;
