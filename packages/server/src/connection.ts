import {
  McpServer,
  MissingRequiredClientCapabilityError,
  PROTOCOL_VERSION_META_KEY,
  ProtocolErrorCode,
  ResourceTemplate,
  SUPPORTED_PROTOCOL_VERSIONS,
  UriTemplate,
  completable,
  type JSONRPCMessage,
  type McpRequestContext,
  type Transport,
} from "@modelcontextprotocol/server";
import type { Span } from "@opentelemetry/api";
import { ERROR_CODES, JSONRPC_ERROR_CODES, type ErrorCode } from "@toolshed/errors";
import type { Outcome } from "@toolshed/metrics";
import { z } from "zod";
import { createMcpLogBridge } from "@toolshed/logging";
import type {
  AnyObjectSchema,
  AnyPromptDefinition,
  AnyResource,
  CacheHint,
  CompletionContext,
  PromptContext,
  ReadContext,
  TransportInfo,
} from "./define.js";
import { readableError } from "./readable-error.js";
import { RpcError } from "./rpc-error.js";
import type { ChangeEvent } from "./bus.js";
import type { Runtime } from "./runtime.js";
import { endRequestSpan, runInContext, startRequestSpan } from "./tracing.js";
import { AskRound, callIdentity } from "./ask.js";
import {
  ToolCall,
  clientRequests,
  principalOf,
  toolLogger,
  type ConnectionState,
  type Extra,
} from "./tool-call.js";
import { allowsAll } from "./tool-scopes.js";
import { serveForwarded } from "./forward.js";
import { callSearchModeTool, SEARCH_MODE_ENTRIES } from "./search-mode.js";
import { SEARCH_MODE_TOOLS } from "./tool-search.js";
import { TASKS_EXTENSION } from "./tasks/manager.js";
import { declaresMcpApps, isAppResourceUri, MCP_APPS_EXTENSION } from "./apps.js";
import { serveTaskMethods } from "./tasks/wire.js";

/**
 * One SDK server for one connection (a stdio pipe, an HTTP session or a stateless request). The SDK
 * server stays inside this module so that logging, metrics, validation, timeouts and error mapping
 * cannot be bypassed by a server's code. Connections get theirs through connect() or kitServerFactory.
 */
function createMcpServer(
  rt: Runtime,
  era: Era = "legacy",
  options: {
    stateless?: boolean;
    jsonResponse?: boolean;
    /**
     * The serving entry delivers change notifications itself (the 2026-07-28 HTTP lane, whose listen
     * streams subscribe to the runtime's bus), so this per-request instance must not.
     */
    changesByEntry?: boolean;
    /**
     * The serving entry's 2026-07-28 listen streams follow the resources they name (HTTP:
     * http/listen-follow.ts, stdio: stdio-listen-follow.ts), so a forwarding server may offer
     * `resources.subscribe` on this connection.
     */
    listensFollow?: boolean;
    /** What handlers are told of the transport (ctx.transport). */
    transport?: TransportInfo;
  } = {},
): McpServer {
  const { def } = rt;
  // A 2025 client of a --stateless server talks to a new server on every POST: a log level set with
  // logging/setLevel, a subscription or an answer to a server request would reach nobody, so those
  // capabilities are not offered (and tools that ask the client get a clear error, not a hang).
  const stateless = era === "legacy" && options.stateless === true;
  // Change notifications are advertised exactly as declared, and not at all where they cannot
  // arrive (a --stateless 2025 connection has no stream to carry them).
  const sends = stateless ? NOTHING_SENT : rt.notifications;
  const mcp = new McpServer(
    { name: def.name, version: def.version, ...(def.title ? { title: def.title } : {}) },
    {
      capabilities: {
        ...(stateless ? {} : { logging: {} }),
        // The SDK adds `completions` itself when a prompt or template has a completer.
        ...(def.resources?.length
          ? { resources: { subscribe: sends.resourceUpdated, listChanged: sends.resourceListChanged } }
          : {}),
        ...(def.prompts?.length ? { prompts: { listChanged: sends.promptListChanged } } : {}),
        // The tasks extension is 2026-07-28 vocabulary, declared only when some tool can run as a task.
        ...extensionsDeclared(rt, era),
      },
      ...(def.instructions ? { instructions: def.instructions } : {}),
      ...(def.cacheHint ? { cacheHints: cacheHintsFor(def.cacheHint) } : {}),
    },
  );
  const state: ConnectionState = {
    logLevel: undefined,
    subscriptions: new Set(),
    stateless,
    cannotAsk: cannotAskReason(era, options),
    ...(options.transport ? { transport: options.transport } : {}),
  };
  const server = mcp.server;

  if (!stateless) {
    server.setRequestHandler("logging/setLevel", (request) => {
      state.logLevel = request.params.level;
      return {};
    });
  }
  // Tools are served by the kit, not McpServer.registerTool: the list is computed once per process,
  // input errors become isError results a model can fix, and an unknown tool is a JSON-RPC error.
  server.registerCapabilities({ tools: { listChanged: sends.toolListChanged } });
  if (def.forward) {
    // A forwarding server (the gateway) decides its tools, resources and prompts per request.
    serveForwarded(rt, mcp, def.forward, state, era, sends, options.listensFollow === true);
    if (!stateless && !options.changesByEntry) deliverChanges(rt, mcp, state, era);
    return mcp;
  }
  server.setRequestHandler("tools/list", (_request, extra) => {
    // Search mode: three tools that find, describe and run the others (search-mode.ts).
    if (rt.searchMode) return { tools: SEARCH_MODE_ENTRIES as never };
    const principal = principalOf(extra);
    // A principal sees only the tools its scopes allow; without auth every tool is listed.
    const tools =
      principal && rt.toolScopes.size
        ? rt.toolList.filter((t) => allowsAll(principal, rt.toolScopes.get(t.name as string) ?? []))
        : rt.toolList;
    // MCP Apps: the link to a tool's ui:// page, for clients that declared they render them.
    if (servesApps(rt) && declaresMcpApps(clientRequests(mcp, extra).capabilities)) {
      return { tools: tools.map((t) => withAppLink(t, rt.tools.get(t.name as string)?.ui)) as never };
    }
    return { tools: tools as never };
  });
  server.setRequestHandler("tools/call", (request, extra) => {
    const name = request.params.name;
    if (rt.searchMode && isSearchModeTool(name)) {
      return callSearchModeTool(rt, name, request.params.arguments ?? {}, extra, mcp, state);
    }
    // A client that knows a tool's name may still call it directly in search mode.
    const tool = rt.tools.get(name);
    if (!tool) {
      throw new RpcError(
        ProtocolErrorCode.InvalidParams,
        `unknown tool '${name}'${rt.unknownToolHint(name)}; call tools/list to see the available tools`,
      );
    }
    return new ToolCall(rt, tool, extra, mcp, state).run(request.params.arguments ?? {});
  });

  for (const resource of def.resources ?? []) registerResource(rt, mcp, resource, state);
  if (def.resources?.some((r) => "uri" in r && isAppResourceUri(r.uri))) {
    serveResourceListWithApps(rt, mcp, state);
  }
  if (era === "legacy" && def.resources?.length && sends.resourceUpdated) serveSubscribe(rt, mcp, state);
  for (const prompt of def.prompts ?? []) registerPrompt(rt, mcp, prompt, state);
  if (!stateless && !options.changesByEntry) deliverChanges(rt, mcp, state, era);
  return mcp;
}

/** Whether some tool of the server has an MCP App page. */
function servesApps(rt: Runtime): boolean {
  return rt.def.tools.some((t) => t.ui);
}

/**
 * Whether a forwarding server's definition offers tasks now (some upstream runs them), asked once
 * setup has opened the deps, as for completions; true for a server of its own task tools.
 */
function forwardsTasksNow(rt: Runtime): boolean {
  const tasks = rt.def.forward?.tasks;
  if (!tasks || rt.def.tools.some((t) => t.task !== undefined)) return true;
  return rt.openedDeps !== undefined && tasks.offered(rt.openedDeps);
}

/** The extensions the server declares: tasks (2026-07-28, when a tool can run as one) and MCP Apps. */
function extensionsDeclared(rt: Runtime, era: Era): { extensions?: Record<string, Record<string, never>> } {
  const extensions = {
    ...(era === "modern" && rt.servesTasks && forwardsTasksNow(rt) ? { [TASKS_EXTENSION]: {} } : {}),
    ...(servesApps(rt) ? { [MCP_APPS_EXTENSION]: {} } : {}),
  };
  return Object.keys(extensions).length ? { extensions } : {};
}

function withAppLink(
  entry: Record<string, unknown>,
  ui: { resourceUri: string } | undefined,
): Record<string, unknown> {
  if (!ui) return entry;
  const meta = (entry._meta ?? {}) as Record<string, unknown>;
  return { ...entry, _meta: { ...meta, ui: { resourceUri: ui.resourceUri } } };
}

/**
 * resources/list as the SDK answers it (fixed resources, then what templates list), except that
 * MCP App pages (ui://) are listed only to clients that declared the extension: the spec lets a
 * server leave them out, and clients without it then see the list they saw before.
 */
function serveResourceListWithApps(rt: Runtime, mcp: McpServer, state: ConnectionState): void {
  mcp.server.setRequestHandler("resources/list", async (_request, extra) => {
    const apps = declaresMcpApps(clientRequests(mcp, extra).capabilities);
    const resources: Record<string, unknown>[] = [];
    for (const r of rt.def.resources ?? []) {
      if (!("uri" in r) || (isAppResourceUri(r.uri) && !apps)) continue;
      resources.push({ uri: r.uri, name: r.name, ...resourceMetadata(r) });
    }
    for (const r of rt.def.resources ?? []) {
      if ("uri" in r || !r.list) continue;
      const ctx = await readContext(rt, state, extra, `resource:${r.name}`);
      for (const listed of await guard(() => r.list!(ctx))) {
        resources.push({ ...resourceMetadata(r), ...listed });
      }
    }
    return { resources: resources as never };
  });
}

function resourceMetadata(r: AnyResource): Record<string, unknown> {
  return {
    title: r.title,
    description: r.description,
    mimeType: r.mimeType,
    ...(r.cacheHint ? { cacheHint: r.cacheHint } : {}),
  };
}

const NOTHING_SENT: Runtime["notifications"] = {
  resourceUpdated: false,
  resourceListChanged: false,
  toolListChanged: false,
  promptListChanged: false,
};

/**
 * Why a 2025 client of this connection cannot be asked anything mid-call (ctx.ask & co.), if so: the
 * SDK's legacy shim sends it requests, which need a session (not --stateless) and a stream to carry
 * them (not --json-response, where it would wait out its 10-minute timeout instead).
 */
function cannotAskReason(
  era: Era,
  options: { stateless?: boolean; jsonResponse?: boolean },
): string | undefined {
  if (era !== "legacy") return undefined;
  if (options.stateless) {
    return "this server runs --stateless, where a 2025 client's answer would reach another server instance; run it without --stateless";
  }
  if (options.jsonResponse) {
    return "this server answers with --json-response, where a request to a 2025 client cannot be sent mid-call; run it without --json-response";
  }
  return undefined;
}

/** The server's one cache hint, on every operation the 2026-07-28 revision lets carry one. */
function cacheHintsFor(hint: CacheHint): Record<string, CacheHint> {
  const methods = [
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
  ];
  return Object.fromEntries(methods.map((m) => [m, hint]));
}

function registerResource(rt: Runtime, mcp: McpServer, r: AnyResource, state: ConnectionState): void {
  const meta = resourceMetadata(r);
  if ("uri" in r) {
    mcp.registerResource(r.name, r.uri, meta, async (uri, extra) => {
      const ctx = await readContext(rt, state, extra, `resource:${r.name}`);
      return { contents: await guardRead(uri, () => r.read(uri, ctx)) };
    });
    return;
  }
  const template = new ResourceTemplate(r.uriTemplate, {
    list: r.list
      ? async (extra) => {
          const ctx = await readContext(rt, state, extra, `resource:${r.name}`);
          return { resources: await guard(() => r.list!(ctx)) };
        }
      : undefined,
    complete: Object.fromEntries(
      Object.entries(r.complete ?? {}).map(([variable, complete]) => [
        variable,
        (value: string, context?: { arguments?: Record<string, string> }) =>
          guard(async () =>
            complete(value, await completionContext(rt, context?.arguments, `resource:${r.name}`)),
          ),
      ]),
    ),
  });
  mcp.registerResource(r.name, template, meta, async (uri, variables, extra) => {
    const ctx = await readContext(rt, state, extra, `resource:${r.name}`);
    return { contents: await guardRead(uri, () => r.read(uri, variables, ctx)) };
  });
}

// completable() marks the schema object itself: each runtime marks its own copy of a field (its
// completions read that runtime's config and deps), once per prompt.
const promptShapes = new WeakMap<Runtime, WeakMap<AnyPromptDefinition, z.ZodObject>>();

function promptShape(rt: Runtime, p: AnyPromptDefinition): z.ZodObject {
  let shapes = promptShapes.get(rt);
  if (!shapes) promptShapes.set(rt, (shapes = new WeakMap()));
  const known = shapes.get(p);
  if (known) return known;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries((p.args as AnyObjectSchema).shape as Record<string, z.ZodType>)) {
    const complete = p.complete?.[key];
    shape[key] = complete
      ? completable(field.clone() as z.ZodType<string>, (value, context) =>
          guard(async () =>
            complete(
              typeof value === "string" ? value : "",
              await completionContext(rt, context?.arguments, `prompt:${p.name}`),
            ),
          ),
        )
      : field;
  }
  const schema = z.object(shape);
  shapes.set(p, schema);
  return schema;
}

function registerPrompt(rt: Runtime, mcp: McpServer, p: AnyPromptDefinition, state: ConnectionState): void {
  const shape = promptShape(rt, p);
  mcp.registerPrompt(
    p.name,
    { title: p.title, description: p.description, argsSchema: shape as never },
    (async (args: Record<string, string | undefined>, extra: Extra) => {
      // A requestState that fails verification is refused here, before the handler (-32602).
      const round = await AskRound.open({
        keys: rt.requestStateKeys,
        extra,
        mcp,
        identity: callIdentity(principalOf(extra)?.id, `prompts/get:${p.name}`, args),
        cannotAsk: state.cannotAsk,
        confirm: rt.confirm,
        logger: rt.logger,
      });
      const ctx: PromptContext = {
        ...(await readContext(rt, state, extra, `prompt:${p.name}`)),
        client: clientRequests(mcp, extra),
        ask: (...args: Parameters<PromptContext["ask"]>) => round.ask(...(args as [never, string])),
        askUrl: round.askUrl.bind(round),
        sample: round.sample.bind(round),
        listRoots: round.listRoots.bind(round),
        askAll: round.askAll.bind(round),
        confirm: round.confirm.bind(round),
        choose: round.choose.bind(round),
      };
      try {
        const result = await p.handler(args, ctx);
        return round.waiting ? await round.inputRequired() : result;
      } catch (err) {
        if (err instanceof MissingRequiredClientCapabilityError) throw err;
        if (round.waiting) return round.inputRequired();
        throw RpcError.from(err);
      }
    }) as never,
  );
}

/** 2025: resources/subscribe and unsubscribe record the URIs this connection wants updates of. */
function serveSubscribe(rt: Runtime, mcp: McpServer, state: ConnectionState): void {
  const fixed = new Set<string>();
  const templates: UriTemplate[] = [];
  for (const r of rt.def.resources ?? []) {
    if ("uri" in r) fixed.add(r.uri);
    else templates.push(new UriTemplate(r.uriTemplate));
  }
  const known = (uri: string) => fixed.has(uri) || templates.some((t) => t.match(uri) !== null);
  mcp.server.setRequestHandler("resources/subscribe", (request) => {
    const { uri } = request.params;
    if (!known(uri)) {
      throw new RpcError(
        -32002,
        `resource '${uri}' not found; call resources/list or resources/templates/list`,
      );
    }
    state.subscriptions.add(uri);
    return {};
  });
  mcp.server.setRequestHandler("resources/unsubscribe", (request) => {
    state.subscriptions.delete(request.params.uri);
    return {};
  });
}

/**
 * Sends this connection the changes published on the runtime's bus (from this process or, through
 * Redis, another replica) while it is connected. 2025: resource updates for the URIs it subscribed
 * to, list changes always. 2026-07-28 over stdio: every change, which the stdio entry routes onto
 * the client's open subscriptions/listen streams, filtered by what each asked for.
 */
function deliverChanges(rt: Runtime, mcp: McpServer, state: ConnectionState, era: Era): void {
  const server = mcp.server;
  const sent = (p: Promise<void>) => void p.catch(() => {}); // a closing transport: nobody to tell
  // Only what this server declares, even if another replica (say, another version) publishes more.
  const declared = rt.notifications;
  const onEvent = (event: ChangeEvent) => {
    switch (event.kind) {
      case "resource_updated":
        if (declared.resourceUpdated && (era === "modern" || state.subscriptions.has(event.uri))) {
          sent(server.sendResourceUpdated({ uri: event.uri }));
        }
        return;
      case "resources_list_changed":
        if (declared.resourceListChanged) sent(server.sendResourceListChanged());
        return;
      case "tools_list_changed":
        if (declared.toolListChanged) sent(server.sendToolListChanged());
        return;
      case "prompts_list_changed":
        if (declared.promptListChanged) sent(server.sendPromptListChanged());
        return;
    }
  };
  const connect = mcp.connect.bind(mcp);
  mcp.connect = async (transport: Transport) => {
    await connect(transport);
    // Subscribed once connected (a probe instance that is never connected holds nothing).
    const unsubscribe = rt.changes.subscribe(onEvent);
    const onclose = server.onclose;
    server.onclose = () => {
      unsubscribe();
      onclose?.();
    };
  };
}

/** Which protocol family a server instance serves: 2025 (initialize, sessions) or 2026-07-28 (per request). */
export type Era = McpRequestContext["era"];

/** Which transport carries a connection, as spans name it: stdio, HTTP, or an in-process pair. */
export type Network = "pipe" | "tcp" | "inproc";

export interface ConnectOptions {
  network: Network;
  /** The protocol family the connection speaks; 2025 (`legacy`) unless said. */
  era?: Era;
  /** The largest message the transport takes (its --max-body-bytes), told to handlers; none in-process. */
  maxMessageBytes?: number;
  /** A 2025 --stateless connection: one server per request (see createMcpServer). */
  stateless?: boolean;
  /** A 2025 connection answered with --json-response: the client cannot be asked mid-call. */
  jsonResponse?: boolean;
  /**
   * Runs once the server is connected and before its transport is instrumented, so that what it
   * sends and receives is not timed, counted, traced or logged (a shared session replays its
   * handshake here).
   */
  beforeInstrument?: (mcp: McpServer) => Promise<void>;
}

export interface Connection {
  /** The SDK server of the connection, for closing it. */
  readonly mcp: McpServer;
  /** Whether a request with this id is in flight on the connection (answered or cancelled ends it). */
  readonly isPending: (id: string | number) => boolean;
}

/**
 * The one way a kit server meets a transport: create the SDK server, connect it to the transport,
 * serve the tasks methods (2026-07-28, when a tool can run as a task) and instrument the transport,
 * so every request is timed, counted, traced and logged. The 2025 HTTP sessions and the in-process
 * test client call it; the SDK's serving entries (stdio, the 2026-07-28 HTTP lane) reach the same
 * sequence through kitServerFactory.
 */
export async function connect(
  rt: Runtime,
  transport: Transport,
  options: ConnectOptions,
): Promise<Connection> {
  const connection = kitServer(rt, options.era ?? "legacy", options);
  await connection.mcp.connect(transport);
  return connection;
}

/**
 * The server factory the SDK's serving entries call (per HTTP request on the 2026-07-28 lane, per
 * stdio connection, per discover probe): a kit server that connects as connect() does.
 */
export function kitServerFactory(
  rt: Runtime,
  network: Network,
  maxMessageBytes: number,
): (ctx: McpRequestContext) => McpServer | Promise<McpServer> {
  const build = ({ era }: McpRequestContext) => kitServer(rt, era, { network, maxMessageBytes }).mcp;
  // A stdio connection's server is built once, on its first message, and what it declares then is
  // for good (the stdio entry honors listen filters against it): a forwarding server's capabilities
  // depend on its deps (which upstreams subscribe, run tasks, complete), so they are opened first.
  // Over HTTP each request builds its own, and setup is primed at start.
  if (network !== "pipe" || !rt.def.forward) return build;
  return async (ctx) => {
    if (rt.openedDeps === undefined) await rt.deps().catch(() => {});
    return build(ctx);
  };
}

const TRANSPORT_KIND = { pipe: "stdio", tcp: "http", inproc: "in-process" } as const;

/** A kit server whose connect() runs the whole sequence: connect, tasks methods, instrumentation. */
function kitServer(rt: Runtime, era: Era, options: ConnectOptions): Connection {
  const mcp = createMcpServer(rt, era, {
    stateless: options.stateless,
    jsonResponse: options.jsonResponse,
    // Over HTTP the 2026-07-28 entry serves subscriptions/listen from the runtime's bus itself.
    changesByEntry: options.network === "tcp" && era === "modern",
    listensFollow: era === "modern" && (options.network === "tcp" || options.network === "pipe"),
    transport: { kind: TRANSPORT_KIND[options.network], maxMessageBytes: options.maxMessageBytes },
  });
  let tracked: { isPending(id: string | number): boolean } | undefined;
  const connectSdk = mcp.connect.bind(mcp);
  mcp.connect = async (transport: Transport) => {
    await connectSdk(transport);
    await options.beforeInstrument?.(mcp);
    // Inside the instrumentation, so tasks/* requests are counted, traced and logged like the rest.
    if (era === "modern" && rt.servesTasks) serveTaskMethods(rt, mcp, transport);
    tracked = instrumentTransport(rt, transport, options.network, () =>
      mcp.server.getNegotiatedProtocolVersion(),
    );
  };
  return { mcp, isPending: (id) => tracked?.isPending(id) ?? false };
}

/** Runs a resource/prompt callback; a thrown error becomes a JSON-RPC error that hides internals. */
async function guard<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw RpcError.from(err);
  }
}

/**
 * guard() for resources/read: the error names the URI read (`data.uri`), which MCP asks of
 * resource-not-found errors; the SDK answers them -32602 on every protocol revision.
 */
async function guardRead<T>(uri: URL, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = RpcError.from(err);
    const data = e.data && typeof e.data === "object" ? e.data : {};
    throw new RpcError(e.code, e.message, { ...data, uri: uri.href });
  }
}

/**
 * A completion's context: the SDK runs completion callbacks without the request's context, so their
 * log lines go to the server log only (not to the client).
 */
async function completionContext(
  rt: Runtime,
  args: Record<string, string> | undefined,
  loggerName: string,
): Promise<CompletionContext> {
  const logger = rt.logger.child({ completion: loggerName });
  return {
    arguments: args ?? {},
    config: rt.config,
    deps: await rt.deps(),
    log: createMcpLogBridge(logger, { level: () => undefined, send: () => {} }, loggerName),
  };
}

async function readContext(
  rt: Runtime,
  state: ConnectionState,
  extra: Extra,
  loggerName: string,
): Promise<ReadContext> {
  const deps = await guard(() => rt.deps());
  return {
    config: rt.config,
    deps,
    log: toolLogger(rt, state, extra, loggerName),
    signal: extra.mcpReq.signal,
    principal: principalOf(extra),
    sessionId: extra.sessionId,
    requestId: extra.mcpReq.id,
  };
}

const MCP_METHODS: ReadonlySet<string> = new Set([
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "tasks/get",
  "tasks/update",
  "tasks/cancel",
]);

/** A request the kit times, counts, traces and logs (instrumentTransport, http/fast-call.ts). */
export interface RecordedRequest {
  method: string;
  tool: string;
  start: number;
  span: Span | undefined;
  version: string | undefined;
}

/** Ends a request's span, observes it in the metrics and logs a tool call (debug; failures at warn). */
export function recordRequest(
  rt: Runtime,
  p: RecordedRequest,
  outcome: Outcome,
  message?: JSONRPCMessage,
): void {
  rt.requestFinished();
  const errorClass = errorClassOf(outcome, message);
  endRequestSpan(p.span, { ...errorTypeOf(outcome, message), rpcStatus: rpcStatusOf(message) });
  const seconds = (performance.now() - p.start) / 1000;
  rt.metrics.observeOperation(p.method, p.tool, outcome, seconds, {
    errorClass,
    protocolVersion: knownVersion(p.version),
  });
  if (p.method === "tools/call") {
    // Successful calls are counted in the metrics and logged at debug; failures at warn.
    const level = outcome === "ok" ? "debug" : "warn";
    if (rt.logger.isLevelEnabled(level)) {
      rt.logger[level](
        {
          "mcp.method.name": p.method,
          tool: p.tool,
          outcome,
          ...(errorClass ? { error_class: errorClass } : {}),
          duration_ms: Math.round(seconds * 1000),
        },
        "tool call",
      );
    }
  }
}

/**
 * Wraps a connected transport so that every request is timed, counted, logged and tracked as in
 * flight, whatever answers it (a kit handler, the SDK, or an error).
 */
function instrumentTransport(
  rt: Runtime,
  transport: Transport,
  network: Network,
  negotiatedVersion: () => string | undefined = () => undefined,
): { isPending(id: string | number): boolean } {
  const pending = new Map<
    string | number,
    { method: string; tool: string; start: number; span: Span | undefined; version: string | undefined }
  >();
  const finish = (id: string | number, outcome: Outcome, message?: JSONRPCMessage) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    recordRequest(rt, p, outcome, message);
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage, extra) => {
    if ("method" in message) {
      if ("id" in message) {
        // Labels come from the client, so they are clamped to known values: made-up methods and
        // tool names must not grow the metrics registry.
        const method = MCP_METHODS.has(message.method) ? message.method : "other";
        const name = method === "tools/call" ? toolNameOf(rt, message.params) : undefined;
        const tool = typeof name === "string" ? (rt.knowsTool(name) ? name : "unknown") : "";
        const id = message.id;
        if (pending.has(id)) finish(id, "cancelled");
        rt.requestStarted();
        const version = protocolVersionOf(message, negotiatedVersion);
        // A made-up tool name stays out of the span name (cardinality); the attribute keeps it.
        const traced = startRequestSpan(method, id, message.params, transport.sessionId, network, version, {
          knownTarget: method !== "tools/call" || tool !== "unknown",
        });
        pending.set(id, { method, tool, start: performance.now(), span: traced.span, version });
        // The handler runs in the span's context, so its outbound calls become child spans.
        runInContext(traced.context, () => onmessage?.(message, extra));
        return;
      } else if (message.method === "notifications/cancelled") {
        const id = (message.params as { requestId?: string | number } | undefined)?.requestId;
        if (id !== undefined) finish(id, "cancelled");
      }
    }
    onmessage?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if ("id" in message && message.id != null && !("method" in message)) {
      const id = message.id;
      const method = pending.get(id)?.method;
      message = readableError(message, method === "other" ? undefined : method);
      finish(id, outcomeOf(message), message);
    }
    return send(message, options);
  };
  const onclose = transport.onclose;
  transport.onclose = () => {
    if (pending.size === 0) return closeQuietly(onclose);
    for (const id of [...pending.keys()]) finish(id, "cancelled");
    onclose?.();
  };
  return { isPending: (id) => pending.has(id) };
}

/**
 * Runs the SDK's close chain of a connection with nothing in flight (every exchange on the 2026-07-28
 * HTTP lane ends so, once answered) without stack traces: the chain builds a "Connection closed"
 * error for whatever is still pending whether or not anything is, and capturing its stack was a
 * measurable share of every request. The error still reaches anything that was waiting on it.
 */
function closeQuietly(onclose: (() => void) | undefined): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    onclose?.();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function isSearchModeTool(name: string): name is (typeof SEARCH_MODE_TOOLS)[number] {
  return (SEARCH_MODE_TOOLS as readonly string[]).includes(name);
}

/**
 * The tool a tools/call runs, for metrics, logs and spans: in search mode, `call_tool` counts as the
 * tool it calls (when that is a tool of this server), as a direct call of it would.
 */
function toolNameOf(rt: Runtime, params: Record<string, unknown> | undefined): unknown {
  const name = params?.name;
  if (!rt.searchMode || name !== "call_tool") return name;
  const inner = (params?.arguments as Record<string, unknown> | undefined)?.name;
  return typeof inner === "string" && rt.tools.has(inner) ? inner : name;
}

/** The revision a request speaks: its own `_meta` envelope (2026-07-28), or what initialize settled. */
function protocolVersionOf(
  message: { method: string; params?: Record<string, unknown> },
  negotiated: () => string | undefined,
): string | undefined {
  const meta = message.params?._meta as Record<string, unknown> | undefined;
  const claimed = meta?.[PROTOCOL_VERSION_META_KEY];
  if (typeof claimed === "string") return claimed;
  if (message.method === "initialize" && typeof message.params?.protocolVersion === "string") {
    return message.params.protocolVersion;
  }
  return negotiated();
}

/** `error.type` for a span: the JSON-RPC error code, "tool_error" (with the Toolshed code) or "cancelled". */
function errorTypeOf(
  outcome: Outcome,
  message: JSONRPCMessage | undefined,
): { errorType?: string; toolErrorCode?: string } {
  if (outcome === "ok") return {};
  if (outcome === "cancelled") return { errorType: "cancelled" };
  if (message && "error" in message) return { errorType: String(message.error.code) };
  const meta =
    message && "result" in message
      ? (message.result._meta as Record<string, { code?: string }> | undefined)
      : undefined;
  const code = meta?.["toolshed/error"]?.code;
  return { errorType: "tool_error", ...(code ? { toolErrorCode: code } : {}) };
}

// The SDK lists the 2025-era revisions; the stateless revision it serves beside them is named here.
const KNOWN_VERSIONS: ReadonlySet<string> = new Set([...SUPPORTED_PROTOCOL_VERSIONS, "2026-07-28"]);

/** `mcp_protocol_version` for metrics: a revision the SDK knows, "other" for anything a client made up. */
function knownVersion(version: string | undefined): string {
  if (version === undefined) return "";
  return KNOWN_VERSIONS.has(version) ? version : "other";
}

const CODE_BY_RPC = new Map<number, ErrorCode>(
  Object.entries(JSONRPC_ERROR_CODES).map(([code, rpc]) => [rpc, code as ErrorCode]),
);
const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/**
 * `error_class` for metrics: the Toolshed error code of a failed call (an `isError` result or a
 * JSON-RPC error), so a user's bad input and a server fault are told apart; "" for a success.
 */
function errorClassOf(outcome: Outcome, message: JSONRPCMessage | undefined): string {
  if (outcome === "ok") return "";
  if (outcome === "cancelled") return "cancelled";
  if (message && "error" in message) {
    const type = (message.error.data as { type?: unknown } | undefined)?.type;
    if (typeof type === "string" && KNOWN_CODES.has(type)) return type;
    const code = message.error.code;
    const mapped = CODE_BY_RPC.get(code);
    if (mapped) return mapped;
    // Parse error, invalid request, method not found and the 2026-07-28 envelope errors
    // (-32020..-32029: missing capability, unsupported version, …) are the client's to fix.
    if (code === -32700 || code === -32600 || code === -32601 || (code <= -32020 && code >= -32029)) {
      return "invalid_input";
    }
    return "internal";
  }
  const code =
    message && "result" in message
      ? (message.result._meta as Record<string, { code?: unknown }> | undefined)?.["toolshed/error"]?.code
      : undefined;
  if (typeof code === "string" && KNOWN_CODES.has(code)) return code;
  return outcome === "timeout" ? "timeout" : "internal";
}

/** `rpc.response.status_code`: the JSON-RPC error code of an error response. */
function rpcStatusOf(message: JSONRPCMessage | undefined): string | undefined {
  return message && "error" in message ? String(message.error.code) : undefined;
}

export function outcomeOf(message: JSONRPCMessage): Outcome {
  if ("error" in message) return "error";
  if ("result" in message) {
    const result = message.result as { isError?: boolean; _meta?: Record<string, { code?: string }> };
    if (result.isError) return result._meta?.["toolshed/error"]?.code === "timeout" ? "timeout" : "error";
  }
  return "ok";
}
