import { ProtocolError, ProtocolErrorCode, type McpServer } from "@modelcontextprotocol/server";
import { ToolshedError, toToolResult, toToolshedError } from "@toolshed/errors";
import { AskRound, callIdentity } from "./ask.js";
import type {
  Asking,
  CompletionValues,
  ForwardCompletion,
  ForwardContext,
  ForwardDefinition,
  WireResult,
} from "./define.js";
import { MCP_LOG_LEVELS } from "@toolshed/logging";
import { RpcError } from "./rpc-error.js";
import type { Runtime } from "./runtime.js";
import type { Era } from "./connection.js";
import { sealedCreated, taskOwnerKey } from "./tasks/forwarded.js";
import { announceTask, declaresTasks } from "./tasks/wire.js";
import {
  clientRequests,
  principalOf,
  requestedLogLevel,
  sendLog,
  sendProgress,
  toolLogger,
  type ConnectionState,
  type Extra,
} from "./tool-call.js";

const MISSING_CAPABILITY = -32021;

/**
 * Serves a forwarding definition (`def.forward`, the gateway) on one SDK server: tools, and resources
 * and prompts when it has them, answered per request by its functions. Deadlines, cancellation,
 * shutdown, rate limits per principal and tool, and error mapping are the kit's, as for own tools.
 */
export function serveForwarded(
  rt: Runtime,
  mcp: McpServer,
  forward: ForwardDefinition,
  state: ConnectionState,
  era: Era,
  sends: Runtime["notifications"],
  /** The serving entry's 2026-07-28 listen streams follow the URIs they name (HTTP and stdio). */
  listensFollow: boolean,
): void {
  const server = mcp.server;
  server.setRequestHandler("tools/list", async (_request, extra) => {
    const { deps, ctx, done } = await open(rt, mcp, state, extra, "tools/list");
    try {
      return { tools: (await forward.listTools(deps, ctx)) as never };
    } catch (err) {
      throw RpcError.from(err);
    } finally {
      done();
    }
  });
  server.setRequestHandler("tools/call", async (request, extra) => {
    const name = request.params.name;
    const args = request.params.arguments ?? {};
    let opened;
    let round: AskRound | undefined;
    try {
      const key = extra.http?.authInfo?.extra?.principalKey;
      if (rt.toolLimiter && typeof key === "string") {
        const taken = await rt.toolLimiter.take(`${key}|tool:${name}`);
        if (!taken.allowed) {
          throw new ToolshedError(
            "rate_limited",
            `rate limit for tool '${name}' reached; retry in ${Math.ceil(taken.retryAfterMs / 1000)}s`,
            { retryAfterMs: taken.retryAfterMs },
          );
        }
      }
      round = await openRound(rt, mcp, state, extra, `tools/call:${name}`, args);
      opened = await open(rt, mcp, state, extra, name, round);
      const result = await forward.callTool(opened.deps, name, args, opened.ctx);
      if (round.waiting) return await round.inputRequired();
      if (result === undefined) {
        throw new RpcError(
          ProtocolErrorCode.InvalidParams,
          `unknown tool '${name}'; call tools/list to see the available tools`,
        );
      }
      if (result.resultType === "task" && forward.tasks && opened.ctx.tasks) {
        // The transport sends this CreateTaskResult in place of the placeholder (tasks/wire.ts).
        const owner = taskOwnerKey(extra.http?.authInfo);
        announceTask(mcp, extra.mcpReq.id, sealedCreated(rt, result, owner));
        return { content: [] };
      }
      return result as never;
    } catch (err) {
      const asked = await questionOrProtocolError(err, round);
      if (asked) return asked as never;
      const error = opened?.timedOut() ?? toToolshedError(err);
      if (error.code === "internal")
        rt.logger.error({ err: error.cause ?? error, tool: name }, "tool failed");
      return toToolResult(error);
    } finally {
      opened?.done();
    }
  });
  if (forward.resources) {
    const resources = forward.resources;
    // 2025 sessions follow with resources/subscribe; 2026-07-28 listen streams where the serving
    // entry follows their URIs (HTTP and stdio; not an in-process pair).
    const follows =
      sends.resourceUpdated && (era === "legacy" || listensFollow) && offersSubscriptions(rt, resources);
    server.registerCapabilities({
      resources: { subscribe: follows, listChanged: sends.resourceListChanged },
    });
    if (follows && era === "legacy") serveSubscribe(rt, mcp, resources.subscriptions!, state);
    server.setRequestHandler("resources/list", (_request, extra) =>
      guarded(rt, mcp, state, extra, "resources/list", async (deps, ctx) => ({
        resources: (await resources.list(deps, ctx)) as never,
      })),
    );
    server.setRequestHandler("resources/templates/list", (_request, extra) =>
      guarded(rt, mcp, state, extra, "resources/templates/list", async (deps, ctx) => ({
        resourceTemplates: (await resources.templates(deps, ctx)) as never,
      })),
    );
    server.setRequestHandler("resources/read", async (request, extra) => {
      const uri = request.params.uri;
      try {
        return (await asking(
          rt,
          mcp,
          state,
          extra,
          "resources/read",
          `resources/read:${uri}`,
          {},
          (deps, ctx) => resources.read(deps, uri, ctx),
        )) as never;
      } catch (err) {
        const e = RpcError.from(err);
        const data = e.data && typeof e.data === "object" ? e.data : {};
        throw new RpcError(e.code, e.message, { ...data, uri });
      }
    });
  }
  if (forward.prompts) {
    const prompts = forward.prompts;
    server.registerCapabilities({ prompts: { listChanged: sends.promptListChanged } });
    server.setRequestHandler("prompts/list", (_request, extra) =>
      guarded(rt, mcp, state, extra, "prompts/list", async (deps, ctx) => ({
        prompts: (await prompts.list(deps, ctx)) as never,
      })),
    );
    server.setRequestHandler("prompts/get", async (request, extra) => {
      const name = request.params.name;
      const args = (request.params.arguments ?? {}) as Record<string, string>;
      return (await asking(
        rt,
        mcp,
        state,
        extra,
        `prompt:${name}`,
        `prompts/get:${name}`,
        args,
        (deps, ctx) => prompts.get(deps, name, args, ctx),
      )) as never;
    });
  }
  const completions = forward.completions;
  // The capability is decided as this connection's server is built: from the deps when setup has
  // opened them (a gateway: whether some upstream completes), never by opening them here.
  if (completions && rt.openedDeps !== undefined && completions.offered(rt.openedDeps)) {
    server.registerCapabilities({ completions: {} });
    server.setRequestHandler("completion/complete", async (request, extra) => {
      const { ref, argument, context } = request.params;
      const target = ref.type === "ref/prompt" ? `prompt:${ref.name}` : `resource:${ref.uri}`;
      const asked: ForwardCompletion = {
        ref:
          ref.type === "ref/prompt" ? { type: ref.type, name: ref.name } : { type: ref.type, uri: ref.uri },
        argument: { name: argument.name, value: argument.value },
        arguments: { ...(context?.arguments ?? {}) },
      };
      return (await guarded(rt, mcp, state, extra, `completion:${target}`, async (deps, ctx) => ({
        completion: capped(await completions.complete(deps, asked, ctx)),
      }))) as never;
    });
  }
}

/**
 * Whether connections declare `resources.subscribe`: decided as the connection's server is built,
 * from the deps once setup has opened them (as `completions`), never by opening them here.
 */
function offersSubscriptions(rt: Runtime, resources: NonNullable<ForwardDefinition["resources"]>): boolean {
  const subscriptions = resources.subscriptions;
  return subscriptions !== undefined && rt.openedDeps !== undefined && subscriptions.offered(rt.openedDeps);
}

/**
 * 2025: resources/subscribe follows a URI for this session (the definition checks the caller may
 * see it); unsubscribe and the session's end stop following. Updates reach the session through
 * `state.subscriptions` (connection.ts delivers the bus's resource updates for those URIs).
 */
function serveSubscribe(
  rt: Runtime,
  mcp: McpServer,
  subscriptions: NonNullable<NonNullable<ForwardDefinition["resources"]>["subscriptions"]>,
  state: ConnectionState,
): void {
  const server = mcp.server;
  const following = new Map<string, () => void>();
  let closed = false;
  const stop = (uri: string) => {
    const end = following.get(uri);
    following.delete(uri);
    state.subscriptions.delete(uri);
    end?.();
  };
  server.setRequestHandler("resources/subscribe", async (request, extra) => {
    const uri = request.params.uri;
    if (following.has(uri)) return {};
    try {
      const deps = rt.openedDeps ?? (await rt.deps());
      // Access taken by a reload: no more updates of it to this session.
      const end = await subscriptions.subscribe(deps, uri, principalOf(extra), () => stop(uri));
      // Subscribed twice at once (the first one follows), or the session ended meanwhile.
      if (following.has(uri) || closed) end();
      else following.set(uri, end);
    } catch (err) {
      const e = RpcError.from(err);
      throw new RpcError(e.code, e.message, { ...(isObject(e.data) ? e.data : {}), uri });
    }
    state.subscriptions.add(uri);
    return {};
  });
  server.setRequestHandler("resources/unsubscribe", (request) => {
    stop(request.params.uri);
    return {};
  });
  const onclose = server.onclose;
  server.onclose = () => {
    closed = true;
    for (const uri of [...following.keys()]) stop(uri);
    onclose?.();
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;

/** The spec's cap: at most 100 values; `total` kept (or the full count), `hasMore` when cut. */
const MAX_COMPLETIONS = 100;

function capped(answer: CompletionValues): CompletionValues {
  const values = answer.values.map(String);
  if (values.length <= MAX_COMPLETIONS) {
    return {
      values,
      ...(answer.total !== undefined ? { total: answer.total } : {}),
      ...(answer.hasMore !== undefined ? { hasMore: answer.hasMore } : {}),
    };
  }
  return {
    values: values.slice(0, MAX_COMPLETIONS),
    total: Math.max(answer.total ?? 0, values.length),
    hasMore: true,
  };
}

/**
 * A forwarded resources/read or prompts/get that may relay questions to this client (`ctx.ask`), as
 * tools/call does: a question without an answer yet ends the request with `input_required` (2026-07-28;
 * the SDK asks a 2025 client over its session and reruns it). Errors are JSON-RPC errors.
 */
async function asking(
  rt: Runtime,
  mcp: McpServer,
  state: ConnectionState,
  extra: Extra,
  name: string,
  identity: string,
  args: Record<string, unknown>,
  fn: (deps: unknown, ctx: ForwardContext) => Promise<WireResult>,
): Promise<WireResult> {
  let opened;
  let round: AskRound | undefined;
  try {
    round = await openRound(rt, mcp, state, extra, identity, args);
    opened = await open(rt, mcp, state, extra, name, round);
    const result = await fn(opened.deps, opened.ctx);
    return round.waiting ? await round.inputRequired() : result;
  } catch (err) {
    const asked = await questionOrProtocolError(err, round);
    if (asked) return asked;
    throw RpcError.from(opened?.timedOut() ?? err);
  } finally {
    opened?.done();
  }
}

/** The questions a forwarded request relays to this client (a requestState that fails is -32602). */
function openRound(
  rt: Runtime,
  mcp: McpServer,
  state: ConnectionState,
  extra: Extra,
  identity: string,
  args: Record<string, unknown>,
): Promise<AskRound> {
  return AskRound.open({
    keys: rt.requestStateKeys,
    extra,
    mcp,
    identity: callIdentity(principalOf(extra)?.id, identity, args),
    cannotAsk: state.cannotAsk,
    confirm: rt.confirm,
    logger: rt.logger,
  });
}

/**
 * What a forwarded request's failure is before the request's own error mapping: a JSON-RPC error
 * stays one; a question without an answer wins over whatever the forwarded call made of it
 * (`input_required`); a client that lacks a capability the call needs gets the revision's protocol
 * error (-32021), as from an own tool. Undefined when none of these applies.
 */
async function questionOrProtocolError(
  err: unknown,
  round: AskRound | undefined,
): Promise<WireResult | undefined> {
  if (err instanceof RpcError) throw err;
  if (round?.waiting && !(err instanceof ToolshedError && err.code === "timeout")) {
    return await round.inputRequired();
  }
  if (ProtocolError.isInstance(err) && err.code === MISSING_CAPABILITY) {
    throw new RpcError(err.code, err.message, err.data);
  }
  return undefined;
}

async function guarded<T>(
  rt: Runtime,
  mcp: McpServer,
  state: ConnectionState,
  extra: Extra,
  name: string,
  fn: (deps: unknown, ctx: ForwardContext) => Promise<T>,
): Promise<T> {
  let opened;
  try {
    opened = await open(rt, mcp, state, extra, name);
    return await fn(opened.deps, opened.ctx);
  } catch (err) {
    throw RpcError.from(opened?.timedOut() ?? err);
  } finally {
    opened?.done();
  }
}

/** A log level's severity, least severe first (an unknown level ranks below debug). */
const rank = (level: string): number => (MCP_LOG_LEVELS as readonly string[]).indexOf(level);

/** The context of one forwarded request: deps, a signal aborted on cancel, deadline or shutdown. */
async function open(
  rt: Runtime,
  mcp: McpServer,
  state: ConnectionState,
  extra: Extra,
  name: string,
  ask?: Asking,
): Promise<{
  deps: unknown;
  ctx: ForwardContext;
  done: () => void;
  timedOut: () => ToolshedError | undefined;
}> {
  const deps = rt.openedDeps ?? (await rt.deps());
  const call = new AbortController();
  const untrack = rt.trackCall(call);
  const onCancel = () =>
    call.abort(new ToolshedError("timeout", "the call was cancelled", { retryable: false }));
  if (extra.mcpReq.signal.aborted) onCancel();
  else extra.mcpReq.signal.addEventListener("abort", onCancel, { once: true });
  const logLevel = requestedLogLevel(state, extra);
  const ms = rt.defaultTimeoutMs;
  let late: ToolshedError | undefined;
  const timer = setTimeout(() => {
    late = new ToolshedError(
      "timeout",
      `'${name}' did not finish within ${ms / 1000}s; narrow the request or retry`,
      {
        details: { timeoutMs: ms },
      },
    );
    call.abort(late);
  }, ms);
  const ctx: ForwardContext = {
    principal: principalOf(extra),
    signal: call.signal,
    get log() {
      return toolLogger(rt, state, extra, name);
    },
    requestId: extra.mcpReq.id,
    client: clientRequests(mcp, extra),
    progress: (progress, total, message) => sendProgress(extra, progress, total, message),
    wantsProgress: extra.mcpReq._meta?.progressToken !== undefined,
    logLevel,
    relayLog: (message) => {
      if (logLevel === undefined || rank(message.level) < rank(logLevel)) return;
      sendLog(extra, {
        level: message.level,
        ...(message.logger !== undefined ? { logger: message.logger } : {}),
        data: message.data,
      });
    },
    ...(ask ? { ask } : {}),
    tasks: rt.servesTasks && extra.mcpReq.envelope !== undefined && declaresTasks(extra.mcpReq.envelope),
  };
  return {
    deps,
    ctx,
    timedOut: () => late,
    done: () => {
      clearTimeout(timer);
      extra.mcpReq.signal.removeEventListener("abort", onCancel);
      untrack();
    },
  };
}

export type { WireResult };
