import type { RateLimiter } from "@toolshed/auth";
import type { Logger } from "@toolshed/logging";
import { createMetrics, type ToolshedMetrics } from "@toolshed/metrics";
import { ToolshedError } from "@toolshed/errors";
import { RequestStateKeys } from "./ask.js";
import type { AnyTool, ResolvedServerDefinition } from "./define.js";
import { toolListEntry } from "./tool-json.js";
import { toolScopesOf } from "./tool-scopes.js";

/** A connection told of resource updates: the URIs it subscribed to (or all) and how to tell it. */
export interface Subscriber {
  subscriptions: { has(uri: string): boolean };
  notify: (uri: string) => void;
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
  readonly tools: ReadonlyMap<string, AnyTool>;
  readonly toolList: readonly Record<string, unknown>[];
  /** The scopes each tool requires when auth is on (declared, or the default from its annotations). */
  readonly toolScopes: ReadonlyMap<string, readonly string[]>;
  /** Calls per principal and tool, when the HTTP auth layer configured a limit. */
  toolLimiter: RateLimiter | undefined;
  readonly defaultTimeoutMs: number;
  /** Signs and verifies the requestState of handlers that ask the client (ask.ts). */
  readonly requestStateKeys: RequestStateKeys;
  /** Calls in flight, aborted together when shutdown gives up waiting. */
  readonly #calls = new Set<AbortController>();
  #deps: Promise<unknown> | undefined;
  #depsValue: { value: unknown } | undefined;
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];
  #closing = false;
  #closed = false;
  /** Open connections and the resource URIs each subscribed to. */
  readonly #subscribers = new Map<object, Subscriber>();

  constructor(def: ResolvedServerDefinition, options: RuntimeOptions) {
    this.def = def;
    this.config = options.config;
    this.logger = options.logger;
    this.metrics = options.metrics ?? createMetrics({ defaultLabels: { server: def.name } });
    this.tools = new Map(def.tools.map((t) => [t.name, t]));
    this.toolList = def.tools.map(toolListEntry);
    this.toolScopes = toolScopesOf(def, options.config);
    this.defaultTimeoutMs = def.defaultTimeoutMs ?? 60_000;
    this.requestStateKeys = new RequestStateKeys(
      options.requestStateKeys,
      options.logger,
      options.requestStateTtlSeconds,
    );
  }

  /** Registers a connection's subscriptions; returns the function that forgets it. */
  addSubscriber(key: object, entry: Subscriber): () => void {
    this.#subscribers.set(key, entry);
    return () => this.#subscribers.delete(key);
  }

  /** Sends `notifications/resources/updated` to every connection subscribed to `uri`. */
  notifyResourceUpdated(uri: string): void {
    for (const { subscriptions, notify } of this.#subscribers.values()) {
      if (subscriptions.has(uri)) notify(uri);
    }
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
          notifyResourceUpdated: (uri) => this.notifyResourceUpdated(uri),
          metrics: this.metrics,
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
      if (!this.def.ready || (await this.def.ready(deps))) return { ready: true };
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
  }
}
