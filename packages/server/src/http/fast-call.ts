import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  type AuthInfo,
  type JSONRPCMessage,
} from "@modelcontextprotocol/server";
import { ToolshedError, toToolResult, toToolshedError } from "@toolshed/errors";
import { outcomeOf, recordRequest } from "../connection.js";
import { USUAL_PATH, type WireResult } from "../define.js";
import { principalFromAuthInfo } from "../principal.js";
import { readableError } from "../readable-error.js";
import { RpcError } from "../rpc-error.js";
import type { Runtime } from "../runtime.js";
import { endRequestSpan, runInContext, startRequestSpan } from "../tracing.js";

const VERSION = "2026-07-28";
const SERVER_INFO = "io.modelcontextprotocol/serverInfo";
const MISSING_CAPABILITY = -32021;
const ENVELOPE_KEYS: ReadonlySet<string> = new Set([
  PROTOCOL_VERSION_META_KEY,
  CLIENT_INFO_META_KEY,
  CLIENT_CAPABILITIES_META_KEY,
]);
/** Capabilities that change how a forwarded call is made (tasks, extensions): the usual path. */
const USUAL_CAPABILITIES = ["extensions", "tasks"];
/**
 * Capabilities that let a server ask the caller something: the lean path passes them on
 * (`FastToolCall.asks`) and takes the usual path when the upstream does ask.
 */
const ASKING_CAPABILITIES = ["elicitation", "sampling", "roots"];

interface PlainCall {
  id: string | number;
  name: string;
  args: Record<string, unknown>;
  params: Record<string, unknown>;
  /** The asking capabilities the caller declared, if any. */
  asks?: Record<string, unknown>;
}

/**
 * Controllers of finished calls that were never aborted, handed to later calls: a signal costs more to
 * make (and to listen to) than the rest of the call's bookkeeping, and a listener registered once on
 * it serves every call that reuses it (the upstream client's `onAbortOf`). FastToolCall says the
 * signal is the call's only until it settles.
 */
const spareControllers: AbortController[] = [];
const MAX_SPARE_CONTROLLERS = 256;

function takeController(): AbortController {
  return spareControllers.pop() ?? new AbortController();
}

function giveBack(controller: AbortController): void {
  if (!controller.signal.aborted && spareControllers.length < MAX_SPARE_CONTROLLERS)
    spareControllers.push(controller);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A 2026-07-28 `tools/call` that asks nothing beyond its result, with the headers the SDK's lane
 * checks agreeing with its body: no progress token, log level, trace context, task, request state
 * or input responses, and a client that declares no extension or tasks capability (elicitation,
 * sampling and roots are passed on as `asks`). Anything else (or anything malformed) is undefined:
 * the SDK's lane answers it, errors included.
 */
export function plainToolCall(req: IncomingMessage, body: unknown): PlainCall | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== "2.0" || body.method !== "tools/call") return undefined;
  const id = body.id;
  if (typeof id !== "string" && !(typeof id === "number" && Number.isInteger(id))) return undefined;
  for (const key in body)
    if (key !== "jsonrpc" && key !== "method" && key !== "params" && key !== "id") return;
  const params = body.params;
  if (!isPlainObject(params)) return undefined;
  for (const key in params) if (key !== "name" && key !== "arguments" && key !== "_meta") return undefined;
  const name = params.name;
  const args = params.arguments ?? {};
  if (typeof name !== "string" || !name || !isPlainObject(args)) return undefined;
  const meta = params._meta;
  if (!isPlainObject(meta) || meta[PROTOCOL_VERSION_META_KEY] !== VERSION) return undefined;
  for (const key in meta) if (!ENVELOPE_KEYS.has(key)) return undefined;
  const caps = meta[CLIENT_CAPABILITIES_META_KEY];
  if (!isPlainObject(caps) || USUAL_CAPABILITIES.some((k) => k in caps)) return undefined;
  let asks: Record<string, unknown> | undefined;
  for (const k of ASKING_CAPABILITIES) if (caps[k] !== undefined) (asks ??= {})[k] = caps[k];
  const info = meta[CLIENT_INFO_META_KEY];
  if (
    info !== undefined &&
    !(isPlainObject(info) && typeof info.name === "string" && typeof info.version === "string")
  )
    return undefined;
  const h = req.headers;
  if (h["mcp-protocol-version"] !== VERSION || h["mcp-method"] !== "tools/call" || h["mcp-name"] !== name)
    return undefined;
  const accept = h.accept ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  if (!(h["content-type"] ?? "").startsWith("application/json")) return undefined;
  return { id, name, args, params, ...(asks ? { asks } : {}) };
}

/**
 * The lean path of a forwarding server's (the gateway's) 2026-07-28 `tools/call`: answered from
 * the parsed body without building an SDK server for the request, when the definition's `fastCall`
 * takes it (undefined otherwise: the SDK's lane answers). What the usual path does per call is done
 * here too: the per-principal tool rate limit, the deadline, cancellation when the client goes away,
 * shutdown, metrics, spans and logs, the error mapping, and the answer's `serverInfo`. A run that
 * resolves USUAL_PATH (its upstream asked the caller something) is answered by `usual`, the SDK's lane.
 */
export function fastToolCall(
  rt: Runtime,
  req: IncomingMessage & { auth?: AuthInfo },
  res: ServerResponse,
  body: unknown,
  usual: () => Promise<void>,
): Promise<void> | undefined {
  const forward = rt.def.forward;
  const deps = rt.openedDeps;
  if (!forward?.fastCall || deps === undefined || rt.closing) return undefined;
  const call = plainToolCall(req, body);
  if (!call) return undefined;
  const principal = req.auth ? principalFromAuthInfo(req.auth) : undefined;
  const controller = takeController();
  const run = forward.fastCall(deps, {
    name: call.name,
    args: call.args,
    principal,
    signal: controller.signal,
    ...(call.asks ? { asks: call.asks } : {}),
  });
  if (!run) {
    giveBack(controller);
    return undefined;
  }
  return serve(rt, req, res, call, run, controller, usual);
}

async function serve(
  rt: Runtime,
  req: IncomingMessage & { auth?: AuthInfo },
  res: ServerResponse,
  call: PlainCall,
  run: () => Promise<WireResult | typeof USUAL_PATH>,
  controller: AbortController,
  usual: () => Promise<void>,
): Promise<void> {
  const { id, name } = call;
  rt.requestStarted();
  const traced = startRequestSpan("tools/call", id, call.params, undefined, "tcp", VERSION);
  const recorded = {
    method: "tools/call",
    tool: rt.knowsTool(name) ? name : "unknown",
    start: performance.now(),
    span: traced.span,
    version: VERSION,
  };
  const untrack = rt.trackCall(controller);
  let finished = false;
  const onClose = () => {
    if (!finished)
      controller.abort(new ToolshedError("timeout", "the call was cancelled", { retryable: false }));
  };
  res.once("close", onClose);
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
    controller.abort(late);
  }, ms);
  let message: JSONRPCMessage | undefined;
  try {
    const key = req.auth?.extra?.principalKey;
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
    const result = await (traced.context ? runInContext(traced.context, run) : run());
    if (result !== USUAL_PATH) message = { jsonrpc: "2.0", id, result: answered(rt, result) };
  } catch (err) {
    message = errorAnswer(rt, id, name, err, late);
  } finally {
    clearTimeout(timer);
    untrack();
  }
  finished = true;
  res.off("close", onClose);
  giveBack(controller);
  if (message === undefined) {
    // Not answered here: the usual path answers (and records) it; this try is not a request.
    rt.requestFinished();
    endRequestSpan(traced.span);
    return res.destroyed ? undefined : usual();
  }
  recordRequest(rt, recorded, outcomeOf(message), message);
  if (res.destroyed) return;
  const text = JSON.stringify(message);
  // As the SDK's lane answers in-band errors: 400 for a missing client capability, 200 otherwise.
  const status = "error" in message && message.error.code === MISSING_CAPABILITY ? 400 : 200;
  res
    .writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
    .end(text);
}

/** The result as the SDK's lane sends it: this server's `serverInfo` in `_meta`, `resultType` complete. */
function answered(rt: Runtime, result: WireResult): WireResult {
  const def = rt.def;
  const info = { name: def.name, version: def.version, ...(def.title ? { title: def.title } : {}) };
  const meta = isPlainObject(result._meta) ? result._meta : {};
  return { ...result, _meta: { [SERVER_INFO]: info, ...meta }, resultType: "complete" };
}

/** A failure as the usual path answers it: a tool error result, or a JSON-RPC error for protocol errors. */
function errorAnswer(
  rt: Runtime,
  id: string | number,
  name: string,
  err: unknown,
  late: ToolshedError | undefined,
): JSONRPCMessage {
  if (err instanceof RpcError || (ProtocolError.isInstance(err) && err.code === MISSING_CAPABILITY)) {
    const e = err instanceof RpcError ? err : new RpcError(err.code, err.message, err.data);
    return readableError(
      {
        jsonrpc: "2.0",
        id,
        error: { code: e.code, message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) },
      },
      "tools/call",
    );
  }
  const error = late ?? toToolshedError(err);
  if (error.code === "internal") rt.logger.error({ err: error.cause ?? error, tool: name }, "tool failed");
  return { jsonrpc: "2.0", id, result: answered(rt, toToolResult(error)) };
}
