import type { CallToolResult, InputRequiredResult, McpServer } from "@modelcontextprotocol/server";
import { ToolshedError, toToolResult } from "@toolshed/errors";
import { z } from "zod";
import type { Runtime } from "./runtime.js";
import { principalOf, ToolCall, type ConnectionState, type Extra } from "./tool-call.js";
import { parseArguments } from "./tool-json.js";
import { allowsAll } from "./tool-scopes.js";
import { searchModeTools } from "./tool-search.js";

/** Search mode's tools/list: the same three entries for every caller. */
export const SEARCH_MODE_ENTRIES = searchModeTools();

const searchArgs = z.object({
  query: z.string().trim().min(1, "search_tools needs `query`: what you want to do, in a few words"),
  limit: z.number().int().min(1).max(20).optional(),
});
const describeArgs = z.object({
  name: z.string().min(1, "describe_tool needs `name`: a tool name from search_tools"),
});
const callArgs = z.object({
  name: z.string().min(1, "call_tool needs `name`: a tool name from search_tools"),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

/**
 * One call of a search-mode tool. `search_tools` and `describe_tool` see only the tools the caller
 * may use (its scopes, as tools/list in all mode); `call_tool` runs the named tool through the same
 * path as a direct `tools/call` of it: its validation, scopes, rate limit, deadline, cancellation,
 * progress, questions, tasks and metrics (labelled with the tool's name).
 */
export async function callSearchModeTool(
  rt: Runtime,
  name: "search_tools" | "describe_tool" | "call_tool",
  args: Record<string, unknown>,
  extra: Extra,
  mcp: McpServer,
  state: ConnectionState,
): Promise<CallToolResult | InputRequiredResult> {
  let call: () => Promise<CallToolResult | InputRequiredResult>;
  try {
    const principal = principalOf(extra);
    const visible = (tool: string) =>
      !principal || !rt.toolScopes.size || allowsAll(principal, rt.toolScopes.get(tool) ?? []);
    if (name === "search_tools") {
      const { query, limit } = parseArguments(searchArgs, args, name);
      const results = rt.toolIndex
        .search(query, { limit: limit ?? 8, filter: (t) => visible(t.name) })
        .map(({ tool: _tool, ...hit }) => hit);
      return result({
        results,
        ...(results.length ? {} : { hint: "no tool matched; try other words, or fewer" }),
      });
    }
    if (name === "describe_tool") {
      const { name: wanted } = parseArguments(describeArgs, args, name);
      const found = rt.toolIndex.get(wanted);
      if (!found || !visible(found.name)) throw notFound(rt, wanted);
      const { name: toolName, title, description, inputSchema, outputSchema, annotations } = found.entry;
      return result({
        name: toolName,
        ...(title ? { title } : {}),
        ...(description ? { description } : {}),
        inputSchema,
        ...(outputSchema ? { outputSchema } : {}),
        ...(annotations ? { annotations } : {}),
      });
    }
    const { name: wanted, arguments: inner } = parseArguments(callArgs, args, name);
    // Exactly a direct call of the tool: a caller without its scopes gets the same `forbidden`.
    const tool = rt.tools.get(wanted);
    if (!tool) throw notFound(rt, wanted);
    call = () => new ToolCall(rt, tool, extra, mcp, state).run(inner ?? {});
  } catch (err) {
    return toToolResult(err);
  }
  // Outside the catch: the protocol errors a direct call raises (a requestState that fails, a
  // capability the client lacks) stay protocol errors.
  return await call();
}

function notFound(rt: Runtime, name: string): ToolshedError {
  return new ToolshedError(
    "not_found",
    `no tool named '${name}'${rt.unknownToolHint(name)}; call search_tools to find one`,
  );
}

function result(data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(data) }], structuredContent: data };
}
