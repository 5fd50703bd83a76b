import { UsageError } from "@toolshed/server";
import type { Config } from "./config.js";
import { OFFICIAL_TOOLS, OFFICIAL_TOOLSETS } from "./official.js";
import { actionTools } from "./tools/actions.js";
import { runAsCaller, type GitHubTool, type Toolset } from "./tools/common.js";
import { getMeTool } from "./tools/context.js";
import { codeQualityTools } from "./tools/code-quality.js";
import { copilotTools } from "./tools/copilot.js";
import { discussionTools } from "./tools/discussions.js";
import { issueTools } from "./tools/issues.js";
import { moreTools } from "./tools/more.js";
import { notificationTools } from "./tools/notifications.js";
import { projectTools } from "./tools/projects.js";
import { pullRequestTools } from "./tools/pull-requests.js";
import { repoTools } from "./tools/repos.js";
import { searchUsersTool } from "./tools/users.js";

export const ALL_TOOLS: readonly GitHubTool[] = [
  getMeTool,
  ...repoTools,
  ...issueTools,
  ...pullRequestTools,
  searchUsersTool,
  ...copilotTools,
  ...actionTools,
  ...notificationTools,
  ...moreTools,
  ...discussionTools,
  ...projectTools,
  ...codeQualityTools,
].map(runAsCaller);

export const TOOLSETS: readonly Toolset[] = [
  "context",
  "repos",
  "issues",
  "pull_requests",
  "users",
  "copilot",
  "actions",
  "notifications",
  "gists",
  "stargazers",
  "labels",
  "orgs",
  "git",
  "code_security",
  "secret_protection",
  "dependabot",
  "security_advisories",
  "discussions",
  "projects",
  "code_quality",
];
/** The official server's default toolsets. */
export const DEFAULT_TOOLSETS: readonly Toolset[] = [
  "context",
  "repos",
  "issues",
  "pull_requests",
  "users",
  "copilot",
];

/** What each toolset is for, as --dynamic-toolsets' list_available_toolsets tells the model. */
export const TOOLSET_ABOUT: Record<Exclude<Toolset, "dynamic">, string> = {
  context: "The token's user, teams and rate limits",
  repos: "Repositories: search, files, commits, branches, tags, releases, file writes, forks",
  issues: "Issues: list, read, search, create, update, comment, sub-issues, labels and types",
  pull_requests: "Pull requests: list, read diffs/files/checks/reviews, create, update, merge, review",
  users: "User and organization search",
  copilot: "Copilot coding agent: assign an issue, request a review",
  actions: "GitHub Actions: workflows, runs, jobs, logs; rerun, cancel, dispatch",
  notifications: "Your notifications: list, mark read/done, subscriptions",
  gists: "Gists: list, read, create, update",
  stargazers: "Starred repositories: list, star, unstar",
  labels: "Labels: list, create, update, delete",
  orgs: "Organization search",
  git: "Git data: a repository's full tree",
  code_security: "Code scanning alerts",
  secret_protection: "Secret scanning alerts",
  dependabot: "Dependabot alerts",
  security_advisories: "Security advisories: global database, repository and organization ones",
  discussions: "Discussions: list, read, comments, categories; comment, reply, mark the answer",
  projects: "GitHub Projects: projects, fields, items; add, update and remove items",
  code_quality: "Code Quality findings",
};

/** Tools a toolset shares with another (the official server lists them in both). */
const SHARED: Partial<Record<Toolset, readonly string[]>> = {
  labels: ["list_issue_options"],
  orgs: ["search_users"],
};

/** Official toolset names that are another name for one of ours. */
const TOOLSET_ALIASES: Record<string, Toolset> = { copilot_issue_intents: "copilot" };

/** A tool name, ours or the official server's, as ours (a usage error for one that has no equivalent). */
export function toolName(name: string): string {
  if (ALL_TOOLS.some((t) => t.name === name)) return name;
  const official = OFFICIAL_TOOLS.find((t) => t.name === name);
  if (official?.tool) return official.tool;
  if (official) {
    throw new UsageError(
      `the official server's tool '${name}' (toolset ${official.toolset}) has no Toolshed equivalent yet; leave it out`,
    );
  }
  throw new UsageError(
    `unknown tool '${name}'; the tools are: ${ALL_TOOLS.map((t) => t.name).join(", ")} ` +
      "(the official server's names are accepted too)",
  );
}

/** The names of a toolset's tools, those it shares with another included. */
export function toolsetToolNames(set: Toolset): string[] {
  return [...ALL_TOOLS.filter((t) => t.toolset === set).map((t) => t.name), ...(SHARED[set] ?? [])];
}

export function toolsetsOf(name: string): readonly Toolset[] {
  if (name === "all") return TOOLSETS;
  if (name === "default") return DEFAULT_TOOLSETS;
  if ((TOOLSETS as readonly string[]).includes(name)) return [name as Toolset];
  const alias = TOOLSET_ALIASES[name];
  if (alias) return [alias];
  const valid = `default, all, ${TOOLSETS.join(", ")}`;
  if (OFFICIAL_TOOLSETS.includes(name)) {
    throw new UsageError(
      `the official server's toolset '${name}' is not available in Toolshed yet; leave it out (the toolsets are: ${valid})`,
    );
  }
  throw new UsageError(`unknown toolset '${name}'; the toolsets are: ${valid}`);
}

/**
 * The tools a configuration lists: the toolsets (default: the default ones, or none when only
 * --tools is given), plus --tools, minus --exclude-tools, minus every write tool in read-only mode.
 * Tool and toolset names may be ours or the official server's; unknown names are usage errors, so
 * a typo does not silently hide tools.
 */
export function selectTools(
  config: Pick<Config, "toolsets" | "tools" | "excludeTools" | "readOnly">,
): GitHubTool[] {
  const chosen = new Set(config.tools.map(toolName));
  const exclude = new Set(config.excludeTools.map(toolName));
  const sets = new Set<Toolset>();
  for (const name of config.toolsets ?? (config.tools.length ? [] : ["default"])) {
    for (const set of toolsetsOf(name)) sets.add(set);
  }
  for (const set of sets) for (const name of SHARED[set] ?? []) chosen.add(name);
  return ALL_TOOLS.filter(
    (t) =>
      (sets.has(t.toolset) || chosen.has(t.name)) &&
      !exclude.has(t.name) &&
      !(config.readOnly && !t.annotations.readOnlyHint),
  );
}

/**
 * What to tell a model that calls a tool this configuration does not serve (the kit adds it to the
 * unknown-tool error): the official server's name for one of ours, the toolset that holds one left
 * out, or why it is not there (read-only, --exclude-tools).
 */
export function unknownToolHint(
  name: string,
  config: Pick<Config, "toolsets" | "tools" | "excludeTools" | "readOnly" | "dynamicToolsets">,
): string | undefined {
  const official = OFFICIAL_TOOLS.find((t) => t.name === name && t.tool !== name);
  if (official && !official.tool) {
    return `the official server's ${name} has no Toolshed equivalent yet`;
  }
  const ours = ALL_TOOLS.find((t) => t.name === (official?.tool ?? name));
  if (!ours) return undefined;
  const renamed = official
    ? `the official server's ${name} is ${ours.name} here${official.how ? `, ${official.how}` : ""}`
    : "";
  const why = whyLeftOut(ours, config);
  return [renamed, why].filter(Boolean).join("; ") || undefined;
}

/** Why a tool of ours is not served under this configuration, as advice; "" when it is served. */
function whyLeftOut(
  tool: GitHubTool,
  config: Pick<Config, "toolsets" | "tools" | "excludeTools" | "readOnly" | "dynamicToolsets">,
): string {
  if (config.readOnly && !tool.annotations.readOnlyHint) {
    return `${tool.name} writes, and this server runs read-only (--read-only / GITHUB_READ_ONLY)`;
  }
  if (config.excludeTools.map(toolName).includes(tool.name)) {
    return `${tool.name} is excluded by --exclude-tools (GITHUB_EXCLUDE_TOOLS)`;
  }
  if (selectTools(config).some((t) => t.name === tool.name)) return "";
  return config.dynamicToolsets
    ? `${tool.name} is in the ${tool.toolset} toolset: call enable_toolset with "${tool.toolset}" first`
    : `${tool.name} is in the ${tool.toolset} toolset, which this server was not started with (add it to --toolsets / GITHUB_TOOLSETS)`;
}
