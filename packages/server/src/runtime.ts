import type { Principal, RateLimiter } from "@toolshed/auth";
import type { Logger } from "@toolshed/logging";
import { createMetrics, type ToolshedMetrics } from "@toolshed/metrics";
import { ToolshedError } from "@toolshed/errors";
import { RequestStateKeys } from "./ask.js";
import { detailedTask, TaskManager, type TaskSettings } from "./tasks/manager.js";
import { LocalChangeBus, type ChangeBus, type ChangeEvent } from "./bus.js";
import type {
  AnyTool,
  ChangeNotifier,
  NotifyOptions,
  ConfirmPolicy,
  NotificationsDeclared,
  ResolvedServerDefinition,
} from "./define.js";
import { toolListEntry } from "./tool-json.js";
import { resumeTask } from "./tool-call.js";
import { SEARCH_MODE_TOOLS, ToolIndex } from "./tool-search.js";
import { toolScopesOf } from "./tool-scopes.js";

/** How tools/list presents the tools: each one, the three tools of search mode, or by count. */
export type ToolMode = "all" | "search" | "auto";

/** `auto` mode turns to search mode above this many tools unless the server or `--search-threshold` says. */
export const DEFAULT_SEARCH_THRESHOLD = 40;

/** One tool as search mode indexes it: its tools/list entry, and the tool. */
export interface CatalogueTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  tool: AnyTool;
  entry: Record<string, unknown>;
}

export interface RuntimeOptions {
  logger: Logger;
  metrics?: ToolshedMetrics;
  /** The parsed server config (its own fields). */
  config: unknown;
  /**
   * HMAC keys for the requestState of questions to the user (`ctx.ask`): the first signs, all verify.
   * Replicas behind one load balancer need the same keys; without any, a random per-process key.
   */
  requestStateKeys?: readonly string[];
  /** How long a question's requestState may be echoed back; 600 s unless set. */
  requestStateTtlSeconds?: number;
  /** `--confirm`: whether `ctx.confirm` / `ctx.choose` ask a person; `ask` unless set. */
  confirm?: ConfirmPolicy;
  /** Where tasks live and how long they are kept (tools declaring `task`); memory and 1 h unless set. */
  tasks?: TaskSettings;
  /** Where change notifications travel: this process only unless given (e.g. a RedisChangeBus). */
  changes?: ChangeBus;
  /** `--tool-mode`: the server's `toolMode` (or `auto`) unless set. */
  toolMode?: ToolMode;
  /** `--search-threshold`: the server's `searchThreshold` (or 40) unless set. */
  searchThreshold?: number;
  /** `TOOLSHED_REDIS_URL`: the Redis replicas share, handed to `setup` for the server's own shared state. */
  redisUrl?: string;
}

/**
 * Everything one server process shares across its connections: config, dependencies opened by
 * `setup`, the logger, the metrics, the precomputed tool list and the in-flight request count.
 */
export class Runtime {
  readonly def: ResolvedServerDefinition;
  readonly config: unknown;
  readonly logger: Logger;
  readonly metrics: ToolshedMetrics;
  /** The Redis replicas share, when configured; `setup` gets it as `redisUrl`. */
  readonly redisUrl: string | undefined;
  readonly tools: ReadonlyMap<string, AnyTool>;
  /** What tools/list answers: every tool but the `hidden` ones not shown yet. */
  get toolList(): readonly Record<string, unknown>[] {
    return this.#toolList;
  }
  #toolList: readonly Record<string, unknown>[];
  readonly #entries: readonly { tool: AnyTool; entry: Record<string, unknown> }[];
  /** Hidden tools shown by `showTools`, for every connection of this process. */
  readonly #shown = new Set<string>();
  /**
   * Search mode: tools/list answers search_tools, describe_tool and call_tool instead of every
   * tool (`--tool-mode search`, or `auto` with more tools than `--search-threshold`). A server
   * that forwards (the gateway) decides its own list and is never in the kit's search mode.
   */
  readonly searchMode: boolean;
  #index: ToolIndex<CatalogueTool> | undefined;
  /** The scopes each tool requires when auth is on (declared, or the default from its annotations). */
  readonly toolScopes: ReadonlyMap<string, readonly string[]>;
  /** Calls per principal and tool, when the HTTP auth layer configured a limit. */
  toolLimiter: RateLimiter | undefined;
  readonly defaultTimeoutMs: number;
  /** Signs and verifies the requestState of handlers that ask the client (ask.ts). */
  readonly requestStateKeys: RequestStateKeys;
  /** `--confirm`: whether handlers' confirmations and choices ask a person. */
  readonly confirm: ConfirmPolicy;
  /** Tools that run as tasks for clients of the tasks extension (tasks/manager.ts). */
  readonly tasks: TaskManager;
  /** Whether any tool may run as a task: only then is the tasks extension declared. */
  readonly servesTasks: boolean;
  /** Calls in flight, aborted together when shutdown gives up waiting. */
  readonly #calls = new Set<AbortController>();
  #deps: Promise<unknown> | undefined;
  #depsValue: { value: unknown } | undefined;
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];
  #closing = false;
  #closed = false;
  /** Change events: every connection of this process (and, through Redis, of the other replicas). */
  readonly changes: ChangeBus;
  /** The change notifications the server declared; capabilities advertise exactly these. */
  readonly notifications: Readonly<Required<NotificationsDeclared>>;
  /** Publishes declared changes on the bus; what handlers get as `ctx.notify`. */
  readonly notify: ChangeNotifier;
  readonly #undeclaredWarned = new Set<string>();

  constructor(def: ResolvedServerDefinition, options: RuntimeOptions) {
    this.def = def;
    this.config = options.config;
    this.logger = options.logger;
    this.metrics = options.metrics ?? createMetrics({ defaultLabels: { server: def.name } });
    this.redisUrl = options.redisUrl;
    this.tools = new Map(def.tools.map((t) => [t.name, t]));
    this.#entries = def.tools.map((tool) => ({ tool, entry: toolListEntry(tool) }));
    this.#toolList = this.#listed();
    const mode = options.toolMode ?? def.toolMode ?? "auto";
    const threshold = options.searchThreshold ?? def.searchThreshold ?? DEFAULT_SEARCH_THRESHOLD;
    // `auto` counts the tools listed at start: a server with hidden tools (github's dynamic
    // toolsets) already keeps its list small and shows more on request.
    const listed = def.tools.filter((t) => !t.hidden).length;
    this.searchMode =
      def.forward === undefined && (mode === "search" || (mode === "auto" && listed > threshold));
    if (def.forward && options.toolMode === "search") {
      options.logger.warn(
        "--tool-mode search does not apply to a forwarding server, which lists its tools itself; use its own setting (the gateway's --mode search)",
      );
    }
    this.toolScopes = toolScopesOf(def, options.config);
    this.defaultTimeoutMs = def.defaultTimeoutMs ?? 60_000;
    this.confirm = options.confirm ?? "ask";
    // Status changes go out on the change bus (to every replica's listen streams, filtered by owner).
    this.tasks = new TaskManager(options.logger, options.tasks, (record) =>
      this.changes.publishTaskStatus({
        taskId: record.taskId,
        owner: record.owner,
        task: detailedTask(record),
      }),
    );
    // A task whose replica stopped is run again here when its tool is safe to run twice.
    this.tasks.resumer = (record, execution) => resumeTask(this, record, execution);
    // A forwarding server serves tasks when its definition forwards them (the gateway's upstreams').
    this.servesTasks = def.tools.some((t) => t.task !== undefined) || def.forward?.tasks !== undefined;
    this.requestStateKeys = new RequestStateKeys(
      options.requestStateKeys,
      options.logger,
      options.requestStateTtlSeconds,
    );
    this.changes = options.changes ?? new LocalChangeBus(options.logger);
    const declared = def.notifications ?? {};
    this.notifications = {
      resourceUpdated: declared.resourceUpdated === true,
      resourceListChanged: declared.resourceListChanged === true,
      toolListChanged: declared.toolListChanged === true,
      promptListChanged: declared.promptListChanged === true,
    };
    this.notify = {
      resourceUpdated: (uri, o) => this.#publish("resourceUpdated", { kind: "resource_updated", uri }, o),
      resourceListChanged: (o) => this.#publish("resourceListChanged", { kind: "resources_list_changed" }, o),
      toolListChanged: (o) => this.#publish("toolListChanged", { kind: "tools_list_changed" }, o),
      promptListChanged: (o) => this.#publish("promptListChanged", { kind: "prompts_list_changed" }, o),
    };
  }

  /**
   * The server's advice for a call of a tool it does not serve (`unknownToolHint`: the tool it was
   * renamed or merged into, the config that enables it), as a clause to add to the error; "" if none.
   */
  unknownToolHint(name: string): string {
    if (this.tools.has(name)) return "";
    try {
      const hint = this.def.unknownToolHint?.(name, this.config);
      return hint ? ` (${hint})` : "";
    } catch (err) {
      this.logger.warn({ err, tool: name }, "unknownToolHint threw; the unknown-tool error goes without it");
      return "";
    }
  }

  /** Whether `name` is a tool this server serves (its own, or one its forward definition knows now). */
  knowsTool(name: string): boolean {
    if (this.tools.has(name)) return true;
    if (this.searchMode && (SEARCH_MODE_TOOLS as readonly string[]).includes(name)) return true;
    const forward = this.def.forward;
    return forward?.knowsTool !== undefined && this.#depsValue !== undefined
      ? forward.knowsTool(this.#depsValue.value, name)
      : false;
  }

  /**
   * The scopes a `tools/call` of `name` needs from `principal`, for the HTTP step-up challenge: an
   * own tool's, or what the forward definition answers (opening the deps if need be: the call would);
   * undefined when the tool is not known or a setup that fails leaves the call to report it.
   */
  async toolScopesFor(name: string, principal: Principal): Promise<readonly string[] | undefined> {
    const own = this.toolScopes.get(name);
    if (own) return own;
    const forward = this.def.forward;
    if (!forward?.toolScopes) return undefined;
    let deps: unknown;
    try {
      deps = this.#depsValue ? this.#depsValue.value : await this.deps();
    } catch {
      return undefined;
    }
    return forward.toolScopes(deps, name, principal);
  }

  /** Lists the named hidden tools from now on; announces the change when there is one (`ctx.showTools`). */
  showTools(names: readonly string[]): string[] {
    const shown = names.filter((name) => this.tools.get(name)?.hidden === true && !this.#shown.has(name));
    if (!shown.length) return [];
    for (const name of shown) this.#shown.add(name);
    this.#toolList = this.#listed();
    this.#index = undefined;
    // Search mode's three tools never change; what search_tools finds does.
    if (!this.searchMode) this.notify.toolListChanged();
    return shown;
  }

  /** Search mode's index of the listed tools (hidden ones once shown), built on first use. */
  get toolIndex(): ToolIndex<CatalogueTool> {
    return (this.#index ??= new ToolIndex(
      this.#entries
        .filter(({ tool }) => !tool.hidden || this.#shown.has(tool.name))
        .map(({ tool, entry }) => ({
          name: tool.name,
          title: tool.title,
          description: tool.description,
          inputSchema: entry.inputSchema as Record<string, unknown>,
          annotations: entry.annotations as Record<string, unknown>,
          tool,
          entry,
        })),
    ));
  }

  #listed(): Record<string, unknown>[] {
    return this.#entries.filter(({ tool }) => !tool.hidden || this.#shown.has(tool.name)).map((e) => e.entry);
  }

  /** Same as `notify.resourceUpdated(uri)`. */
  notifyResourceUpdated(uri: string): void {
    this.notify.resourceUpdated(uri);
  }

  /** Publishes a change the server declared; an undeclared one is dropped (warned once per kind). */
  #publish(kind: keyof NotificationsDeclared, event: ChangeEvent, options?: NotifyOptions): void {
    if (this.notifications[kind]) {
      if (options?.here && this.changes.publishHere) this.changes.publishHere(event);
      else this.changes.publish(event);
      return;
    }
    if (this.#undeclaredWarned.has(kind)) return;
    this.#undeclaredWarned.add(kind);
    this.logger.warn(
      { notification: kind },
      `notify.${kind}() was called but the server does not declare notifications.${kind}: nothing is sent; declare it in defineServer`,
    );
  }

  /** Tracks a call's controller so shutdown can abort it; returns the function that forgets it. */
  trackCall(call: AbortController): () => void {
    if (this.#closed) call.abort(new ToolshedError("upstream_unavailable", "the server is shutting down"));
    else this.#calls.add(call);
    return () => this.#calls.delete(call);
  }

  /** The dependencies once setup has succeeded (undefined before, or when there is no setup). */
  get openedDeps(): unknown {
    return this.#depsValue?.value;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** The dependencies from `setup`, opened on first use; a failed setup is retried on the next call. */
  deps(): Promise<unknown> {
    if (!this.def.setup) return Promise.resolve(undefined);
    // Once open, deps stay usable until close() so in-flight work can finish; only a new setup is
    // refused while shutting down.
    if (this.#closing && !this.#deps) {
      return Promise.reject(new ToolshedError("upstream_unavailable", "the server is shutting down"));
    }
    if (this.#deps) return this.#deps;
    const attempt = (async () => {
      try {
        const value: unknown = await this.def.setup!({
          config: this.config,
          log: this.logger,
          notify: this.notify,
          notifyResourceUpdated: (uri) => this.notify.resourceUpdated(uri),
          metrics: this.metrics,
          ...(this.redisUrl ? { redisUrl: this.redisUrl } : {}),
        });
        this.#depsValue = { value };
        return value;
      } catch (cause) {
        this.logger.error({ err: cause }, "server setup failed");
        throw new ToolshedError(
          "upstream_unavailable",
          "the server could not open its dependencies; see the server log, fix the configuration and retry",
          { cause },
        );
      }
    })();
    this.#deps = attempt;
    // Forget a failed attempt so the next call retries (set here, after the assignment above, since
    // a setup that throws synchronously would otherwise be forgotten before it is remembered).
    attempt.catch(() => {
      if (this.#deps === attempt) this.#deps = undefined;
    });
    return this.#deps;
  }

  readonly #readinessChecks: (() => Promise<string | undefined>)[] = [];

  /** Adds a check to /readyz: it resolves to a reason when not ready (e.g. the event store is down). */
  addReadinessCheck(check: () => Promise<string | undefined>): void {
    this.#readinessChecks.push(check);
  }

  /** Whether the server can serve calls now: setup has succeeded and the server's own check passes. */
  async readiness(): Promise<{ ready: boolean; reason?: string }> {
    if (this.#closing) return { ready: false, reason: "shutting down" };
    let deps: unknown;
    try {
      deps = await this.deps();
    } catch (err) {
      // Setup failures are ToolshedErrors whose message is safe to show.
      return { ready: false, reason: (err as Error).message };
    }
    for (const check of this.#readinessChecks) {
      const reason = await check();
      if (reason) return { ready: false, reason };
    }
    try {
      const verdict = this.def.ready ? await this.def.ready(deps) : true;
      if (verdict === true) return { ready: true };
      if (typeof verdict === "string") return { ready: false, reason: verdict };
    } catch (err) {
      // /readyz is unauthenticated: the details (hosts, connection strings) go to the log only.
      this.logger.warn({ err }, "readiness check failed");
    }
    return { ready: false, reason: "dependency check failed; see the server log" };
  }

  requestStarted(): void {
    this.#inflight++;
  }

  requestFinished(): void {
    this.#inflight = Math.max(0, this.#inflight - 1);
    if (this.#inflight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** Resolves when no request is in flight, or false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#inflight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = await Promise.race([idle, late]);
    clearTimeout(timer);
    return drained;
  }

  /** Stops new work: readiness turns false and new setup is refused. */
  beginShutdown(): void {
    this.#closing = true;
  }

  /** Aborts whatever is still running and closes the dependencies. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#closed = true;
    const reason = new ToolshedError(
      "upstream_unavailable",
      "the server is shutting down; retry on another instance",
    );
    // Tasks another replica can run again are handed over, not ended with the error below.
    const released = await this.tasks
      .release()
      .catch((err: unknown) => (this.logger.warn({ err }, "giving up tasks at shutdown failed"), 0));
    if (released) this.logger.info({ tasks: released }, "gave up running tasks for another instance to run");
    for (const call of this.#calls) call.abort(reason);
    this.#calls.clear();
    if (this.#depsValue && this.def.teardown) {
      try {
        await this.def.teardown(this.#depsValue.value);
      } catch (err) {
        this.logger.error({ err }, "teardown failed");
      }
    }
    this.#depsValue = undefined;
    this.#deps = undefined;
    await this.tasks
      .close()
      .catch((err: unknown) => this.logger.warn({ err }, "closing the task store failed"));
    await this.changes.close();
  }
}
