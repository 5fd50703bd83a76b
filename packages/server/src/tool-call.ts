import {
  CLIENT_CAPABILITIES_META_KEY,
  LOG_LEVEL_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  type CallToolResult,
  type InputRequiredResult,
  type McpServer,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { missingScopes } from "@toolshed/auth";
import { ToolshedError, toJsonRpcError, toToolResult, toToolshedError } from "@toolshed/errors";
import { createMcpLogBridge, type McpLogLevel, type ToolLogger } from "@toolshed/logging";
import {
  isReply,
  type AnyTool,
  type AskOptions,
  type Choice,
  type ChangeNotifier,
  type ClientRequests,
  type HandlerContext,
  type Principal,
  type TransportInfo,
  DEFAULT_MAX_MESSAGE_BYTES,
} from "./define.js";
import { AskRound, callIdentity } from "./ask.js";
import { RpcError } from "./rpc-error.js";
import type { Runtime } from "./runtime.js";
import { createTaskResult, TASKS_EXTENSION, type TaskExecution } from "./tasks/manager.js";
import type { TaskRecord, TaskRerun } from "./tasks/store.js";
import { announceTask, declaresTasks } from "./tasks/wire.js";
import { principalFromAuthInfo } from "./principal.js";
import { describeIssues, parseArguments } from "./tool-json.js";

export type Extra = ServerContext;

/** Per-connection state the kit keeps beside the SDK server. */
export interface ConnectionState {
  logLevel: McpLogLevel | undefined;
  subscriptions: Set<string>;
  /** A 2025 client of a --stateless server: no log notifications, no requests to the client. */
  stateless?: boolean;
  /** Why this connection's client cannot be asked mid-call (a 2025 client under --stateless or --json-response). */
  cannotAsk?: string | undefined;
  /** The transport handlers are told of; a task resumed on another replica has none (see ToolCall). */
  transport?: TransportInfo;
}

/**
 * What a task resumed on another replica is told: only HTTP replicas hand tasks over, and the
 * caller reads its result there later, so HTTP with the kit's default limit.
 */
const HANDED_OVER: TransportInfo = { kind: "http", maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES };

/**
 * One `tools/call`: validates, runs the handler under its deadline, validates and renders the
 * result, and maps every failure to an `isError` result. It is also the handler's context; the
 * expensive parts of that context (logger, AbortSignal, client requests) are made on first use, as
 * most calls never touch them.
 */
export class ToolCall implements HandlerContext {
  readonly config: unknown;
  deps: unknown;
  readonly principal: Principal | undefined;
  #log: ToolLogger | undefined;
  #call: AbortController | undefined;
  #untrack: (() => void) | undefined;
  #client: ClientRequests | undefined;
  #timedOut: ToolshedError | undefined;
  /** Set once the call has become a task: progress, questions and cancellation go through it. */
  #task: TaskExecution | undefined;
  /** The last progress report, the first statusMessage of a call that becomes a task. */
  #lastProgress: string | undefined;
  /** The arguments as sent, kept for a task's hand-over. */
  #args: Record<string, unknown> = {};

  constructor(
    private readonly rt: Runtime,
    private readonly tool: AnyTool,
    private readonly extra: Extra,
    private readonly mcp: McpServer,
    private readonly state: ConnectionState,
  ) {
    this.config = rt.config;
    this.principal = principalOf(extra);
  }

  get sessionId(): string | undefined {
    return this.extra.sessionId;
  }

  get requestId(): string | number {
    return this.extra.mcpReq.id;
  }

  get transport(): TransportInfo {
    return this.state.transport ?? HANDED_OVER;
  }

  get log(): ToolLogger {
    return (this.#log ??= toolLogger(this.rt, this.state, this.extra, this.tool.name));
  }

  /** Aborted on the client's cancel, the call's timeout or shutdown; made when first read. */
  get signal(): AbortSignal {
    if (!this.#call) {
      const call = (this.#call = new AbortController());
      this.#untrack = this.rt.trackCall(call);
      if (this.#timedOut) call.abort(this.#timedOut);
      // A task outlives its request: only tasks/cancel, its deadline or shutdown stop it.
      else if (this.#task) return call.signal;
      else if (this.extra.mcpReq.signal.aborted) this.#onCancel();
      else this.extra.mcpReq.signal.addEventListener("abort", this.#onCancel, { once: true });
    }
    return this.#call.signal;
  }

  get client(): ClientRequests {
    return (this.#client ??= clientRequests(this.mcp, this.extra));
  }

  /** The asking half of the context; set by run() before the handler starts. */
  #round!: AskRound;

  ask(...args: Parameters<AskRound["ask"]>): ReturnType<AskRound["ask"]> {
    return this.#round.ask(...(args as [never, string]));
  }

  askUrl(...args: Parameters<AskRound["askUrl"]>): ReturnType<AskRound["askUrl"]> {
    return this.#round.askUrl(...args);
  }

  sample(...args: Parameters<AskRound["sample"]>): ReturnType<AskRound["sample"]> {
    return this.#round.sample(...args);
  }

  listRoots(...args: Parameters<AskRound["listRoots"]>): ReturnType<AskRound["listRoots"]> {
    return this.#round.listRoots(...args);
  }

  askAll<T extends Record<string, Promise<unknown>>>(asks: T): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
    return this.#round.askAll(asks);
  }

  confirm(...args: Parameters<AskRound["confirm"]>): ReturnType<AskRound["confirm"]> {
    return this.#round.confirm(...args);
  }

  choose<T extends string>(message: string, choices: readonly T[], options?: AskOptions): Promise<Choice<T>> {
    return this.#round.choose(message, choices, options);
  }

  progress(progress: number, total?: number, message?: string): Promise<void> {
    this.#lastProgress = statusText(progress, total, message);
    if (this.#task) {
      this.#task.setStatusMessage(this.#lastProgress);
      return Promise.resolve();
    }
    return sendProgress(this.extra, progress, total, message);
  }

  get notify(): ChangeNotifier {
    return this.rt.notify;
  }

  notifyResourceUpdated(uri: string): void {
    this.rt.notify.resourceUpdated(uri);
  }

  showTools(names: readonly string[]): string[] {
    return this.rt.showTools(names);
  }

  #onCancel = () =>
    this.#call?.abort(new ToolshedError("timeout", "the call was cancelled", { retryable: false }));

  async run(args: Record<string, unknown>): Promise<CallToolResult | InputRequiredResult> {
    const { rt, tool } = this;
    this.#args = args;
    // A 2026-07-28 request (it has an envelope) from a client of the tasks extension may get a task.
    const envelope = this.extra.mcpReq.envelope as Record<string, unknown> | undefined;
    const tasking = tool.task !== undefined && envelope !== undefined && declaresTasks(envelope);
    if (tool.task === "required" && envelope !== undefined && !tasking) {
      throw new MissingRequiredClientCapabilityError(
        { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
        `tool '${tool.name}' runs only as a task: declare the '${TASKS_EXTENSION}' extension in this request's client capabilities, then poll tasks/get`,
      );
    }
    // A requestState that fails verification is a JSON-RPC error (-32602), not a tool result.
    this.#round = await AskRound.open({
      keys: rt.requestStateKeys,
      extra: this.extra,
      mcp: this.mcp,
      identity: callIdentity(this.principal?.id, `tools/call:${tool.name}`, args),
      cannotAsk: this.state.cannotAsk,
      confirm: rt.confirm,
      logger: rt.logger,
    });
    try {
      const principal = this.principal;
      const required = rt.toolScopes.get(tool.name) ?? [];
      if (principal && required.length) {
        const missing = missingScopes(principal, required);
        if (missing.length) {
          throw new ToolshedError("forbidden", `tool '${tool.name}' needs scope ${missing.join(", ")}`, {
            details: { missingScopes: missing },
          });
        }
      }
      const key = this.extra.http?.authInfo?.extra?.principalKey;
      if (rt.toolLimiter && typeof key === "string") {
        const taken = await rt.toolLimiter.take(`${key}|tool:${tool.name}`);
        if (!taken.allowed) {
          throw new ToolshedError(
            "rate_limited",
            `rate limit for tool '${tool.name}' reached; retry in ${Math.ceil(taken.retryAfterMs / 1000)}s`,
            { retryAfterMs: taken.retryAfterMs },
          );
        }
      }
      const input = parseArguments(tool.input, args, tool.name);
      this.deps = rt.openedDeps ?? (await rt.deps());
      let raw: unknown;
      try {
        raw = tool.handler(input, this);
        if (isPromiseLike(raw) && tasking) {
          // A call that finishes or asks within the grace period is answered directly (questions
          // on the call itself, input_required); one still working after it becomes a task.
          const early = await settledWithin(raw, rt.tasks.graceMs);
          if (early === undefined) return await this.#detach(raw);
          if (!early.ok) throw early.error;
          raw = early.value;
        }
        // Only an asynchronous result can be late; a synchronous one needs no timer.
        if (isPromiseLike(raw)) raw = await this.#withDeadline(raw, tool.timeoutMs ?? rt.defaultTimeoutMs);
      } finally {
        if (this.#call && !this.#task) {
          this.extra.mcpReq.signal.removeEventListener("abort", this.#onCancel);
          this.#untrack?.();
        }
      }
      // A question without an answer wins over whatever the handler made of it.
      if (this.#round.waiting) return await this.#round.inputRequired();
      return this.#render(raw);
    } catch (err) {
      // A 2026-07-28 client that did not declare a capability the call needs gets the revision's
      // protocol error (-32021, HTTP 400), not a tool result.
      if (ProtocolError.isInstance(err) && err instanceof MissingRequiredClientCapabilityError) throw err;
      if (this.#round.waiting && !(err instanceof ToolshedError && err.code === "timeout")) {
        return await this.#round.inputRequired();
      }
      return toToolResult(this.#logged(toToolshedError(err)));
    }
  }

  /** The handler's value as a CallToolResult, checked against the tool's output schema. */
  #render(raw: unknown): CallToolResult {
    const { rt, tool } = this;
    {
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
    }
  }

  /** Internal failures are logged in full on the server only; the client gets the hidden message. */
  #logged(error: ToolshedError): ToolshedError {
    if (error.code === "internal") {
      this.rt.logger.error(
        { err: error.cause ?? error, tool: this.tool.name, session: this.extra.sessionId },
        "tool failed",
      );
    }
    return error;
  }

  /**
   * Turns the running call into a task: stores it (the CreateTaskResult leaves only once any
   * replica can read it), cuts it loose from the request, and settles the task when the handler
   * ends. Questions from here on wait in the task's inputRequests; progress is its statusMessage.
   */
  async #detach(pending: PromiseLike<unknown>): Promise<CallToolResult> {
    const { rt, tool } = this;
    let execution: TaskExecution;
    try {
      execution = await rt.tasks.create(
        this.principal?.id ?? "",
        tool.name,
        (reason) => this.#call?.abort(reason),
        rerunnable(tool) && rt.tools.get(tool.name) === tool ? this.#rerun() : undefined,
      );
    } catch (err) {
      // No task to run it in: stop the handler, and tell the caller why.
      this.#onCancel();
      pending.then(undefined, () => {});
      throw err;
    }
    this.#task = execution;
    if (this.#lastProgress !== undefined) execution.setStatusMessage(this.#lastProgress);
    this.extra.mcpReq.signal.removeEventListener("abort", this.#onCancel);
    void this.signal; // a controller for tasks/cancel and shutdown to abort
    this.#round.deferTo(execution);
    rt.requestStarted();
    const ms = tool.timeoutMs ?? rt.tasks.ttlMs;
    void this.#withDeadline(pending, ms)
      .then(
        (raw) => this.#settleTask(execution, { ok: true, value: raw }),
        (error: unknown) => this.#settleTask(execution, { ok: false, error }),
      )
      .finally(() => {
        this.#untrack?.();
        rt.requestFinished();
      });
    announceTask(this.mcp, this.extra.mcpReq.id, createTaskResult(execution.record));
    // The SDK validates this placeholder as the tools/call result; the transport sends the
    // CreateTaskResult announced above in its place (tasks/wire.ts).
    return { content: [] };
  }

  /**
   * What another replica needs to run this call again: no credential, only who called and what.
   * Undefined (no hand-over) when that is too big to rewrite with every lease renewal.
   */
  #rerun(): TaskRerun | undefined {
    const auth = this.extra.http?.authInfo;
    const envelope = this.extra.mcpReq.envelope as Record<string, unknown> | undefined;
    const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as Record<string, unknown> | undefined;
    const answers = this.#round.answers;
    const rerun: TaskRerun = {
      args: this.#args,
      ...(auth
        ? {
            auth: {
              clientId: auth.clientId,
              scopes: [...auth.scopes],
              ...(auth.extra ? { extra: auth.extra } : {}),
            },
          }
        : {}),
      ...(capabilities ? { capabilities } : {}),
      ...(Object.keys(answers).length ? { answers } : {}),
    };
    if (Buffer.byteLength(JSON.stringify(rerun)) <= MAX_RERUN_BYTES) return rerun;
    this.rt.logger.info(
      { tool: this.tool.name, limitBytes: MAX_RERUN_BYTES },
      "a task's call is too big to keep for a hand-over; it fails if its server instance stops",
    );
    return undefined;
  }

  /**
   * Runs a handed-over task's call again on this replica (tasks/manager.ts), attached to the task
   * from the start: scopes are checked against the stored principal, the arguments are validated
   * again, and the outcome settles the task as the first run's would have. Returns what aborts it.
   */
  resume(execution: TaskExecution): (reason: Error) => void {
    this.#task = execution;
    void this.signal; // a controller for tasks/cancel, the deadline and shutdown to abort
    this.rt.requestStarted();
    void this.#resumed(execution).finally(() => {
      this.#untrack?.();
      this.rt.requestFinished();
    });
    return (reason) => this.#call?.abort(reason);
  }

  async #resumed(execution: TaskExecution): Promise<void> {
    const { rt, tool } = this;
    const args = execution.record.rerun?.args ?? {};
    let pending: Promise<unknown>;
    try {
      this.#round = await AskRound.open({
        keys: rt.requestStateKeys,
        extra: this.extra,
        mcp: this.mcp,
        identity: callIdentity(this.principal?.id, `tools/call:${tool.name}`, args),
        cannotAsk: undefined,
        confirm: rt.confirm,
        logger: rt.logger,
      });
      this.#round.deferTo(execution);
      const required = rt.toolScopes.get(tool.name) ?? [];
      const missing = this.principal && required.length ? missingScopes(this.principal, required) : [];
      if (missing.length) {
        throw new ToolshedError("forbidden", `tool '${tool.name}' needs scope ${missing.join(", ")}`, {
          details: { missingScopes: missing },
        });
      }
      const input = parseArguments(tool.input, args, tool.name);
      this.deps = rt.openedDeps ?? (await rt.deps());
      pending = Promise.resolve(tool.handler(input, this));
    } catch (error) {
      await this.#settleTask(execution, { ok: false, error });
      return;
    }
    await this.#withDeadline(pending, tool.timeoutMs ?? rt.tasks.ttlMs).then(
      (raw) => this.#settleTask(execution, { ok: true, value: raw }),
      (error: unknown) => this.#settleTask(execution, { ok: false, error }),
    );
  }

  /**
   * A task's outcome: `completed` with the tool result (tool errors included, as `isError`
   * results), or `failed` with a JSON-RPC error for protocol errors and server faults.
   */
  async #settleTask(execution: TaskExecution, outcome: Settled): Promise<void> {
    try {
      if (!outcome.ok) throw outcome.error;
      await execution.complete(this.#render(outcome.value));
    } catch (err) {
      if (err instanceof RpcError || ProtocolError.isInstance(err)) {
        const e = err as { code: number; message: string; data?: unknown };
        await execution.fail({
          code: e.code,
          message: e.message,
          ...(e.data === undefined ? {} : { data: e.data }),
        });
        return;
      }
      const error = this.#logged(toToolshedError(err));
      if (error.code === "internal") await execution.fail(toJsonRpcError(error));
      else await execution.complete(toToolResult(error));
    }
  }

  #withDeadline<T>(pending: PromiseLike<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return new Promise<T>((resolve, reject) => {
      pending.then(resolve, reject);
      timer = setTimeout(() => {
        this.#timedOut = new ToolshedError(
          "timeout",
          `tool '${this.tool.name}' did not finish within ${ms / 1000}s; narrow the request or retry`,
          { details: { timeoutMs: ms } },
        );
        this.#call?.abort(this.#timedOut);
        reject(this.#timedOut);
      }, ms);
    }).finally(() => clearTimeout(timer));
  }
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The most a task keeps for a hand-over (arguments and all): the record is rewritten at every lease
 * renewal, four times a second, so a call with megabytes of inline data is not kept (it fails as a
 * write tool's would if its replica stops).
 */
const MAX_RERUN_BYTES = 64 * 1024;

/** A tool that may run twice without harm: a task of it is handed over when its replica stops. */
export function rerunnable(tool: AnyTool): boolean {
  return tool.annotations.readOnlyHint === true || tool.annotations.idempotentHint === true;
}

/**
 * Runs a handed-over task's call again on this replica: a ToolCall of no connection, whose request
 * is rebuilt from what the task kept (arguments, principal without credential, client capabilities,
 * earlier answers). Its client is gone, so log notifications and progress go nowhere but the task.
 */
export function resumeTask(
  rt: Runtime,
  record: TaskRecord,
  execution: TaskExecution,
): (reason: Error) => void {
  const tool = rt.tools.get(record.tool);
  const rerun = record.rerun;
  if (!tool || !rerun || !rerunnable(tool)) {
    throw new Error(`tool '${record.tool}' is not one this instance can run again`);
  }
  const extra = {
    sessionId: undefined,
    mcpReq: {
      id: `handover-${record.handovers ?? 0}`,
      method: "tools/call",
      signal: new AbortController().signal,
      _meta: {},
      envelope: { [CLIENT_CAPABILITIES_META_KEY]: rerun.capabilities ?? {} },
      inputResponses: rerun.answers,
      requestState: () => undefined,
      notify: () => Promise.resolve(),
    },
    ...(rerun.auth ? { http: { authInfo: { token: "", ...rerun.auth } } } : {}),
  } as unknown as Extra;
  // The McpServer is only read for a 2025 request (no envelope), and those never become tasks.
  const call = new ToolCall(rt, tool, extra, undefined as unknown as McpServer, {
    logLevel: undefined,
    subscriptions: new Set(),
  });
  return call.resume(execution);
}

/** How the handler settled within `ms`, or undefined when it is still working. */
function settledWithin(pending: PromiseLike<unknown>, ms: number): Promise<Settled | undefined> {
  return new Promise((resolve) => {
    const later = setTimeout(() => resolve(undefined), ms);
    pending.then(
      (value) => {
        clearTimeout(later);
        resolve({ ok: true, value });
      },
      (error: unknown) => {
        clearTimeout(later);
        resolve({ ok: false, error });
      },
    );
  });
}

/** A progress report as a task's statusMessage. */
function statusText(progress: number, total: number | undefined, message: string | undefined): string {
  const count = total === undefined ? `${progress}` : `${progress}/${total}`;
  return message ? `${message} (${count})` : `progress ${count}`;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * The logger a handler gets: the server log, bridged to the client at the level it asked for — with
 * logging/setLevel on a 2025 connection, or per request in the 2026-07-28 `_meta` envelope, where a
 * request that names no level gets no log notifications.
 */
export function toolLogger(rt: Runtime, state: ConnectionState, extra: Extra, name: string): ToolLogger {
  const child = rt.logger.child({ tool: name, session: extra.sessionId, rpc_id: extra.mcpReq.id });
  const envelope = extra.mcpReq.envelope;
  const requested = (envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY] as
    McpLogLevel | undefined;
  const silent = state.stateless === true || (envelope !== undefined && requested === undefined);
  return createMcpLogBridge(
    child,
    {
      level: () => (envelope ? requested : state.logLevel),
      send: (params) => {
        if (silent) return;
        sendLog(extra, params);
      },
    },
    name,
  );
}

/**
 * The least severe level this request's client takes log messages at, as toolLogger decides it:
 * the 2026-07-28 request's `_meta` level, or the 2025 session's logging/setLevel (`warning` when it
 * set none); undefined when it takes none (a 2026-07-28 request naming no level, a stateless 2025 client).
 */
export function requestedLogLevel(state: ConnectionState, extra: Extra): McpLogLevel | undefined {
  if (state.stateless === true) return undefined;
  const envelope = extra.mcpReq.envelope as Record<string, unknown> | undefined;
  if (envelope) return envelope[LOG_LEVEL_META_KEY] as McpLogLevel | undefined;
  return state.logLevel ?? "warning";
}

/** Sends one `notifications/message` on this request's stream; a failure to send is dropped. */
export function sendLog(extra: Extra, params: { level: McpLogLevel; logger?: string; data: unknown }): void {
  extra.mcpReq.notify({ method: "notifications/message", params }).catch(() => {});
}

/** Sends `notifications/progress` for a request whose client asked for it (a progressToken); else nothing. */
export function sendProgress(
  extra: Extra,
  progress: number,
  total?: number,
  message?: string,
): Promise<void> {
  const token = extra.mcpReq._meta?.progressToken;
  if (token === undefined) return Promise.resolve();
  return extra.mcpReq
    .notify({
      method: "notifications/progress",
      params: {
        progressToken: token,
        progress,
        ...(total === undefined ? {} : { total }),
        ...(message === undefined ? {} : { message }),
      },
    })
    .catch(() => {});
}

/** What the client declared: this request's `_meta` (2026-07-28), or its initialize (2025). */
export function clientRequests(mcp: McpServer, extra: Extra): ClientRequests {
  const envelope = extra.mcpReq.envelope as Record<string, unknown> | undefined;
  return {
    get capabilities() {
      return ((envelope ? envelope[CLIENT_CAPABILITIES_META_KEY] : mcp.server.getClientCapabilities()) ??
        {}) as Record<string, unknown>;
    },
  };
}

export function principalOf(extra: Extra): Principal | undefined {
  const auth = extra.http?.authInfo;
  return auth ? principalFromAuthInfo(auth) : undefined;
}
