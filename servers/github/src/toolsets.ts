import { UsageError } from "@toolshed/server";
import type { Config } from "./config.js";
import { actionTools } from "./tools/actions.js";
import type { GitHubTool, Toolset } from "./tools/common.js";
import { getMeTool } from "./tools/context.js";
import { issueTools } from "./tools/issues.js";
import { notificationTools } from "./tools/notifications.js";
import { pullRequestTools } from "./tools/pull-requests.js";
import { repoTools } from "./tools/repos.js";
import { searchUsersTool } from "./tools/users.js";

export const ALL_TOOLS: readonly GitHubTool[] = [
  getMeTool,
  ...repoTools,
  ...issueTools,
  ...pullRequestTools,
  searchUsersTool,
  ...actionTools,
  ...notificationTools,
];

export const TOOLSETS: readonly Toolset[] = [
  "context",
  "repos",
  "issues",
  "pull_requests",
  "users",
  "actions",
  "notifications",
];
export const DEFAULT_TOOLSETS: readonly Toolset[] = ["context", "repos", "issues", "pull_requests", "users"];

/**
 * The tools a configuration lists: the toolsets (default: the default ones, or none when only
 * --tools is given), plus --tools, minus --exclude-tools, minus every write tool in read-only mode.
 * Unknown names are usage errors, so a typo does not silently hide tools.
 */
export function selectTools(
  config: Pick<Config, "toolsets" | "tools" | "excludeTools" | "readOnly">,
): GitHubTool[] {
  const names = new Set(ALL_TOOLS.map((t) => t.name));
  for (const name of [...config.tools, ...config.excludeTools]) {
    if (!names.has(name)) {
      throw new UsageError(`unknown tool '${name}'; the tools are: ${[...names].join(", ")}`);
    }
  }
  const sets = new Set<string>();
  for (const name of config.toolsets ?? (config.tools.length ? [] : ["default"])) {
    if (name === "all") TOOLSETS.forEach((s) => sets.add(s));
    else if (name === "default") DEFAULT_TOOLSETS.forEach((s) => sets.add(s));
    else if ((TOOLSETS as readonly string[]).includes(name)) sets.add(name);
    else
      throw new UsageError(
        `unknown toolset '${name}'; the toolsets are: default, all, ${TOOLSETS.join(", ")}`,
      );
  }
  const chosen = new Set(config.tools);
  const exclude = new Set(config.excludeTools);
  return ALL_TOOLS.filter(
    (t) =>
      (sets.has(t.toolset) || chosen.has(t.name)) &&
      !exclude.has(t.name) &&
      !(config.readOnly && !t.annotations.readOnlyHint),
  );
}
