import { ToolshedError, UsageError, z, type AnyTool } from "@toolshed/server";
import type { Config } from "./config.js";
import { defineTool, type Toolset } from "./tools/common.js";
import { TOOLSET_ABOUT, TOOLSETS, selectTools, toolsetToolNames, toolsetsOf } from "./toolsets.js";

/*
 * --dynamic-toolsets (the official server's mode of that name): the model starts with three discovery
 * tools, plus whatever --toolsets / --tools turn on, and enables other toolsets as it needs them. The
 * kit lists a `hidden` tool once `ctx.showTools` names it and tells clients the list changed.
 *
 * What is enabled is state of the server process, shared by all its sessions (the official server's
 * is per session; over stdio that is the same thing). A 2026-07-28 client of several replicas may
 * therefore list a different set on each, so a tool of any toolset the configuration allows answers
 * a call wherever it lands: enabling decides what is listed, not what may be called (--read-only and
 * --exclude-tools still decide that).
 */

const READ_LOCAL = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** Every tool the configuration allows, ignoring which toolsets are on: what can be enabled. */
function allowed(config: Config): AnyTool[] {
  return selectTools({ ...config, toolsets: ["all"], tools: [] });
}

/** The tools listed at start: --toolsets (none unless given) and --tools. */
function listedAtStart(config: Config): Set<string> {
  return new Set(selectTools({ ...config, toolsets: config.toolsets ?? [] }).map((t) => t.name));
}

/** The toolsets a toolset name stands for, or a tool error naming the valid ones. */
function toolsetsNamed(name: string): readonly Toolset[] {
  try {
    return toolsetsOf(name);
  } catch (err) {
    if (err instanceof UsageError) throw new ToolshedError("invalid_input", err.message);
    throw err;
  }
}

/** A toolset's tools this configuration allows (none in --read-only for a toolset that only writes). */
function toolsOf(config: Config, set: Toolset): AnyTool[] {
  const names = new Set(toolsetToolNames(set));
  return allowed(config).filter((t) => names.has(t.name));
}

const toolsetName = z.string().describe("Toolset name, from list_available_toolsets");

const listAvailableToolsets = defineTool({
  toolset: "dynamic",
  name: "list_available_toolsets",
  title: "List toolsets",
  description:
    "The GitHub toolsets you can enable, each with what it is for, whether it is enabled and how many tools it has. " +
    "Call this first when the tool you need is not listed, then get_toolset_tools or enable_toolset.",
  input: z.object({}),
  output: z.object({
    toolsets: z.array(
      z.object({ name: z.string(), description: z.string(), enabled: z.boolean(), tools: z.number() }),
    ),
  }),
  annotations: READ_LOCAL,
  handler: (_input, ctx) => ({
    toolsets: TOOLSETS.flatMap((name) => {
      const tools = toolsOf(ctx.config, name);
      if (!tools.length) return [];
      const about = TOOLSET_ABOUT[name as Exclude<Toolset, "dynamic">];
      return [{ name, description: about, enabled: ctx.deps.enabled.has(name), tools: tools.length }];
    }),
  }),
});

const getToolsetTools = defineTool({
  toolset: "dynamic",
  name: "get_toolset_tools",
  title: "Tools of a toolset",
  description:
    "The tools a toolset would add (name, title, whether it only reads), to decide before enabling it, e.g. {toolset: 'actions'}.",
  input: z.object({ toolset: toolsetName }),
  output: z.object({
    toolset: z.string(),
    enabled: z.boolean(),
    tools: z.array(z.object({ name: z.string(), title: z.string(), read_only: z.boolean() })),
  }),
  annotations: READ_LOCAL,
  handler: ({ toolset }, ctx) => {
    const sets = toolsetsNamed(toolset);
    const tools = [...new Set(sets.flatMap((set) => toolsOf(ctx.config, set)))];
    return {
      toolset,
      enabled: sets.every((set) => ctx.deps.enabled.has(set)),
      tools: tools.map((t) => ({ name: t.name, title: t.title, read_only: t.annotations.readOnlyHint })),
    };
  },
});

const enableToolset = defineTool({
  toolset: "dynamic",
  name: "enable_toolset",
  title: "Enable a toolset",
  description:
    "Adds a toolset's tools to your tool list (the client is told the list changed; list tools again to see them), " +
    "e.g. {toolset: 'pull_requests'}. Enabling an enabled toolset does nothing.",
  input: z.object({ toolset: toolsetName }),
  output: z.object({ toolset: z.string(), added: z.array(z.string()), tools: z.array(z.string()) }),
  // It changes which tools are listed, nothing on GitHub: --read-only keeps it.
  annotations: READ_LOCAL,
  handler: ({ toolset }, ctx) => {
    const sets = toolsetsNamed(toolset);
    const tools = [...new Set(sets.flatMap((set) => toolsOf(ctx.config, set).map((t) => t.name)))];
    if (!tools.length) {
      throw new ToolshedError(
        "invalid_input",
        `toolset '${toolset}' has no tools in this configuration (--read-only or --exclude-tools leave none); ` +
          "call list_available_toolsets",
      );
    }
    for (const set of sets) ctx.deps.enabled.add(set);
    return { toolset, added: ctx.showTools(tools), tools };
  },
});

export const DISCOVERY_TOOLS: readonly AnyTool[] = [listAvailableToolsets, getToolsetTools, enableToolset];

/**
 * The tool list of --dynamic-toolsets: the discovery tools, then every tool the configuration
 * allows, those not turned on at start `hidden` until enable_toolset shows them.
 */
export function dynamicTools(config: Config): AnyTool[] {
  const shown = listedAtStart(config);
  return [
    ...DISCOVERY_TOOLS,
    ...allowed(config).map((t) => (shown.has(t.name) ? t : { ...t, hidden: true })),
  ];
}

/** The toolsets on at start under --dynamic-toolsets: those --toolsets names (none by default). */
export function enabledAtStart(config: Config): Set<Toolset> {
  return new Set((config.toolsets ?? []).flatMap((name) => toolsetsOf(name)));
}
