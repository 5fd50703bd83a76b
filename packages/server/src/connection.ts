import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { UriTemplate } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import {
  CallToolRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { ToolshedError, toToolResult, toToolshedError } from "@toolshed/errors";
import { createMcpLogBridge, type McpLogLevel, type ToolLogger } from "@toolshed/logging";
import type { Outcome } from "@toolshed/metrics";
import type { z } from "zod";
import {
  isReply,
  type AnyTool,
  type ClientRequests,
  type HandlerContext,
  type Principal,
  type AnyObjectSchema,
  type AnyPromptDefinition,
  type ReadContext,
  type ResourceDefinition,
} from "./define.js";
import { RpcError } from "./rpc-error.js";
import type { Runtime } from "./runtime.js";
import { describeIssues } from "./tool-json.js";

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Per-connection state the kit keeps beside the SDK server. */
interface ConnectionState {
  logLevel: McpLogLevel | undefined;
  subscriptions: Set<string>;
}

/**
 * One SDK server for one connection (a stdio pipe, an HTTP session or a stateless request). The SDK
 * server stays inside this module so that logging, metrics, validation, timeouts and error mapping
 * cannot be bypassed by a server's code.
 */
export function createMcpServer(rt: Runtime): McpServer {
  const { def } = rt;
  const mcp = new McpServer(
    { name: def.name, version: def.version, ...(def.title ? { title: def.title } : {}) },
    {
      capabilities: {
        logging: {},
        // The SDK adds `completions` itself when a prompt or template has a completer.
        ...(def.resources?.length ? { resources: { subscribe: true, listChanged: false } } : {}),
        ...(def.prompts?.length ? { prompts: { listChanged: false } } : {}),
      },
      ...(def.instructions ? { instructions: def.instructions } : {}),
    },
  );
  const state: ConnectionState = { logLevel: undefined, subscriptions: new Set() };
  const server = mcp.server;

  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    state.logLevel = request.params.level;
    return {};
  });
  // Tools are served by the kit, not McpServer.registerTool: the list is computed once per process,
  // input errors become isError results a model can fix, and an unknown tool is a JSON-RPC error.
  server.registerCapabilities({ tools: { listChanged: false } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: rt.toolList as never }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = rt.tools.get(request.params.name);
    if (!tool) {
      throw new RpcError(
        ErrorCode.InvalidParams,
        `unknown tool '${request.params.name}'; call tools/list to see the available tools`,
      );
    }
    return callTool(rt, tool, request.params.arguments ?? {}, extra, mcp, state);
  });

  for (const resource of def.resources ?? []) registerResource(rt, mcp, resource, state);
  if (def.resources?.length) serveSubscriptions(rt, mcp, state);
  for (const prompt of def.prompts ?? []) registerPrompt(rt, mcp, prompt, state);
  return mcp;
}

async function callTool(
  rt: Runtime,
  tool: AnyTool,
  args: Record<string, unknown>,
  extra: Extra,
  mcp: McpServer,
  state: ConnectionState,
): Promise<CallToolResult> {
  let log: ToolLogger | undefined;
  try {
    const principal = principalOf(extra);
    if (principal && tool.scopes?.length) {
      const missing = tool.scopes.filter((s) => !principal.scopes.includes(s));
      if (missing.length) {
        throw new ToolshedError("forbidden", `tool '${tool.name}' needs scope ${missing.join(", ")}`, {
          details: { missingScopes: missing },
        });
      }
    }
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) {
      throw new ToolshedError(
        "invalid_input",
        `invalid arguments for tool '${tool.name}': ${describeIssues(parsed.error)}`,
      );
    }
    const deps = await rt.deps();
    const timeoutMs = tool.timeoutMs ?? rt.defaultTimeoutMs;
    // One controller per call: aborted by the client's cancel, the timeout or shutdown, and dropped
    // with the call, so nothing accumulates on long-lived signals.
    const call = new AbortController();
    const onCancel = () =>
      call.abort(new ToolshedError("timeout", "the call was cancelled", { retryable: false }));
    extra.signal.addEventListener("abort", onCancel, { once: true });
    const untrack = rt.trackCall(call);
    const timer = setTimeout(
      () =>
        call.abort(
          new ToolshedError(
            "timeout",
            `tool '${tool.name}' did not finish within ${timeoutMs / 1000}s; narrow the request or retry`,
            { details: { timeoutMs } },
          ),
        ),
      timeoutMs,
    );
    const aborted = new Promise<never>((_, reject) => {
      call.signal.addEventListener("abort", () => reject(call.signal.reason as Error), { once: true });
    });
    if (extra.signal.aborted) onCancel();
    const ctx: HandlerContext = {
      config: rt.config,
      deps,
      // Built on first use: most calls never log, and a child logger per call is not free.
      get log() {
        return (log ??= toolLogger(rt, state, extra, tool.name));
      },
      signal: call.signal,
      progress: progressReporter(extra),
      principal,
      sessionId: extra.sessionId,
      requestId: extra.requestId,
      client: clientRequests(mcp, extra),
      notifyResourceUpdated: (uri) => rt.notifyResourceUpdated(uri),
    };
    let raw: unknown;
    try {
      raw = await Promise.race([Promise.resolve(tool.handler(parsed.data, ctx)), aborted]);
    } finally {
      clearTimeout(timer);
      extra.signal.removeEventListener("abort", onCancel);
      untrack();
    }
    const data: unknown = isReply(raw) ? raw.data : raw;
    const output = tool.output.safeParse(data);
    if (!output.success) {
      rt.logger.error(
        { tool: tool.name, issues: describeIssues(output.error) },
        "tool returned data that does not match its output schema",
      );
      throw new ToolshedError(
        "internal",
        `tool '${tool.name}' produced a result that does not match its declared output; this is a server bug, report it`,
      );
    }
    const structured = output.data as Record<string, unknown>;
    const content = isReply(raw)
      ? raw.content
      : [{ type: "text", text: tool.render ? tool.render(structured) : JSON.stringify(structured) }];
    return { content: content as CallToolResult["content"], structuredContent: structured };
  } catch (err) {
    const error = toToolshedError(err);
    // Internal failures are logged in full on the server only; the client gets the hidden message.
    if (error.code === "internal") {
      rt.logger.error({ err: error.cause ?? error, tool: tool.name, session: extra.sessionId }, "tool failed");
    }
    return toToolResult(error);
  }
}

function registerResource(rt: Runtime, mcp: McpServer, r: ResourceDefinition, state: ConnectionState): void {
  const meta = { title: r.title, description: r.description, mimeType: r.mimeType };
  if ("uri" in r) {
    mcp.registerResource(r.name, r.uri, meta, async (uri, extra) => {
      const ctx = await readContext(rt, state, extra, `resource:${r.name}`);
      return { contents: await guard(() => r.read(uri, ctx)) };
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
          guard(() => complete(value, { arguments: context?.arguments ?? {} })),
      ]),
    ),
  });
  mcp.registerResource(r.name, template, meta, async (uri, variables, extra) => {
    const ctx = await readContext(rt, state, extra, `resource:${r.name}`);
    return { contents: await guard(() => r.read(uri, variables, ctx)) };
  });
}

// completable() marks the schema object itself, so the completable shape is built once per prompt.
const promptShapes = new WeakMap<AnyPromptDefinition, Record<string, z.ZodType>>();

function promptShape(p: AnyPromptDefinition): Record<string, z.ZodType> {
  let shape = promptShapes.get(p);
  if (shape) return shape;
  shape = {};
  for (const [key, field] of Object.entries((p.args as AnyObjectSchema).shape as Record<string, z.ZodType>)) {
    const complete = p.complete?.[key];
    shape[key] = complete
      ? completable(field as z.ZodType<string>, (value, context) =>
          guard(() => complete(typeof value === "string" ? value : "", { arguments: context?.arguments ?? {} })),
        )
      : field;
  }
  promptShapes.set(p, shape);
  return shape;
}

function registerPrompt(rt: Runtime, mcp: McpServer, p: AnyPromptDefinition, state: ConnectionState): void {
  const shape = promptShape(p);
  mcp.registerPrompt(
    p.name,
    { title: p.title, description: p.description, argsSchema: shape as never },
    (async (args: Record<string, string | undefined>, extra: Extra) => {
      const ctx = await readContext(rt, state, extra, `prompt:${p.name}`);
      return guard(() => p.handler(args, ctx));
    }) as never,
  );
}

function serveSubscriptions(rt: Runtime, mcp: McpServer, state: ConnectionState): void {
  const fixed = new Set<string>();
  const templates: UriTemplate[] = [];
  for (const r of rt.def.resources ?? []) {
    if ("uri" in r) fixed.add(r.uri);
    else templates.push(new UriTemplate(r.uriTemplate));
  }
  const known = (uri: string) => fixed.has(uri) || templates.some((t) => t.match(uri) !== null);
  mcp.server.setRequestHandler(SubscribeRequestSchema, (request) => {
    const { uri } = request.params;
    if (!known(uri)) {
      throw new RpcError(-32002, `resource '${uri}' not found; call resources/list or resources/templates/list`);
    }
    state.subscriptions.add(uri);
    return {};
  });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    state.subscriptions.delete(request.params.uri);
    return {};
  });
  const forget = rt.addSubscriber(state, {
    subscriptions: state.subscriptions,
    notify: (uri) => void mcp.server.sendResourceUpdated({ uri }).catch(() => {}),
  });
  const onclose = mcp.server.onclose;
  mcp.server.onclose = () => {
    forget();
    onclose?.();
  };
}

/** Runs a resource/prompt callback; a thrown error becomes a JSON-RPC error that hides internals. */
async function guard<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw RpcError.from(err);
  }
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
    signal: extra.signal,
    principal: principalOf(extra),
    sessionId: extra.sessionId,
    requestId: extra.requestId,
  };
}

function toolLogger(rt: Runtime, state: ConnectionState, extra: Extra, name: string): ToolLogger {
  const child = rt.logger.child({ tool: name, session: extra.sessionId, rpc_id: extra.requestId });
  return createMcpLogBridge(
    child,
    {
      level: () => state.logLevel,
      send: (params) => {
        extra.sendNotification({ method: "notifications/message", params }).catch(() => {});
      },
    },
    name,
  );
}

function progressReporter(extra: Extra): HandlerContext["progress"] {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => Promise.resolve();
  return async (progress, total, message) => {
    await extra
      .sendNotification({
        method: "notifications/progress",
        params: {
          progressToken: token,
          progress,
          ...(total === undefined ? {} : { total }),
          ...(message === undefined ? {} : { message }),
        },
      })
      .catch(() => {});
  };
}

function clientRequests(mcp: McpServer, extra: Extra): ClientRequests {
  return {
    get capabilities() {
      return (mcp.server.getClientCapabilities() ?? {}) as Record<string, unknown>;
    },
    sample: (params) =>
      extra.sendRequest({ method: "sampling/createMessage", params } as ServerRequest, CreateMessageResultSchema, {
        signal: extra.signal,
      }),
    elicit: (params) =>
      extra.sendRequest({ method: "elicitation/create", params } as ServerRequest, ElicitResultSchema, {
        signal: extra.signal,
      }),
  };
}

function principalOf(extra: Extra): Principal | undefined {
  const auth = extra.authInfo;
  if (!auth) return undefined;
  const claims = auth.extra ?? {};
  const id = typeof claims.sub === "string" ? claims.sub : auth.clientId;
  return { id, scopes: auth.scopes, claims };
}

/**
 * Wraps a connected transport so that every request is timed, counted, logged and tracked as in
 * flight, whatever answers it (a kit handler, the SDK, or an error).
 */
export function instrumentTransport(rt: Runtime, transport: Transport): void {
  const pending = new Map<string | number, { method: string; tool: string; start: bigint }>();
  const finish = (id: string | number, outcome: Outcome) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    rt.requestFinished();
    const seconds = Number(process.hrtime.bigint() - p.start) / 1e9;
    rt.metrics.observeOperation(p.method, p.tool, outcome, seconds);
    if (p.method === "tools/call") {
      const fields = { "mcp.method.name": p.method, tool: p.tool, outcome, duration_ms: Math.round(seconds * 1000) };
      if (outcome === "ok") rt.logger.info(fields, "tool call");
      else rt.logger.warn(fields, "tool call");
    }
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage, extra) => {
    if ("method" in message) {
      if ("id" in message) {
        const tool =
          message.method === "tools/call" && typeof message.params?.name === "string" ? message.params.name : "";
        const id = message.id;
        if (!pending.has(id)) rt.requestStarted();
        pending.set(id, { method: message.method, tool, start: process.hrtime.bigint() });
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
      finish(message.id, outcomeOf(message));
    }
    return send(message, options);
  };
  const onclose = transport.onclose;
  transport.onclose = () => {
    for (const id of [...pending.keys()]) finish(id, "cancelled");
    onclose?.();
  };
}

function outcomeOf(message: JSONRPCMessage): Outcome {
  if ("error" in message) return "error";
  if ("result" in message) {
    const result = message.result as { isError?: boolean; _meta?: Record<string, { code?: string }> };
    if (result.isError) return result._meta?.["toolshed/error"]?.code === "timeout" ? "timeout" : "error";
  }
  return "ok";
}
