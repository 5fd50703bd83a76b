import {
  defineServer,
  ToolshedError,
  type ForwardContext,
  type ForwardDefinition,
  type WireResult,
} from "@toolshed/server";
import { accessFor, allows, exposedUri, splitName, type Access } from "./catalog.js";
import { gatewayConfigSchema, type GatewayConfig } from "./config.js";
import { Gateway } from "./gateway.js";
import type { Upstream } from "./upstream.js";

export { Gateway } from "./gateway.js";
export { Upstream } from "./upstream.js";
export { Catalog, exposedName, exposedUri, splitName, splitUri } from "./catalog.js";
export { ToolSearch } from "./search.js";
export { gatewayConfigSchema, gatewayFileSchema, loadGatewayFile, parseGatewayFile } from "./config.js";
export type { GatewayConfig, GatewayFile, UpstreamConfig } from "./config.js";

export interface GatewayDeps {
  gateway: Gateway;
  mode: GatewayConfig["mode"];
}

/** The three tools of search mode: the model finds a tool, reads its schema, then calls it. */
export const SEARCH_TOOLS = ["search_tools", "describe_tool", "call_tool"] as const;

const searchToolEntries: WireResult[] = [
  {
    name: "search_tools",
    title: "Search the tool catalogue",
    description:
      "Finds tools across every connected server by what they do. Returns up to `limit` tools (name, title, one-line summary), best first. Then call describe_tool for the arguments, and call_tool to run it.",
    inputSchema: {
      type: "object",
      properties: {
        query: {
          type: "string",
          minLength: 1,
          description: "What you want to do, in a few words, e.g. 'open an issue'.",
        },
        limit: {
          type: "integer",
          minimum: 1,
          maximum: 20,
          description: "How many tools to return (8 unless set).",
        },
      },
      required: ["query"],
      additionalProperties: false,
    },
    annotations: {
      title: "Search the tool catalogue",
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
  {
    name: "describe_tool",
    title: "Describe a tool",
    description:
      "Returns one tool's full description, input schema (its arguments) and annotations, by the name search_tools gave. Read it before call_tool.",
    inputSchema: {
      type: "object",
      properties: {
        name: {
          type: "string",
          minLength: 1,
          description: "The tool's name from search_tools, e.g. 'github__create_issue'.",
        },
      },
      required: ["name"],
      additionalProperties: false,
    },
    annotations: {
      title: "Describe a tool",
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
  {
    name: "call_tool",
    title: "Call a tool",
    description:
      "Runs one tool by name with its arguments (an object matching the schema describe_tool returned) and returns that tool's result as is.",
    inputSchema: {
      type: "object",
      properties: {
        name: { type: "string", minLength: 1, description: "The tool's name from search_tools." },
        arguments: {
          type: "object",
          description: "The tool's arguments, as describe_tool's inputSchema says.",
          additionalProperties: true,
        },
      },
      required: ["name"],
      additionalProperties: false,
    },
    annotations: {
      title: "Call a tool",
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
      openWorldHint: true,
    },
  },
];

function textResult(data: Record<string, unknown>): WireResult {
  return { content: [{ type: "text", text: JSON.stringify(data) }], structuredContent: data };
}

function accessOf(deps: GatewayDeps, ctx: ForwardContext): Access {
  return accessFor(deps.gateway.file, ctx.principal);
}

/** The upstream serving a namespaced name, if the caller may use it. */
function upstreamFor(deps: GatewayDeps, namespace: string, access: Access): Upstream | undefined {
  const upstream = deps.gateway.catalog.byNamespace.get(namespace);
  if (!upstream) return undefined;
  return deps.gateway.catalog.visibleUpstreams(access).includes(upstream) ? upstream : undefined;
}

async function forwardCall(
  deps: GatewayDeps,
  name: string,
  args: Record<string, unknown>,
  ctx: ForwardContext,
): Promise<WireResult | undefined> {
  const access = accessOf(deps, ctx);
  if (!allows(access, name)) return undefined;
  const known = deps.gateway.catalog.tools.get(name);
  let upstream = known?.upstream;
  let original = known?.original;
  if (!known) {
    // An upstream that never came up has no tool list: its tools fail fast, naming it.
    const split = splitName(name);
    const candidate = split && deps.gateway.catalog.byNamespace.get(split.namespace);
    if (!candidate || candidate.state === "ready") return undefined;
    upstream = candidate;
    original = split.name;
  }
  const result = await upstream!.callTool(original!, args, {
    signal: ctx.signal,
    onprogress: (p) => void ctx.progress(p.progress, p.total, p.message),
  });
  return result;
}

const forward: ForwardDefinition<GatewayDeps> = {
  listTools(deps, ctx) {
    if (deps.mode === "search") return searchToolEntries;
    return deps.gateway.catalog.visibleTools(accessOf(deps, ctx)).map((t) => t.entry as WireResult);
  },
  knowsTool(deps, name) {
    if (deps.mode === "search" && (SEARCH_TOOLS as readonly string[]).includes(name)) return true;
    return deps.gateway.catalog.tools.has(name);
  },
  async callTool(deps, name, args, ctx) {
    if (deps.mode === "search") {
      const access = accessOf(deps, ctx);
      if (name === "search_tools") {
        const query = args.query;
        if (typeof query !== "string" || !query.trim()) {
          throw new ToolshedError(
            "invalid_input",
            "search_tools needs `query`: what you want to do, in a few words",
          );
        }
        const limit = typeof args.limit === "number" ? Math.min(20, Math.max(1, Math.floor(args.limit))) : 8;
        const results = deps.gateway.search.search(query, access, limit);
        return textResult({
          results,
          ...(results.length ? {} : { hint: "no tool matched; try other words, or fewer" }),
        });
      }
      if (name === "describe_tool") {
        const tool = typeof args.name === "string" ? deps.gateway.catalog.tools.get(args.name) : undefined;
        if (!tool || !allows(access, tool.exposed)) {
          throw new ToolshedError(
            "not_found",
            `no tool named '${String(args.name)}'; call search_tools to find one`,
          );
        }
        const { name: exposed, title, description, inputSchema, outputSchema, annotations } = tool.entry;
        return textResult({
          name: exposed,
          upstream: tool.upstream.name,
          ...(title ? { title } : {}),
          ...(description ? { description } : {}),
          inputSchema,
          ...(outputSchema ? { outputSchema } : {}),
          ...(annotations ? { annotations } : {}),
        });
      }
      if (name === "call_tool") {
        if (typeof args.name !== "string") {
          throw new ToolshedError("invalid_input", "call_tool needs `name`: a tool name from search_tools");
        }
        const inner = args.arguments;
        if (inner !== undefined && (typeof inner !== "object" || inner === null || Array.isArray(inner))) {
          throw new ToolshedError(
            "invalid_input",
            "call_tool `arguments` must be an object of the tool's arguments",
          );
        }
        const result = await forwardCall(deps, args.name, (inner ?? {}) as Record<string, unknown>, ctx);
        if (!result) {
          throw new ToolshedError("not_found", `no tool named '${args.name}'; call search_tools to find one`);
        }
        return result;
      }
    }
    return forwardCall(deps, name, args, ctx);
  },
  resources: {
    list(deps, ctx) {
      return deps.gateway.catalog.resources(accessOf(deps, ctx));
    },
    templates(deps, ctx) {
      return deps.gateway.catalog.templates(accessOf(deps, ctx));
    },
    async read(deps, uri, ctx) {
      const found = deps.gateway.catalog.resource(uri);
      const upstream = found && upstreamFor(deps, found.upstream.namespace, accessOf(deps, ctx));
      if (!found || !upstream) {
        throw new ToolshedError(
          "not_found",
          `resource '${uri}' not found; call resources/list or resources/templates/list`,
        );
      }
      const result = await upstream.readResource(found.uri, { signal: ctx.signal });
      return {
        ...result,
        contents: result.contents.map((c) => ({ ...c, uri: exposedUri(upstream.namespace, c.uri) })),
      };
    },
  },
  prompts: {
    list(deps, ctx) {
      return deps.gateway.catalog.prompts(accessOf(deps, ctx));
    },
    async get(deps, name, args, ctx) {
      const found = deps.gateway.catalog.prompt(name);
      const upstream = found && upstreamFor(deps, found.upstream.namespace, accessOf(deps, ctx));
      if (!found || !upstream) {
        throw new ToolshedError(
          "invalid_input",
          `unknown prompt '${name}'; call prompts/list to see the available prompts`,
        );
      }
      return await upstream.getPrompt(found.original, args, { signal: ctx.signal });
    },
  },
};

export const gatewayServer = defineServer({
  name: "gateway",
  version: "0.1.0",
  title: "Toolshed gateway",
  instructions:
    "One endpoint in front of several MCP servers. Tools are named <server>__<tool> (e.g. github__create_issue); " +
    "resource URIs are prefixed with <server>+. In search mode you see three tools: search_tools to find a tool " +
    "by what it does, describe_tool for its arguments, call_tool to run it.",
  config: gatewayConfigSchema,
  async setup({ config, log }): Promise<GatewayDeps> {
    if (!config.config) {
      throw new ToolshedError(
        "invalid_input",
        "no gateway config: pass --config gateway.yaml or set TOOLSHED_GATEWAY_CONFIG (see the gateway README)",
      );
    }
    const gateway = await Gateway.start({ path: config.config }, { logger: log });
    gateway.watch();
    return { gateway, mode: config.mode };
  },
  teardown: (deps) => deps.gateway.close(),
  ready(deps) {
    const down = deps.gateway.down();
    return down.length ? `upstreams not ready: ${down.join(", ")}` : true;
  },
  tools: [],
  forward,
});

export default gatewayServer;
