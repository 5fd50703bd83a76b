import { Counter } from "@toolshed/metrics";
import type { LogMessage, LogRelay, Relay, UpstreamTask } from "@toolshed/client";
import {
  connectRedis,
  defineServer,
  searchModeTools,
  SEARCH_MODE_TOOLS,
  ToolshedError,
  type Asking,
  type ElicitationSchema,
  type FastToolCall,
  type ForwardContext,
  type ForwardDefinition,
  type WireResult,
  packageVersion,
  USUAL_PATH,
} from "@toolshed/server";
import { accessFor, allows, canUse, exposedUri, missingFor, splitName, type Access } from "./catalog.js";
import { emptyGatewayFile, gatewayConfigSchema, type GatewayConfig } from "./config.js";
import { Gateway } from "./gateway.js";
import { LargeResults, READ_RESULT_TOOL, RESULT_URI_PREFIX, RESULT_URI_TEMPLATE } from "./large-results.js";
import { SharedStore } from "./shared.js";
import { gatewayTasks, routedTask } from "./tasks.js";
import type { Upstream } from "./upstream.js";

const version = packageVersion(import.meta.url);

export { Gateway } from "./gateway.js";
export { Upstream } from "./upstream.js";
export { Catalog, exposedName, exposedUri, splitName, splitUri } from "./catalog.js";
export { ToolSearch } from "./search.js";
export { LargeResults, READ_RESULT_TOOL, RESULT_URI_PREFIX } from "./large-results.js";
export {
  emptyGatewayFile,
  gatewayConfigSchema,
  gatewayFileSchema,
  loadGatewayFile,
  parseGatewayFile,
} from "./config.js";
export type { GatewayConfig, GatewayFile, UpstreamConfig } from "./config.js";

type SampleParams = Parameters<Asking["sample"]>[0];

export interface GatewayDeps {
  gateway: Gateway;
  mode: GatewayConfig["mode"];
  /** Answers over `--large-result-bytes` of text, kept and linked instead of sent whole. */
  large: LargeResults;
  /** `toolshed_gateway_cache_requests_total{upstream, result}`: calls of cached tools, hit or miss. */
  cacheRequests?: Counter<"upstream" | "result">;
  /** What replicas share through Redis (`TOOLSHED_REDIS_URL`); undefined when the gateway runs alone. */
  shared?: SharedStore;
}

/** The three tools of search mode (the kit's): the model finds a tool, reads its schema, then calls it. */
export const SEARCH_TOOLS = SEARCH_MODE_TOOLS;

const searchToolEntries = searchModeTools({
  scope: "tools across every connected server",
  example: "github__create_issue",
}) as WireResult[];

function textResult(data: Record<string, unknown>): WireResult {
  return { content: [{ type: "text", text: JSON.stringify(data) }], structuredContent: data };
}

function accessOf(deps: GatewayDeps, ctx: Pick<ForwardContext, "principal">): Access {
  return accessFor(deps.gateway.file, ctx.principal);
}

/**
 * The upstream serving a namespaced name, if the caller's virtual server reaches it; a caller that
 * lacks the upstream's scopes is refused with `forbidden` naming them, before anything is sent.
 */
function upstreamFor(
  deps: GatewayDeps,
  namespace: string,
  access: Access,
  what: string,
): Upstream | undefined {
  const catalog = deps.gateway.catalog;
  const upstream = catalog.byNamespace.get(namespace);
  if (!upstream || !catalog.reachableUpstreams(access).includes(upstream)) return undefined;
  refuseMissing(access, catalog.upstreamScopes(upstream), what);
  return upstream;
}

/** The kit's refusal of a call whose scopes the caller lacks (as for its own tools). */
function refuseMissing(access: Access, required: readonly string[], what: string): void {
  const missing = missingFor(access, required);
  if (missing.length) {
    throw new ToolshedError("forbidden", `${what} needs scope ${missing.join(", ")}`, {
      details: { missingScopes: missing },
    });
  }
}

/** Where a namespaced tool goes for this caller, and the scopes it needs; undefined if not served to it. */
function callTarget(
  deps: GatewayDeps,
  name: string,
  access: Access,
): { upstream: Upstream; original: string; scopes: readonly string[] } | undefined {
  if (!allows(access, name)) return undefined;
  const known = deps.gateway.catalog.tools.get(name);
  if (known) return { upstream: known.upstream, original: known.original, scopes: known.scopes };
  // An upstream that never came up has no tool list: its tools fail fast, naming it.
  const split = splitName(name);
  const candidate = split && deps.gateway.catalog.byNamespace.get(split.namespace);
  if (!candidate || candidate.state === "ready") return undefined;
  return {
    upstream: candidate,
    original: split.name,
    scopes: deps.gateway.catalog.toolScopes(candidate, split.name),
  };
}

type ProgressUpdate = { progress: number; total?: number; message?: string };

/**
 * The upstream's log messages during a request (a call, a read, a prompt), from the caller's level
 * up, passed on as they came; nothing is asked of the upstream when the caller takes no logs.
 */
function logRelay(ctx: ForwardContext): { log?: LogRelay } {
  const level = ctx.logLevel;
  return level ? { log: { level, send: (m: LogMessage) => ctx.relayLog(m) } } : {};
}

async function forwardCall(
  deps: GatewayDeps,
  name: string,
  args: Record<string, unknown>,
  ctx: ForwardContext,
  /** A direct tools/call (not search mode's call_tool) of a caller that may get a task. */
  tasks = false,
): Promise<WireResult | undefined> {
  const access = accessOf(deps, ctx);
  const target = callTarget(deps, name, access);
  if (!target) return undefined;
  const { upstream, original } = target;
  // Checked here too (over HTTP the kit refuses a direct call first, with 403 step-up; this is for
  // call_tool in search mode and stdio), before the upstream's rate limit or connection.
  refuseMissing(access, target.scopes, `tool '${name}'`);
  // A read-only tool of an upstream with `cache`: an answer kept for this caller and these
  // arguments is served again (after the access checks above, before the rate limit).
  const cache =
    upstream.cache && deps.gateway.catalog.tools.get(name)?.entry.annotations?.readOnlyHint === true
      ? upstream.cache
      : undefined;
  const key = cache?.key(ctx.principal?.id, original, args);
  if (cache && key !== undefined) {
    const hit = await cache.get(key);
    deps.cacheRequests?.inc({ upstream: upstream.name, result: hit ? "hit" : "miss" });
    if (hit) return deps.large.shrink(hit, name, ctx.principal?.id);
  }
  let asked = false;
  const relayed = relayTo(ctx);
  const relay: Relay | undefined = relayed && {
    ...relayed,
    answer(key, request) {
      asked = true;
      return relayed.answer(key, request);
    },
  };
  const result = await upstream.callToolOrTask(original, args, {
    signal: ctx.signal,
    // The upstream may run it as a task (when it runs tasks); the caller then polls it here.
    task: tasks,
    // Progress is asked of the upstream only for a caller that asked for it (a progressToken).
    ...(ctx.wantsProgress
      ? { onprogress: (p: ProgressUpdate) => void ctx.progress(p.progress, p.total, p.message) }
      : {}),
    ...logRelay(ctx),
    ...(relay ? { relay } : {}),
  });
  // A task's final result comes from tasks/get as the upstream keeps it: never cached or linked.
  if (result.resultType === "task") return routedTask(upstream, result as UpstreamTask);
  // Kept unless it failed or the upstream asked the caller something (the next call must ask too).
  if (cache && key !== undefined && result.isError !== true && !asked) await cache.set(key, result);
  return deps.large.shrink(result, name, ctx.principal?.id);
}

/**
 * The upstream's questions, asked of the gateway's caller with the kit's asking API under the
 * upstream's own keys: a question the caller has not answered yet stops this call (the kit answers
 * input_required, or asks a 2025 caller over its session), and the rerun finds the answer and hands
 * it to the upstream. The upstream is told only the capabilities the caller declared.
 */
function relayTo(ctx: ForwardContext): Relay | undefined {
  const asking = ctx.ask;
  if (!asking) return undefined;
  const declared = ctx.client.capabilities;
  const capabilities = Object.fromEntries(
    ["elicitation", "sampling", "roots"]
      .filter((k) => declared[k] !== undefined)
      .map((k) => [k, declared[k]]),
  );
  return {
    capabilities,
    async answer(key, request) {
      const params = request.params ?? {};
      const message = typeof params.message === "string" ? params.message : "";
      switch (request.method) {
        case "elicitation/create": {
          if (params.mode === "url") return await asking.askUrl(String(params.url), message, { key });
          const answer = await asking.ask(params.requestedSchema as ElicitationSchema, message, { key });
          return answer.action === "accept"
            ? { action: "accept", content: answer.content }
            : { action: answer.action };
        }
        case "sampling/createMessage":
          return await asking.sample(params as unknown as SampleParams, { key });
        case "roots/list":
          return { roots: await asking.listRoots({ key }) };
        default:
          throw new ToolshedError(
            "upstream_error",
            `the upstream asked '${request.method}', which the gateway does not relay`,
          );
      }
    },
  };
}

/**
 * The lean path of a plain tools/call (the kit's `fastCall`): a tool of the catalog the caller may
 * use, of a ready 2026-07-28 HTTP upstream, in all mode, not cached, posted to the upstream as one
 * JSON-RPC request (`callToolDirect`) after the same access and scope checks, under the upstream's
 * rate limit, its answer linked when too large. The caller's asking capabilities (elicitation,
 * sampling, roots) go with it; when the upstream asks something, the call is made again on the
 * usual path (USUAL_PATH), which relays the question. Everything else takes forwardCall.
 */
function fastCall(
  deps: GatewayDeps,
  call: FastToolCall,
): (() => Promise<WireResult | typeof USUAL_PATH>) | undefined {
  if (deps.mode !== "all") return undefined;
  const known = deps.gateway.catalog.tools.get(call.name);
  if (!known) return undefined;
  const { upstream, original } = known;
  const access = accessOf(deps, call);
  // Not served to this caller, or missing a scope: forwardCall answers it (unknown, or forbidden).
  if (!allows(access, call.name) || missingFor(access, known.scopes).length) return undefined;
  if (upstream.cache && known.entry.annotations?.readOnlyHint === true) return undefined;
  if (!upstream.directCallable(original)) return undefined;
  // No await where there is nothing to wait for: each costs a turn of the microtask queue per call.
  return async () => {
    if (upstream.limited) await upstream.admit();
    const result = await upstream.callToolDirect(original, call.args, {
      signal: call.signal,
      asks: call.asks,
    });
    if (!result) return USUAL_PATH;
    return deps.large.mayShrink(result) ? deps.large.shrink(result, call.name, call.principal?.id) : result;
  };
}

const forward: ForwardDefinition<GatewayDeps> = {
  fastCall,
  listTools(deps, ctx) {
    // read_result pages answers too large to send whole: listed while they are linked (and, in
    // all mode, once the caller has some tool whose answer could be).
    const own = deps.large.enabled ? [LargeResults.toolEntry()] : [];
    if (deps.mode === "search") return [...searchToolEntries, ...own];
    const tools = deps.gateway.catalog.visibleTools(accessOf(deps, ctx)).map((t) => t.entry as WireResult);
    if (!tools.length || !own.length) return tools;
    return [...tools, ...own].sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
  },
  toolScopes(deps, name, principal) {
    // Search mode's own three tools need no scope (call_tool checks the named tool's itself).
    if (deps.mode === "search" && (SEARCH_TOOLS as readonly string[]).includes(name)) return undefined;
    // read_result needs none: it reads only what this caller was already given.
    if (deps.large.enabled && name === READ_RESULT_TOOL) return undefined;
    return callTarget(deps, name, accessFor(deps.gateway.file, principal))?.scopes;
  },
  knowsTool(deps, name) {
    if (deps.mode === "search" && (SEARCH_TOOLS as readonly string[]).includes(name)) return true;
    if (deps.large.enabled && name === READ_RESULT_TOOL) return true;
    return deps.gateway.catalog.tools.has(name);
  },
  async callTool(deps, name, args, ctx) {
    if (deps.large.enabled && name === READ_RESULT_TOOL) return deps.large.read(args, ctx.principal?.id);
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
        // A tool the caller lacks a scope for is not described: search mode shows only what it can use.
        if (!tool || !canUse(access, tool)) {
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
    return forwardCall(deps, name, args, ctx, ctx.tasks);
  },
  resources: {
    list(deps, ctx) {
      return deps.gateway.catalog.resources(accessOf(deps, ctx));
    },
    templates(deps, ctx) {
      const own = deps.large.enabled
        ? [
            {
              uriTemplate: RESULT_URI_TEMPLATE,
              name: "large-answers",
              title: "Large tool answers",
              description: `Pages of a tool answer too large to send whole (its resource_link names the URI); ${READ_RESULT_TOOL} reads the same pages`,
              mimeType: "text/plain",
            },
          ]
        : [];
      return [...deps.gateway.catalog.templates(accessOf(deps, ctx)), ...own];
    },
    subscriptions: {
      // Declared while some connected upstream supports subscriptions; a resource of one that does
      // not is refused when subscribed to, saying so.
      offered(deps) {
        return [...deps.gateway.upstreams.values()].some((u) => u.subscribable);
      },
      subscribe(deps, uri, principal, revoked) {
        const found = deps.gateway.catalog.resource(uri);
        const access = accessFor(deps.gateway.file, principal);
        const upstream = found && upstreamFor(deps, found.upstream.namespace, access, `resource '${uri}'`);
        // The same answer as resources/read for a URI the caller may not see (or that no upstream has).
        if (!found || !upstream || !upstream.lists(found.uri)) {
          throw new ToolshedError(
            "not_found",
            `resource '${uri}' not found; call resources/list or resources/templates/list`,
          );
        }
        if (!upstream.subscribable) {
          throw new ToolshedError(
            "invalid_input",
            `upstream '${upstream.name}' does not support resource subscriptions; read '${uri}' again to see changes`,
          );
        }
        const end = deps.gateway.follow(upstream, found.uri);
        // A reload that takes the caller's access to the upstream (or removes it) ends the follow.
        const name = upstream.name;
        const unwatch = deps.gateway.watchAccess(name, () => deps.gateway.serves(name, principal), revoked);
        return Promise.resolve(() => {
          unwatch();
          end();
        });
      },
    },
    async read(deps, uri, ctx) {
      if (deps.large.enabled && uri.startsWith(RESULT_URI_PREFIX)) {
        return deps.large.readUri(uri, ctx.principal?.id);
      }
      const found = deps.gateway.catalog.resource(uri);
      const upstream =
        found && upstreamFor(deps, found.upstream.namespace, accessOf(deps, ctx), `resource '${uri}'`);
      if (!found || !upstream) {
        throw new ToolshedError(
          "not_found",
          `resource '${uri}' not found; call resources/list or resources/templates/list`,
        );
      }
      const relay = relayTo(ctx);
      const result = await upstream.readResource(found.uri, {
        signal: ctx.signal,
        ...logRelay(ctx),
        ...(relay ? { relay } : {}),
      });
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
      const upstream =
        found && upstreamFor(deps, found.upstream.namespace, accessOf(deps, ctx), `prompt '${name}'`);
      if (!found || !upstream) {
        throw new ToolshedError(
          "invalid_input",
          `unknown prompt '${name}'; call prompts/list to see the available prompts`,
        );
      }
      const relay = relayTo(ctx);
      return await upstream.getPrompt(found.original, args, {
        signal: ctx.signal,
        ...logRelay(ctx),
        ...(relay ? { relay } : {}),
      });
    },
  },
  tasks: gatewayTasks,
  completions: {
    // Declared when some upstream completes; which prompts and templates a caller may complete is
    // decided per request below, as for prompts/get and resources/read.
    offered(deps) {
      return [...deps.gateway.upstreams.values()].some((u) => u.completes);
    },
    async complete(deps, request, ctx) {
      const access = accessOf(deps, ctx);
      const catalog = deps.gateway.catalog;
      let upstream: Upstream | undefined;
      let ref: { type: "ref/prompt"; name: string } | { type: "ref/resource"; uri: string };
      if (request.ref.type === "ref/prompt") {
        const name = request.ref.name;
        const found = catalog.prompt(name);
        // The same lookup as prompts/get: a prompt the caller cannot get is one it cannot complete.
        upstream = found && upstreamFor(deps, found.upstream.namespace, access, `prompt '${name}'`);
        if (!found || !upstream) {
          throw new ToolshedError(
            "invalid_input",
            `unknown prompt '${name}'; call prompts/list to see the available prompts`,
          );
        }
        ref = { type: "ref/prompt", name: found.original };
      } else {
        const uri = request.ref.uri;
        const found = catalog.resource(uri);
        upstream = found && upstreamFor(deps, found.upstream.namespace, access, `resource template '${uri}'`);
        if (!found || !upstream || !upstream.templates.some((t) => t.uriTemplate === found.uri)) {
          // A fixed resource has no variables: no suggestions, as the kit answers for its own.
          if (found && upstream?.resources.some((r) => r.uri === found.uri)) return { values: [] };
          throw new ToolshedError(
            "invalid_input",
            `unknown resource template '${uri}'; call resources/templates/list to see the available templates`,
          );
        }
        ref = { type: "ref/resource", uri: found.uri };
      }
      // An upstream that does not complete has no suggestions for its prompts and templates.
      if (!upstream.completes) return { values: [] };
      const result = await upstream.complete(
        {
          ref,
          argument: request.argument,
          ...(Object.keys(request.arguments).length ? { context: { arguments: request.arguments } } : {}),
        },
        { signal: ctx.signal },
      );
      return result.completion;
    },
  },
};

/** Change notifications to this replica's clients only (see setup). */
const HERE = { here: true } as const;

export const gatewayServer = defineServer({
  name: "gateway",
  version,
  title: "Toolshed gateway",
  instructions:
    "One endpoint in front of several MCP servers. Tools are named <server>__<tool> (e.g. github__create_issue); " +
    "resource URIs are prefixed with <server>+. In search mode you see three tools: search_tools to find a tool " +
    "by what it does, describe_tool for its arguments, call_tool to run it.",
  config: gatewayConfigSchema,
  // tools/list_changed when a reload or an upstream changes the tool set (all mode; search mode's
  // three tools never change); the same for resources and prompts; resources/updated for the
  // resources clients subscribed to, as their upstreams report them.
  notifications: {
    toolListChanged: true,
    resourceListChanged: true,
    promptListChanged: true,
    resourceUpdated: true,
  },
  async setup({ config, log, notify, metrics, redisUrl }): Promise<GatewayDeps> {
    // Replicas on one Redis share cached answers, large answers and upstream rate limits.
    const shared = redisUrl ? new SharedStore(await connectRedis(redisUrl), log) : undefined;
    // Without a config file the gateway starts empty (not ready, saying how to add an upstream).
    let gateway: Gateway;
    try {
      gateway = await Gateway.start(config.config ? { path: config.config } : { file: emptyGatewayFile() }, {
        logger: log,
        // Each replica hears these itself (from the upstreams it follows for its own clients, and
        // its own reloads), so each tells only its own clients: published to all, a client would
        // be told once per replica that heard it.
        ...(config.mode === "all" ? { onToolsChanged: () => notify.toolListChanged(HERE) } : {}),
        onResourcesChanged: () => notify.resourceListChanged(HERE),
        onPromptsChanged: () => notify.promptListChanged(HERE),
        onResourceUpdated: (uri) => notify.resourceUpdated(uri, HERE),
        ...(shared && redisUrl ? { shared: { store: shared, redisUrl } } : {}),
        startWaitMs: config.startWaitMs,
      });
    } catch (err) {
      await shared?.close();
      throw err;
    }
    gateway.watch();
    const cacheRequests = new Counter({
      name: "toolshed_gateway_cache_requests_total",
      help: "Calls of upstream tools whose answers the gateway caches (upstreams with `cache`), by whether a kept answer was served",
      labelNames: ["upstream", "result"] as const,
      registers: [metrics.registry],
    });
    return {
      gateway,
      mode: config.mode,
      cacheRequests,
      large: new LargeResults(config.largeResultBytes, shared ? { store: shared } : {}),
      ...(shared ? { shared } : {}),
    };
  },
  teardown: async (deps) => {
    await deps.gateway.close();
    await deps.shared?.close();
  },
  ready: (deps) => deps.gateway.readiness(),
  tools: [],
  forward,
});

export default gatewayServer;
