import { AsyncLocalStorage } from "node:async_hooks";
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  Client,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  StreamableHTTPClientTransport,
  UriTemplate,
  type CallToolResult,
  type ClientOptions,
  type CompleteRequest,
  type CompleteResult,
  type GetPromptResult,
  type LoggingLevel,
  type McpSubscription,
  type PriorDiscovery,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplateType as ResourceTemplate,
  type Tool,
  type Transport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { ToolshedError } from "@toolshed/errors";
import { MCP_LOG_LEVELS, type Logger, type McpLogLevel } from "@toolshed/logging";
import { PostTimeout, createKeepAliveFetch, type KeepAliveFetch } from "./node-fetch.js";

export type UpstreamState = "starting" | "ready" | "down" | "closed";

/** Where the server is: a Streamable HTTP endpoint, or a command spawned and spoken to over stdio. */
export type UpstreamTarget =
  | { url: string; headers?: Record<string, string> }
  | { command: string; args?: string[]; env?: Record<string, string>; cwd?: string };

/** `auto`: probe with server/discover and fall back to initialize; or pin one era. */
export type ProtocolChoice = "auto" | "2025" | "2026-07-28";

export interface UpstreamClientOptions {
  logger: Logger;
  /**
   * The target, resolved on every (re)connect, so credentials are read then and never kept in a
   * field; a throw (e.g. a missing secret) marks the upstream down with its message.
   */
  target: () => UpstreamTarget;
  protocol?: ProtocolChoice;
  /** Per request, and for the connect handshake; 60 s and 20 s unless set. */
  timeoutMs?: number;
  /** The environment a stdio child inherits the basics of (PATH, HOME, …); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Called whenever the state or the lists change. */
  onChange?: () => void;
  /** Called when the upstream reports a followed resource updated (its own URI); see `follow`. */
  onResourceUpdated?: (uri: string) => void;
  /** The name this client gives itself to the server. */
  clientInfo?: { name: string; version: string };
  /** How dropped listen streams are opened again; about half a minute of tries unless set. */
  relisten?: Partial<RelistenPolicy>;
}

export interface ForwardOptions {
  signal: AbortSignal;
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

/** A question an upstream asks during a call: an embedded request of the 2026-07-28 revision. */
export interface InputRequest {
  method: string;
  params?: Record<string, unknown>;
}

/**
 * Who answers an upstream's questions during one request (tools/call, resources/read, prompts/get;
 * a gateway: its own caller). The answer
 * is the request's result: an ElicitResult, a CreateMessageResult or a ListRootsResult.
 */
export interface Relay {
  /** The client capabilities the answerer has (elicitation, sampling, roots), declared upstream. */
  capabilities: Record<string, unknown>;
  /** Answers one question; `key` is stable across reruns of the same call. */
  answer(key: string, request: InputRequest): Promise<unknown>;
}

/** One `notifications/message` from the upstream, as it sent it. */
export interface LogMessage {
  level: LoggingLevel;
  logger?: string;
  data: unknown;
}

/**
 * Who gets the upstream's log messages during one request (a gateway: its own caller), and from
 * which level up. 2026-07-28: the level goes in the request's `_meta`; 2025: the session's level is
 * lowered with logging/setLevel when a call wants more than it sends (never raised again: other
 * calls are filtered here). Messages are matched to the call by async context (its HTTP response
 * stream), else given to it only when it is the one request in flight (stdio); others are dropped.
 */
export interface LogRelay {
  level: LoggingLevel;
  send(message: LogMessage): void;
}

/** The tasks extension's identifier (2026-07-28), in capabilities and request `_meta`. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";
/** The tasks extension's status notification, sent on a listen stream that names the task. */
const TASK_STATUS_METHOD = "notifications/tasks";

/**
 * An upstream's answer to a tools/call that it runs as a task (a CreateTaskResult): poll it with
 * `taskRequest("tasks/get", …)` under `taskId`.
 */
export interface UpstreamTask {
  resultType: "task";
  taskId: string;
  status: string;
  [key: string]: unknown;
}

/** The task methods an upstream of the tasks extension answers. */
export type TaskMethod = "tasks/get" | "tasks/update" | "tasks/cancel";

export interface CallOptions extends ForwardOptions {
  /** Relays the upstream's log messages during the call; without it none is asked for or passed on. */
  log?: LogRelay;
  /**
   * Relays the upstream's questions: `input_required` results (2026-07-28; retried with the answers
   * and the upstream's requestState) and elicitation/sampling/roots requests (2025). Without it the
   * upstream is told the caller can answer nothing, and refuses or fails as it does for such clients.
   */
  relay?: Relay;
  /**
   * Lets the upstream run the call as a task: the request declares the tasks extension (only to a
   * 2026-07-28 upstream that declares it; see `runsTasks`). Only `callToolOrTask` sets it.
   */
  task?: boolean;
}

/** What the gateway's connection declares to a 2025 upstream: it relays all three. */
const RELAYED_CAPABILITIES = { elicitation: { form: {}, url: {} }, sampling: {}, roots: {} };
const RELAYED_METHODS = ["elicitation/create", "sampling/createMessage", "roots/list"] as const;
/** A level's rank in RFC 5424 order, least severe first, as MCP logging uses them. */
const severity = (level: string): number => MCP_LOG_LEVELS.indexOf(level as McpLogLevel);

/** One call that takes the upstream's log messages. */
interface LogScope {
  relay: LogRelay;
  open: boolean;
}

/** A resource followed on one connection: what ends it there. */
interface Following {
  client: Client;
  end(): Promise<unknown>;
}

/**
 * How a listen stream the upstream dropped is opened again: waits doubling from `minMs` to `maxMs`
 * (each 50-100% of its step), at most `attempts` tries in a row before it is given up.
 */
export interface RelistenPolicy {
  minMs: number;
  maxMs: number;
  attempts: number;
}

/** About half a minute of tries: an upstream restarting or redeploying is back well within it. */
const RELISTEN: RelistenPolicy = { minMs: 250, maxMs: 5_000, attempts: 10 };

/** A task in one of these is done: its stream is not reopened. */
const FINAL_TASK_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

/** Rounds of questions one call may take before it is given up. */
const MAX_ROUNDS = 10;

/** One call that relays: the questions of a 2025 upstream find it here. */
interface RelayScope {
  relay: Relay;
  asked: number;
  fail(error: unknown): void;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;
/** How often a ready upstream is re-listed (health and fresh lists). */
const HEALTH_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * One upstream MCP server: a real SDK v2 client over Streamable HTTP or a supervised stdio child,
 * its lists cached, its era verdict (discover result or legacy) reused on every reconnect, its
 * failures turned into ToolshedErrors naming it, and its credential resolved at connect time and
 * kept out of every message and log line.
 */
export class UpstreamClient {
  readonly name: string;
  state: UpstreamState = "starting";
  /** Why the upstream is down (safe to show: no credential, no header). */
  reason = "not connected yet";
  tools: Tool[] = [];
  resources: Resource[] = [];
  templates: ResourceTemplate[] = [];
  prompts: Prompt[] = [];
  /** Times the stdio child was restarted after it died. */
  restarts = 0;
  /** Bumped whenever the lists change, so a catalogue can rebuild its index. */
  version = 0;
  #client: Client | undefined;
  #prior: PriorDiscovery | undefined;
  #backoff = MIN_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #inflight = 0;
  #idle: (() => void)[] = [];
  #connecting: Promise<void> | undefined;
  #firstAttempt: Promise<void>;
  #settleFirst!: () => void;
  #stdio = false;
  /** HTTP upstreams: the keep-alive fetch every connection to it uses (its sockets outlive reconnects). */
  #http: KeepAliveFetch | undefined;
  /** HTTP upstreams: where the current connection posts, with its headers (for callToolDirect). */
  #direct: { url: URL; headers: Record<string, string> } | undefined;
  #directIds = 0;
  /** The listed tools callToolDirect may call, as of lists `version`. */
  #plainTools: { version: number; names: Set<string> } | undefined;
  readonly #scopes = new AsyncLocalStorage<RelayScope>();
  readonly #relaying = new Set<RelayScope>();
  readonly #logScopes = new AsyncLocalStorage<LogScope>();
  readonly #logging = new Set<LogScope>();
  /** Resources to follow (their own URIs), kept across reconnects; see `follow`. */
  readonly #wanted = new Set<string>();
  /** The wanted resources the current connection follows. */
  readonly #following = new Map<string, Following>();
  /**
   * Wanted resources whose following lapsed (the connection lost, or the listen stream dropped):
   * updates sent meanwhile are not replayed, so when following resumes the followers are told the
   * resource may have changed (one `onResourceUpdated`), to read it again.
   */
  readonly #lapsed = new Set<string>();
  /** Who follows each task (its own id), see `followTask`. */
  readonly #taskFollowers = new Map<string, Set<(task: Record<string, unknown>) => void>>();
  /** Whether the upstream declared `resources.subscribe`, as of its last connection. */
  #subscribable = false;
  /** The level set with logging/setLevel on the current 2025 session (undefined: none set yet). */
  #sessionLogLevel: LoggingLevel | undefined;
  protected readonly log: Logger;
  readonly #options: UpstreamClientOptions;

  constructor(name: string, options: UpstreamClientOptions) {
    this.name = name;
    this.#options = options;
    this.log = options.logger.child({ upstream: name });
    this.#firstAttempt = new Promise((resolve) => (this.#settleFirst = resolve));
  }

  /** Starts connecting (in the background); resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    void this.#connect();
    return this.#firstAttempt;
  }

  /** The era the connection speaks ('modern' = 2026-07-28, 'legacy' = 2025), once connected. */
  get era(): string | undefined {
    return this.#client?.getProtocolEra();
  }

  /** The discover result (2026-07-28 upstreams) or legacy verdict reused on reconnects. */
  get prior(): PriorDiscovery | undefined {
    return this.#prior;
  }

  /** The stdio child's pid while it runs. */
  get pid(): number | undefined {
    const transport = this.#client?.transport;
    return transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  }

  get inflight(): number {
    return this.#inflight;
  }

  get #timeoutMs(): number {
    return this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async callTool(name: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult> {
    // The plain request, not callTool: the result goes to the caller as it came (a gateway's client
    // checks it against the schema it was shown), so no second output-schema validation here.
    return (await this.#relayed("tools/call", { name, arguments: args }, options)) as CallToolResult;
  }

  /**
   * tools/call that the upstream may answer with a task (an UpstreamTask) when it runs tasks
   * (`runsTasks`); otherwise, or when it answers at once, the CallToolResult as callTool gives it.
   */
  async callToolOrTask(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions,
  ): Promise<CallToolResult | UpstreamTask> {
    const task = options.task === true && this.runsTasks;
    const result = await this.#relayed("tools/call", { name, arguments: args }, { ...options, task });
    const created = (result._meta as Record<string, unknown> | undefined)?.[CREATED_TASK];
    return created ? ({ ...created, resultType: "task" } as UpstreamTask) : (result as CallToolResult);
  }

  /**
   * Whether `callToolDirect` can call tool `name` now: a ready 2026-07-28 upstream over HTTP, a
   * tool it lists, with a plain name and no `x-mcp-header` arguments (which the SDK's client would
   * mirror into headers).
   */
  directCallable(name: string): boolean {
    if (this.state !== "ready" || this.#stdio || !this.#direct || !this.#http) return false;
    if (this.#client?.getProtocolEra() !== "modern" || !PLAIN_NAME.test(name)) return false;
    if (this.#plainTools?.version !== this.version) {
      const names = new Set<string>();
      for (const tool of this.tools) {
        if (!JSON.stringify(tool.inputSchema ?? {}).includes(X_MCP_HEADER)) names.add(tool.name);
      }
      this.#plainTools = { version: this.version, names };
    }
    return this.#plainTools.names.has(name);
  }

  /**
   * tools/call as one JSON-RPC POST on the connection's keep-alive sockets, without the SDK's client
   * (its request objects and result schemas): the envelope the SDK sends (this client's info, and as
   * capabilities only `asks`, so the upstream runs no task and asks nothing unless the caller could
   * answer), and the result checked shallowly (an object whose `content` is an array of typed
   * blocks) instead of against the full schema. Undefined when, given `asks`, the upstream asked
   * something (`input_required`): the call is to be made again where questions are relayed (the
   * 2026-07-28 revision has the client retry such a request anyway). Errors, timeouts and
   * cancellation end as `callTool`'s do. Only when `directCallable(name)`.
   */
  async callToolDirect(
    name: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; asks?: Record<string, unknown> | undefined },
  ): Promise<CallToolResult | undefined> {
    const direct = this.#direct;
    const http = this.#http;
    // What #forward does, in one async function (no closure and no second promise per call).
    if (!direct || !http || this.state !== "ready" || !this.#client) throw this.unavailable();
    this.#inflight++;
    try {
      const id = ++this.#directIds;
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: {
          name,
          arguments: args,
          _meta: {
            [PROTOCOL_VERSION_META_KEY]: MODERN,
            [CLIENT_INFO_META_KEY]: this.#options.clientInfo ?? DEFAULT_CLIENT_INFO,
            [CLIENT_CAPABILITIES_META_KEY]: options.asks ?? {},
          },
        },
      });
      const answer = await http.post(direct.url, direct.headers, body, options.signal, this.#timeoutMs, {
        "mcp-name": name,
      });
      const type = answer.contentType;
      const message = type.startsWith("text/event-stream")
        ? lastAnswer(answer.text, id)
        : type.includes("json")
          ? (parseJson(answer.text) as JsonRpcAnswer | undefined)
          : undefined;
      if (message?.id === id && message.error) {
        const { code, message: said, data } = message.error;
        throw new ProtocolError(code, String(said), data);
      }
      if (answer.status !== 200 || message?.id !== id || message.result === undefined) {
        throw new Error(`HTTP ${answer.status} from the upstream without a tools/call answer`);
      }
      const r = message.result;
      const asked =
        typeof r === "object" && r !== null && "resultType" in r && r.resultType === "input_required";
      if (asked && options.asks) return undefined;
      return withoutServerInfo(toolResult(this.name, message.result));
    } catch (err) {
      const late =
        err instanceof PostTimeout
          ? new ToolshedError("timeout", `upstream '${this.name}' did not answer in time`, {
              retryable: true,
            })
          : err;
      throw this.#failed(options.signal, late);
    } finally {
      this.#settled();
    }
  }

  /** Whether the connected upstream speaks 2026-07-28 and declares the tasks extension. */
  get runsTasks(): boolean {
    const client = this.#client;
    if (this.state !== "ready" || client?.getProtocolEra() !== "modern") return false;
    const extensions = (
      client.getServerCapabilities() as { extensions?: Record<string, unknown> } | undefined
    )?.extensions;
    return extensions?.[TASKS_EXTENSION] !== undefined;
  }

  /**
   * tasks/get, tasks/update or tasks/cancel of a task this upstream created, under its own id; the
   * result as the upstream sent it (without `resultType`). An upstream that does not run tasks
   * (any more) is an `upstream_error` naming it.
   */
  async taskRequest(
    method: TaskMethod,
    params: { taskId: string; inputResponses?: Record<string, unknown> },
    options: ForwardOptions,
  ): Promise<Record<string, unknown>> {
    if (this.state === "ready" && !this.runsTasks) {
      throw new ToolshedError(
        "upstream_error",
        `upstream '${this.name}' no longer runs tasks (it does not declare '${TASKS_EXTENSION}'); call the tool again`,
      );
    }
    const request = {
      method,
      params: {
        ...params,
        _meta: { [CLIENT_CAPABILITIES_META_KEY]: { extensions: { [TASKS_EXTENSION]: {} } } },
      },
    };
    return this.#forward(options.signal, (client) =>
      client.request(request as never, ANY_RESULT, this.#requestOptions(options)),
    ) as Promise<Record<string, unknown>>;
  }

  /**
   * Follows task `taskId` (its own id) of a 2026-07-28 upstream that runs tasks: a
   * `subscriptions/listen` naming it, declaring the tasks extension; `onTask` gets each of the
   * upstream's `notifications/tasks` (the task as tasks/get returns it, its current state first).
   * Resolves once the upstream acknowledged, with what ends it; undefined when the upstream does
   * not run tasks or did not honor the id (unknown to it).
   *
   * A stream the upstream drops before the task finished (it restarted, the connection was lost)
   * is opened again, on whichever connection is up then, with backoff and jitter (see
   * `RelistenPolicy`); once reopened, one tasks/get gives the state it may have missed. When it
   * cannot be reopened within the policy's tries, or the upstream no longer knows the task,
   * following ends: `onTask` gets the task's state from one last tasks/get when the upstream
   * answers it, and nothing more (tasks/get still answers the caller); `onStop` is then called
   * unless that state was the terminal one.
   */
  async followTask(
    taskId: string,
    onTask: (task: Record<string, unknown>) => void,
    options: { signal?: AbortSignal; onStop?: () => void } = {},
  ): Promise<(() => Promise<void>) | undefined> {
    const client = this.#client;
    if (!client || !this.runsTasks) return undefined;
    let ended = false;
    let finished = false;
    const deliver = (task: Record<string, unknown>) => {
      if (ended) return;
      if (FINAL_TASK_STATUSES.has(String(task.status))) finished = true;
      onTask(task);
    };
    const followers = this.#taskFollowers.get(taskId) ?? new Set();
    this.#taskFollowers.set(taskId, followers);
    followers.add(deliver);
    const unfollow = () => {
      followers.delete(deliver);
      if (followers.size === 0 && this.#taskFollowers.get(taskId) === followers)
        this.#taskFollowers.delete(taskId);
    };
    let subscription: McpSubscription | undefined;
    try {
      subscription = await this.#listenToTask(client, taskId, options.signal);
    } catch (err) {
      this.log.debug({ err: scrub(err as Error) }, "upstream refused subscriptions/listen for a task");
    }
    if (!subscription) {
      unfollow();
      return undefined;
    }
    /** Following stopped here: the upstream forgot the task, or its stream could not be reopened. */
    let stopped = false;
    const still = () => !ended && !finished && !stopped && options.signal?.aborted !== true;
    /** One tasks/get, its answer to the followers; false when the upstream no longer knows the task. */
    const catchUp = async (): Promise<boolean> => {
      try {
        const { _meta: _dropped, ...task } = await this.taskRequest(
          "tasks/get",
          { taskId },
          { signal: AbortSignal.timeout(this.#timeoutMs) },
        );
        deliver(task);
        return true;
      } catch (err) {
        return !(err instanceof ToolshedError && err.code === "invalid_input");
      }
    };
    const keep = (current: McpSubscription) => {
      subscription = current;
      void current.closed.then(async (how) => {
        if (!still()) return;
        this.log.info(
          { how, task: taskId },
          `upstream '${this.name}' dropped a task's listen stream; reopening it`,
        );
        const outcome = await this.#reopen(still, (c) => this.#listenToTask(c, taskId, options.signal));
        if (outcome === "stopped") return;
        if (outcome !== "refused" && outcome !== "gave up") {
          if (!still()) {
            void outcome.opened.close();
            return;
          }
          keep(outcome.opened);
          // What it missed while the stream was down, and whether the upstream still knows it.
          if (await catchUp()) return;
          stopped = true;
          void outcome.opened.close();
        }
        stopped = true;
        this.log.warn(
          { task: taskId, outcome },
          `stopped following a task of upstream '${this.name}': its listen stream could not be reopened; tasks/get still answers`,
        );
        if (outcome === "gave up") await catchUp();
        unfollow();
        if (!finished && !ended) options.onStop?.();
      });
    };
    keep(subscription);
    return async () => {
      ended = true;
      unfollow();
      await subscription?.close();
    };
  }

  /**
   * One `subscriptions/listen` naming task `taskId` on `client`: the stream once acknowledged, or
   * undefined when the upstream left the id out (when its acknowledgement says so).
   */
  async #listenToTask(
    client: Client,
    taskId: string,
    signal: AbortSignal | undefined,
  ): Promise<McpSubscription | undefined> {
    // The SDK's listen() sends the connection's own capabilities, which leave the extension out (a
    // call declares it only when the upstream may run it as a task): declared for this one request.
    // listen() builds its request synchronously, before its first await.
    const sdk = client as unknown as { _capabilities: Record<string, unknown> };
    const own = sdk._capabilities;
    const extensions = (own.extensions ?? {}) as Record<string, unknown>;
    sdk._capabilities = { ...own, extensions: { ...extensions, [TASKS_EXTENSION]: {} } };
    let listening: ReturnType<Client["listen"]>;
    try {
      listening = client.listen({ taskIds: [taskId] } as never, {
        timeout: this.#timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } finally {
      sdk._capabilities = own;
    }
    const subscription = await listening;
    const honored = (subscription.honoredFilter as { taskIds?: unknown }).taskIds;
    if (Array.isArray(honored) && !honored.includes(taskId)) {
      await subscription.close();
      return undefined;
    }
    return subscription;
  }

  /**
   * One request that may ask questions (tools/call, resources/read, prompts/get), relayed through
   * `options.relay`. 2026-07-28: the request declares what the relay can answer (nothing without
   * one), and an input_required result comes back here to be answered through the relay and retried.
   */
  async #relayed(
    method: "tools/call" | "resources/read" | "prompts/get",
    params: Record<string, unknown>,
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    const log = options.log;
    if (!log) return this.#relayedRounds(method, params, options);
    const scope: LogScope = { relay: log, open: true };
    this.#logging.add(scope);
    try {
      return await this.#logScopes.run(scope, () => this.#relayedRounds(method, params, options));
    } finally {
      scope.open = false;
      this.#logging.delete(scope);
    }
  }

  async #relayedRounds(
    method: "tools/call" | "resources/read" | "prompts/get",
    params: Record<string, unknown>,
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    if (this.#client?.getProtocolEra() === "legacy") {
      if (options.log) await this.#lowerSessionLogLevel(options.log.level);
      return this.#requestLegacy(method, params, options);
    }
    const base = {
      ...params,
      _meta: {
        [CLIENT_CAPABILITIES_META_KEY]: {
          ...(options.relay?.capabilities ?? {}),
          ...(options.task ? { extensions: { [TASKS_EXTENSION]: {} } } : {}),
        },
        ...(options.log ? { [LOG_LEVEL_META_KEY]: options.log.level } : {}),
      },
    };
    return this.#forward(options.signal, async (client) => {
      let sent: Record<string, unknown> = base;
      for (let round = 0; ; round++) {
        // ANY_RESULT: the SDK has checked the result against the method's wire schema as it decoded
        // it; its default second check (the same schema, once more) only cost a zod parse per call.
        const result = (await client.request({ method, params: sent } as never, ANY_RESULT, {
          ...this.#requestOptions(options),
          allowInputRequired: true,
        })) as Record<string, unknown> | InputRequired;
        if (!isInputRequired(result)) return result;
        if (!options.relay) {
          throw new ToolshedError(
            "upstream_error",
            `upstream '${this.name}' asked a question this caller cannot answer (it declared no elicitation, sampling or roots)`,
          );
        }
        if (round + 1 >= MAX_ROUNDS) {
          throw new ToolshedError(
            "upstream_error",
            `upstream '${this.name}' still asked questions after ${MAX_ROUNDS} rounds; nothing more was relayed`,
          );
        }
        const relay = options.relay;
        const entries = Object.entries(result.inputRequests ?? {});
        // Every question of the round at once: a relay that must ask its own caller collects them all.
        const answers = await Promise.allSettled(
          entries.map(([key, request]) => relay.answer(key, request as InputRequest)),
        );
        const failed = answers.find((a): a is PromiseRejectedResult => a.status === "rejected");
        if (failed) throw new RelayFailed(failed.reason);
        const inputResponses = Object.fromEntries(
          entries.map(([key], i) => [key, (answers[i] as PromiseFulfilledResult<unknown>).value]),
        );
        sent = {
          ...base,
          ...(entries.length ? { inputResponses } : {}),
          ...(result.requestState !== undefined ? { requestState: result.requestState } : {}),
        };
      }
    });
  }

  /**
   * 2025: the upstream asks with requests of its own during the call; they reach this call's relay
   * (by async context over HTTP, or as the only relaying call in flight). A relay that cannot answer
   * yet (its own caller must be asked first) ends the call with its error; the caller reruns it.
   */
  async #requestLegacy(
    method: "tools/call" | "resources/read" | "prompts/get",
    params: Record<string, unknown>,
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    const run = (signal: AbortSignal) =>
      this.#forward(
        signal,
        (client) =>
          client.request(
            { method, params } as never,
            this.#requestOptions({ ...options, signal }),
          ) as Promise<Record<string, unknown>>,
      );
    if (!options.relay) return run(options.signal);
    const stop = new AbortController();
    const onAbort = () => stop.abort(options.signal.reason);
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener("abort", onAbort, { once: true });
    let relayError: { error: unknown } | undefined;
    const scope: RelayScope = {
      relay: options.relay,
      asked: 0,
      fail: (error) => {
        relayError ??= { error };
        stop.abort(error);
      },
    };
    this.#relaying.add(scope);
    try {
      return await this.#scopes.run(scope, () => run(stop.signal));
    } catch (err) {
      if (relayError) throw relayError.error;
      throw err;
    } finally {
      this.#relaying.delete(scope);
      options.signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * 2025: asks the session for log messages from `level` up when it sends fewer (one setLevel per
   * lowering; an upstream without the logging capability is not asked). A refusal is logged, not fatal.
   */
  async #lowerSessionLogLevel(level: LoggingLevel): Promise<void> {
    const client = this.#client;
    if (!client?.getServerCapabilities()?.logging) return;
    const current = this.#sessionLogLevel;
    if (current !== undefined && severity(current) <= severity(level)) return;
    try {
      await client.setLoggingLevel(level, { timeout: this.#timeoutMs });
      if (this.#client === client) this.#sessionLogLevel = level;
    } catch (err) {
      this.log.debug({ err: scrub(err as Error), level }, "upstream refused logging/setLevel");
    }
  }

  /**
   * An upstream `notifications/message`: to the call it belongs to (its async context: the call's
   * HTTP response stream), else to the only request in flight when that one takes logs; else dropped,
   * never guessed, so one caller's logs cannot reach another.
   */
  #onLog(params: { level: LoggingLevel; logger?: string; data?: unknown }): void {
    const only = this.#inflight === 1 && this.#logging.size === 1 ? [...this.#logging][0] : undefined;
    const scope = this.#logScopes.getStore() ?? only;
    if (!scope?.open) return;
    if (severity(params.level) < severity(scope.relay.level)) return;
    scope.relay.send({
      level: params.level,
      ...(params.logger !== undefined ? { logger: params.logger } : {}),
      data: params.data,
    });
  }

  /** A 2025 upstream's elicitation/sampling/roots request, answered by the call it belongs to. */
  async #answerLegacy(method: string, params: Record<string, unknown> | undefined): Promise<unknown> {
    const scope = this.#scopes.getStore() ?? (this.#relaying.size === 1 ? [...this.#relaying][0] : undefined);
    if (!scope) {
      throw new ProtocolError(
        -32603,
        this.#relaying.size === 0
          ? `no call in flight can answer '${method}'`
          : `'${method}' cannot be matched to one of the calls in flight; it was not relayed`,
      );
    }
    const capability = method.split("/")[0]!;
    if (scope.relay.capabilities[capability] === undefined) {
      // The caller cannot answer: the upstream gets an error for its question and its tool answers
      // as it does for such a client (its refusal reaches the caller as it wrote it).
      throw new ProtocolError(
        -32603,
        `the caller cannot answer '${method}' (it did not declare the '${capability}' capability)`,
      );
    }
    scope.asked += 1;
    const { _meta: _ignored, ...rest } = params ?? {};
    try {
      return await scope.relay.answer(`q${scope.asked}`, { method, params: rest });
    } catch (err) {
      scope.fail(err);
      throw new ProtocolError(
        -32603,
        `the question was not answered (${firstLine(String((err as Error)?.message ?? err))})`,
      );
    }
  }

  /** resources/read; with `options.relay`, the upstream's questions are relayed as for callTool. */
  async readResource(uri: string, options: CallOptions): Promise<ReadResourceResult> {
    return (await this.#relayed("resources/read", { uri }, options)) as ReadResourceResult;
  }

  /** prompts/get; with `options.relay`, the upstream's questions are relayed as for callTool. */
  async getPrompt(
    name: string,
    args: Record<string, string>,
    options: CallOptions,
  ): Promise<GetPromptResult> {
    return (await this.#relayed("prompts/get", { name, arguments: args }, options)) as GetPromptResult;
  }

  /** Whether the connected upstream declares the `completions` capability (false while it is not up). */
  get completes(): boolean {
    return this.state === "ready" && this.#client?.getServerCapabilities()?.completions !== undefined;
  }

  /** completion/complete, sent as given (the upstream's own prompt name or template URI in `ref`). */
  async complete(params: CompleteRequest["params"], options: ForwardOptions): Promise<CompleteResult> {
    return this.#forward(options.signal, (client) => client.complete(params, this.#requestOptions(options)));
  }

  /** Whether `uri` (its own) is one of its resources or matches one of its templates, as last listed. */
  lists(uri: string): boolean {
    if (this.resources.some((r) => r.uri === uri)) return true;
    return this.templates.some((t) => {
      try {
        return new UriTemplate(t.uriTemplate).match(uri) !== null;
      } catch {
        return false; // a template the SDK cannot parse matches nothing
      }
    });
  }

  /** Whether the upstream supports resource subscriptions (as of its last connection). */
  get subscribable(): boolean {
    return this.#subscribable;
  }

  /**
   * Follows the upstream's resource `uri` (its own URI) until `unfollow`: `resources/subscribe` on a
   * 2025 session, a `subscriptions/listen` stream naming it on 2026-07-28; made again after every
   * reconnect. Updates go to `onResourceUpdated`, and one more when following resumes after a lapse
   * (a reconnect, a dropped listen stream reopened): the upstream does not replay what it sent
   * meanwhile, so followers should read the resource again. Not reference-counted: one follow, one
   * unfollow.
   */
  follow(uri: string): void {
    if (this.#wanted.has(uri)) return;
    this.#wanted.add(uri);
    const client = this.#client;
    if (client && this.state === "ready") void this.#startFollowing(client, uri);
  }

  /** Stops following `uri` (unsubscribes, or closes its listen stream). */
  unfollow(uri: string): void {
    this.#wanted.delete(uri);
    this.#lapsed.delete(uri);
    const following = this.#following.get(uri);
    this.#following.delete(uri);
    if (following && following.client === this.#client) {
      following.end().catch((err: unknown) => {
        this.log.debug({ err: scrub(err as Error), uri }, "upstream unsubscribe failed");
      });
    }
  }

  /** The resources followed on the current connection (their own URIs), for tests and logs. */
  get followed(): string[] {
    return [...this.#following.keys()];
  }

  async #startFollowing(client: Client, uri: string): Promise<void> {
    if (!this.#subscribable || this.#following.has(uri)) return;
    const options = { timeout: this.#timeoutMs };
    try {
      let following: Following;
      if (client.getProtocolEra() === "legacy") {
        await client.subscribeResource({ uri }, options);
        following = { client, end: () => client.unsubscribeResource({ uri }, options) };
      } else {
        following = this.#keepFollowing(
          client,
          uri,
          await client.listen({ resourceSubscriptions: [uri] }, options),
        );
      }
      // Unfollowed, reconnected or followed twice meanwhile: this one is not needed.
      if (!this.#wanted.has(uri) || this.#client !== client || this.#following.has(uri)) {
        await following.end();
        return;
      }
      this.#following.set(uri, following);
      this.#resumed(uri);
    } catch (err) {
      // The next connection tries again; a refusal (an unknown URI) is the upstream's answer.
      this.log.warn(
        { err: scrub(err as Error), uri },
        `upstream '${this.name}' refused a resource subscription`,
      );
    }
  }

  /**
   * 2026-07-28: the listen stream following `uri` on `client`, opened again (with backoff, see
   * `#reopen`) when the upstream drops it while it is still wanted and `client` still current (a
   * new connection follows every wanted resource itself).
   */
  #keepFollowing(client: Client, uri: string, subscription: McpSubscription): Following {
    const following: Following = { client, end: () => subscription.close() };
    void subscription.closed.then(async (how) => {
      // Ended here (unfollowed), or the connection it belonged to was dropped for a new one.
      if (this.#following.get(uri) !== following) return;
      this.#following.delete(uri);
      const still = () => this.#wanted.has(uri) && !this.#following.has(uri);
      if (!still()) return;
      this.#lapsed.add(uri);
      this.log.info({ how, uri }, `upstream '${this.name}' dropped a resource's listen stream; reopening it`);
      const outcome = await this.#reopen(
        still,
        (c) => c.listen({ resourceSubscriptions: [uri] }, { timeout: this.#timeoutMs }),
        client,
      );
      if (outcome === "stopped") return;
      if (outcome === "refused" || outcome === "gave up") {
        this.log.warn(
          { uri, outcome },
          `stopped following a resource of upstream '${this.name}' until it reconnects`,
        );
        return;
      }
      const again = this.#keepFollowing(client, uri, outcome.opened);
      if (still() && this.#client === client) {
        this.#following.set(uri, again);
        this.#resumed(uri);
      } else await again.end();
    });
    return following;
  }

  /** Following `uri` resumed after a lapse: its followers are told it may have changed meanwhile. */
  #resumed(uri: string): void {
    if (!this.#lapsed.delete(uri)) return;
    this.log.info(
      { uri },
      `following a resource of upstream '${this.name}' again; telling its followers it may have changed meanwhile`,
    );
    this.#options.onResourceUpdated?.(uri);
  }

  /**
   * 2026-07-28: the list changes the upstream announces, on one listen stream for the connection
   * (2025 sessions get them unasked). Opened again when it drops while the connection lives.
   */
  #listenForLists(client: Client): void {
    if (client.getProtocolEra() === "legacy") return;
    const caps = client.getServerCapabilities() ?? {};
    const filter = {
      ...(caps.tools?.listChanged ? { toolsListChanged: true } : {}),
      ...(caps.prompts?.listChanged ? { promptsListChanged: true } : {}),
      ...(caps.resources?.listChanged ? { resourcesListChanged: true } : {}),
    };
    if (!Object.keys(filter).length) return;
    const open = () => client.listen(filter, { timeout: this.#timeoutMs });
    const keep = (subscription: McpSubscription) =>
      void subscription.closed.then(async (how) => {
        if (how === "local" || this.#client !== client) return;
        const outcome = await this.#reopen(() => true, open, client);
        if (typeof outcome === "object") keep(outcome.opened);
        else if (outcome !== "stopped") {
          this.log.warn(
            { outcome },
            `stopped listening for upstream '${this.name}' list changes until it reconnects`,
          );
        }
      });
    open().then(keep, (err: unknown) =>
      this.log.debug({ err: scrub(err as Error) }, "upstream refused subscriptions/listen"),
    );
  }

  /**
   * Opens a listen stream the upstream dropped again: after a wait that doubles from the policy's
   * `minMs` to its `maxMs`, each 50-100% of its step (jitter, so the streams of one upstream do not
   * all come back at once), on the connection up then (or only on `on`, when given), while
   * `still()`. `open` throws to try again, or resolves undefined for the upstream's refusal.
   */
  async #reopen<T>(
    still: () => boolean,
    open: (client: Client) => Promise<T | undefined>,
    on?: Client,
  ): Promise<{ opened: T } | "refused" | "stopped" | "gave up"> {
    const { minMs, maxMs, attempts } = { ...RELISTEN, ...this.#options.relisten };
    for (let attempt = 0; attempt < attempts; attempt++) {
      const step = Math.min(maxMs, minMs * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, step * (0.5 + Math.random() / 2)).unref());
      if (!still() || this.state === "closed" || (on && this.#client !== on)) return "stopped";
      const client = this.#client;
      if (!client || this.state !== "ready") continue;
      try {
        const opened = await open(client);
        return opened === undefined ? "refused" : { opened };
      } catch (err) {
        this.log.debug({ err: scrub(err as Error), attempt }, "reopening a listen stream failed");
      }
    }
    return "gave up";
  }

  #requestOptions(options: ForwardOptions) {
    return {
      signal: options.signal,
      timeout: this.#timeoutMs,
      ...(options.onprogress ? { onprogress: options.onprogress, resetTimeoutOnProgress: true } : {}),
    };
  }

  /** Runs one request on the live client; an upstream that is not up fails at once, naming itself. */
  async #forward<T>(signal: AbortSignal, request: (client: Client) => Promise<T>): Promise<T> {
    const client = this.#client;
    if (this.state !== "ready" || !client) throw this.unavailable();
    this.#inflight++;
    try {
      return withoutServerInfo(await request(client));
    } catch (err) {
      throw this.#failed(signal, err);
    } finally {
      this.#settled();
    }
  }

  /** What a forwarded request's failure becomes for its caller. */
  #failed(signal: AbortSignal, err: unknown): unknown {
    // The relay's own error (its caller must be asked first, or cannot be) is the caller's business.
    if (err instanceof RelayFailed) return err.error;
    // A call the caller cancelled (or that ran out of time) says nothing about the upstream's health.
    if (signal.aborted) {
      return new ToolshedError("timeout", `the call to upstream '${this.name}' was cancelled`);
    }
    return this.#translate(err);
  }

  /** A forwarded request ended: wakes those waiting for none to be in flight. */
  #settled(): void {
    this.#inflight--;
    if (this.#inflight === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  unavailable(): ToolshedError {
    return new ToolshedError(
      "upstream_unavailable",
      `upstream '${this.name}' is unavailable (${this.reason}); the gateway retries it in the background, try again shortly`,
      { retryable: true },
    );
  }

  /** An upstream failure as a tool error naming the upstream; a lost connection marks it down. */
  #translate(err: unknown): ToolshedError {
    if (err instanceof ToolshedError) return err;
    if (ProtocolError.isInstance(err)) {
      const e = err;
      // A missing client capability (-32021) goes to the caller as is, so it learns what is missing.
      if (e.code === -32021) throw e;
      if (e.code === -32001) {
        return new ToolshedError("timeout", `upstream '${this.name}' did not answer in time`, {
          retryable: true,
        });
      }
      const code = e.code === -32602 ? "invalid_input" : "upstream_error";
      return new ToolshedError(code, `upstream '${this.name}' answered: ${stripPrefix(e.message)}`);
    }
    const message = err instanceof Error ? err.message : String(err);
    if (/timed out|timeout/i.test(message)) {
      return new ToolshedError("timeout", `upstream '${this.name}' did not answer in time`, {
        retryable: true,
      });
    }
    this.#lost(`request failed: ${firstLine(message)}`);
    return this.unavailable();
  }

  /**
   * The transport of the connection attempt under way, so that `close` can end it at once (closing
   * the transport, not the client, also stops the SDK's server/discover probe of a stdio upstream).
   */
  #attempt: Transport | undefined;

  async #connect(): Promise<void> {
    if (this.#connecting || this.state === "closed") return this.#connecting;
    this.#connecting = (async () => {
      let client: Client | undefined;
      try {
        client = new Client(this.#options.clientInfo ?? { name: "toolshed-gateway", version: "0.1.0" }, {
          // Declared to 2025 upstreams (one handshake); a 2026-07-28 call declares its caller's own.
          capabilities: RELAYED_CAPABILITIES,
          // input_required results come back to callTool, which relays them.
          inputRequired: { autoFulfill: false },
          ...this.#negotiation(),
        });
        for (const method of RELAYED_METHODS) {
          client.setRequestHandler(
            method,
            (request) =>
              this.#answerLegacy(method, request.params as Record<string, unknown> | undefined) as never,
          );
        }
        const transport = this.#transport();
        this.#attempt = transport;
        client.onclose = () => {
          if (this.#client === client) this.#lost("connection closed");
        };
        client.onerror = (error) => this.log.debug({ err: scrub(error) }, "upstream transport error");
        client.setNotificationHandler("notifications/tools/list_changed", () => void this.refresh());
        client.setNotificationHandler("notifications/prompts/list_changed", () => void this.refresh());
        client.setNotificationHandler("notifications/resources/list_changed", () => void this.refresh());
        client.setNotificationHandler("notifications/resources/updated", (n) => {
          if (this.#client === client && this.#wanted.has(n.params.uri)) {
            this.#options.onResourceUpdated?.(n.params.uri);
          }
        });
        client.setNotificationHandler("notifications/message", (n) => this.#onLog(n.params));
        // The tasks extension's status notifications (not an SDK method): to who follows the task.
        client.fallbackNotificationHandler = (n) => {
          if (n.method !== TASK_STATUS_METHOD || this.#client !== client) return Promise.resolve();
          const task = (n.params ?? {}) as Record<string, unknown>;
          const { _meta: _dropped, ...rest } = task;
          for (const follower of this.#taskFollowers.get(String(task.taskId)) ?? []) follower(rest);
          return Promise.resolve();
        };
        await client.connect(transport, {
          timeout: this.#options.timeoutMs ?? 20_000,
          ...(this.#prior ? { prior: this.#prior } : {}),
        });
        liftCreatedTasks(transport);
        if (this.state === "closed") {
          await client.close();
          return;
        }
        const discover = client.getDiscoverResult();
        this.#prior = discover ? { kind: "modern", discover } : { kind: "legacy" };
        this.#client = client;
        // A new session starts at the upstream's own default level.
        this.#sessionLogLevel = undefined;
        await this.#list(client);
        this.state = "ready";
        this.reason = "";
        this.log.info(
          { era: client.getProtocolEra(), tools: this.tools.length, ...(this.pid ? { pid: this.pid } : {}) },
          `upstream '${this.name}' ready`,
        );
        this.#schedule(HEALTH_INTERVAL_MS, () => void this.refresh());
        this.#backoff = MIN_BACKOFF_MS;
        this.#subscribable = client.getServerCapabilities()?.resources?.subscribe === true;
        // Change notifications: a 2026-07-28 upstream sends them only on a listen stream; the
        // resources followed before a reconnect (or a restart) are followed again.
        this.#listenForLists(client);
        for (const uri of this.#wanted) void this.#startFollowing(client, uri);
      } catch (err) {
        if (this.#client === client) this.#client = undefined;
        await client?.close().catch(() => {});
        if (this.state !== "closed") {
          this.#down(firstLine(err instanceof Error ? err.message : String(err)));
        }
      } finally {
        this.#attempt = undefined;
        this.#connecting = undefined;
        this.#settleFirst();
        this.#options.onChange?.();
      }
    })();
    return this.#connecting;
  }

  #negotiation(): Pick<ClientOptions, "versionNegotiation"> {
    const protocol = this.#options.protocol ?? "auto";
    if (protocol === "2025") return {};
    return { versionNegotiation: { mode: protocol === "auto" ? "auto" : { pin: protocol } } };
  }

  #transport(): Transport {
    const target = this.#options.target();
    if ("url" in target) {
      this.#stdio = false;
      this.#http ??= createKeepAliveFetch();
      // The headers every call sends; Mcp-Name is each call's own (post's `more`), so a configured
      // one is dropped.
      const { "mcp-name": _name, ...configured } = lowerCased(target.headers ?? {});
      this.#direct = {
        url: new URL(target.url),
        headers: {
          ...configured,
          accept: "application/json, text/event-stream",
          "content-type": "application/json",
          "mcp-method": "tools/call",
          "mcp-protocol-version": MODERN,
        },
      };
      return new StreamableHTTPClientTransport(new URL(target.url), {
        requestInit: { headers: target.headers ?? {} },
        fetch: this.#http.fetch,
      });
    }
    this.#stdio = true;
    const transport = new StdioClientTransport({
      command: target.command,
      args: target.args ?? [],
      env: { ...inherited(this.#options.env ?? process.env), ...target.env },
      ...(target.cwd ? { cwd: target.cwd } : {}),
      stderr: "pipe",
    });
    // The child's log goes to this log at debug, one line per entry, tagged with the upstream.
    transport.stderr?.on("data", (chunk: Buffer) => {
      if (!this.log.isLevelEnabled("debug")) return;
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean))
        this.log.debug({ stderr: line.slice(0, 2000) }, "upstream stderr");
    });
    return transport;
  }

  async #list(client: Client): Promise<void> {
    const caps = client.getServerCapabilities() ?? {};
    const [tools, resources, templates, prompts] = await Promise.all([
      caps.tools ? client.listTools() : { tools: [] },
      caps.resources ? client.listResources() : { resources: [] },
      caps.resources ? client.listResourceTemplates() : { resourceTemplates: [] },
      caps.prompts ? client.listPrompts() : { prompts: [] },
    ]);
    this.tools = tools.tools;
    this.resources = resources.resources;
    this.templates = templates.resourceTemplates;
    this.prompts = prompts.prompts;
    this.version++;
  }

  /** Re-lists the upstream (health check and list refresh); a failure marks it down. */
  async refresh(): Promise<void> {
    const client = this.#client;
    if (!client || this.state !== "ready") return;
    try {
      await this.#list(client);
      this.#options.onChange?.();
      this.#schedule(HEALTH_INTERVAL_MS, () => void this.refresh());
    } catch (err) {
      if (ProtocolError.isInstance(err)) {
        this.#schedule(HEALTH_INTERVAL_MS, () => void this.refresh());
        return;
      }
      this.#lost(`health check failed: ${firstLine((err as Error).message)}`);
    }
  }

  /** The connection is gone: mark down and reconnect (restart the child) with backoff. */
  #lost(reason: string): void {
    if (this.state === "closed" || this.state === "down") return;
    const client = this.#client;
    this.#client = undefined;
    // Its subscriptions went with it; the next connection makes them again.
    for (const uri of this.#wanted) this.#lapsed.add(uri);
    this.#following.clear();
    void client?.close().catch(() => {});
    if (this.#stdio) this.restarts++;
    this.#down(reason);
    this.#options.onChange?.();
  }

  #down(reason: string): void {
    this.state = "down";
    this.reason = reason;
    const delay = this.#backoff;
    this.#backoff = Math.min(MAX_BACKOFF_MS, this.#backoff * 2);
    this.log.warn({ reason, retry_in_ms: delay }, `upstream '${this.name}' is down`);
    this.#schedule(delay, () => void this.#connect());
  }

  #schedule(ms: number, fn: () => void): void {
    clearTimeout(this.#timer);
    if (this.state === "closed") return;
    this.#timer = setTimeout(fn, ms);
    this.#timer.unref();
  }

  /** Stops reconnecting; waits up to `drainMs` for calls in flight, then closes the connection. */
  async close(drainMs = 30_000, reason = "closed"): Promise<void> {
    this.state = "closed";
    this.reason = reason;
    clearTimeout(this.#timer);
    this.#settleFirst();
    if (this.#inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(timer);
    }
    // A connection attempt under way (an upstream slow to answer, or hung) is ended, not awaited
    // for its whole timeout: its transport closes (a stdio child is stopped) and the attempt fails.
    void this.#attempt?.close().catch(() => {});
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
    this.#http?.close();
    this.#http = undefined;
  }
}

/** What a spawned upstream inherits: PATH and the basics, never the parent's own secrets. */
function inherited(env: NodeJS.ProcessEnv): Record<string, string> {
  const keep = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "TMPDIR",
    "LANG",
    "SYSTEMROOT",
    "NODE_OPTIONS",
  ];
  const out: Record<string, string> = {};
  for (const key of keep) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").slice(0, 300);
}

function stripPrefix(message: string): string {
  return message.replace(/^MCP error -?\d+:\s*/, "");
}

function scrub(error: Error): { message: string; name: string } {
  return { name: error.name, message: firstLine(error.message) };
}

/** The result's `_meta` without the upstream's serverInfo: whoever relays it answers as itself. */
function withoutServerInfo<T>(result: T): T {
  const meta = (result as { _meta?: Record<string, unknown> } | undefined)?._meta;
  if (!meta || !(SERVER_INFO in meta)) return result;
  const { [SERVER_INFO]: _upstream, ...rest } = meta;
  return { ...result, _meta: rest };
}

const SERVER_INFO = "io.modelcontextprotocol/serverInfo";

const MODERN = "2026-07-28";
const DEFAULT_CLIENT_INFO = { name: "toolshed-gateway", version: "0.1.0" };
/** Names that go in `Mcp-Name` as they are (the SDK encodes others). */
const PLAIN_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;
const X_MCP_HEADER = '"x-mcp-header"';

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

interface JsonRpcAnswer {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: unknown; data?: unknown };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The answer to request `id` in an SSE body (notifications before it are ignored: none was asked). */
function lastAnswer(text: string, id: number): JsonRpcAnswer | undefined {
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
      .join("\n");
    const message = data ? (parseJson(data) as JsonRpcAnswer | undefined) : undefined;
    if (message && typeof message === "object" && message.id === id) return message;
  }
  return undefined;
}

/**
 * A tools/call result checked as far as forwarding needs: an object whose `content` is an array of
 * blocks with a `type` (the SDK's client checks the whole schema; the caller's client will too).
 */
function toolResult(upstream: string, result: unknown): CallToolResult {
  const r = result as { content?: unknown; resultType?: unknown } | null;
  const content = r && typeof r === "object" && !Array.isArray(r) ? r.content : undefined;
  if (
    !Array.isArray(content) ||
    !content.every(
      (b) => typeof b === "object" && b !== null && typeof (b as { type?: unknown }).type === "string",
    )
  ) {
    throw new ToolshedError(
      "upstream_error",
      `upstream '${upstream}' answered tools/call with a malformed result`,
    );
  }
  if (r!.resultType !== undefined && r!.resultType !== "complete") {
    throw new ToolshedError(
      "upstream_error",
      `upstream '${upstream}' answered tools/call with a ${JSON.stringify(r!.resultType)} result where none was asked`,
    );
  }
  const { resultType: _complete, ...rest } = r as Record<string, unknown>;
  return rest as CallToolResult;
}

/** Where a lifted CreateTaskResult travels through the SDK client (see liftCreatedTasks). */
const CREATED_TASK = "toolshed/createdTask";

/**
 * The SDK v2 client refuses a result of `resultType: "task"` (it knows only complete and
 * input_required), losing the task id. So a task-augmented call's CreateTaskResult is rewritten as
 * it arrives into an empty complete result carrying the task in `_meta`, which callToolOrTask
 * unwraps. Only requests that declared the tasks extension can get one.
 */
function liftCreatedTasks(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    const result = (message as { result?: Record<string, unknown> }).result;
    if (result?.resultType !== "task" || typeof result.taskId !== "string") return deliver(message, extra);
    const { resultType: _task, _meta, ...created } = result;
    const lifted = {
      resultType: "complete",
      content: [],
      _meta: { ...(_meta as object), [CREATED_TASK]: created },
    };
    deliver({ ...message, result: lifted }, extra);
  };
}

/**
 * A Standard Schema that takes any result as it came: the tasks methods' results are passed on, and
 * tools/call, resources/read and prompts/get results were already checked by the SDK as it decoded them.
 */
const ANY_RESULT = {
  "~standard": { version: 1, vendor: "toolshed", validate: (value: unknown) => ({ value }) },
} as const;

/** Carries a relay's error through the request wrapper untouched. */
class RelayFailed extends Error {
  constructor(readonly error: unknown) {
    super("the relay did not answer");
  }
}

interface InputRequired {
  resultType: "input_required";
  inputRequests?: Record<string, unknown>;
  requestState?: string;
}

function isInputRequired(result: unknown): result is InputRequired {
  return (result as { resultType?: unknown } | undefined)?.resultType === "input_required";
}
