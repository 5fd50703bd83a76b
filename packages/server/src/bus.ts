import { randomUUID } from "node:crypto";
import type { ServerEvent, ServerEventBus } from "@modelcontextprotocol/server";
import { createLogger, type Logger } from "@toolshed/logging";
import type { Redis } from "ioredis";
import { safeUrl } from "./redis.js";

/**
 * A change a server announces: a resource's content (by URI), or the list of tools, prompts or
 * resources. The SDK's `ServerEvent`, so the bus can be handed to its `subscriptions/listen` router.
 */
export type ChangeEvent = ServerEvent;

/**
 * A task (tasks extension) whose status changed: the task as tasks/get returns it now, and whose it
 * is, so a listen stream forwards it only to its owner. Travels beside the change events, never to
 * the SDK's listen router (which knows only the four change kinds).
 */
export interface TaskStatusEvent {
  taskId: string;
  /** The principal id that started the task ("" without auth). */
  owner: string;
  /** The DetailedTask (status payload inlined: inputRequests, result or error). */
  task: Record<string, unknown>;
}

/**
 * Publish/subscribe of change events within one server process, and across replicas when it is
 * backed by Redis. It is an SDK `ServerEventBus`: the 2026-07-28 lane's listen streams subscribe to
 * it directly; 2025 connections subscribe and filter by what their client subscribed to.
 */
export interface ChangeBus extends ServerEventBus {
  /**
   * Delivers a change to this process's listeners only, not to the other replicas': for a change
   * each replica hears by itself (a gateway's upstream tells every replica that follows it), which
   * `publish` would deliver once per replica that heard it.
   */
  publishHere?(event: ChangeEvent): void;
  /** Publishes a task's new status to this process's listen streams and the other replicas'. */
  publishTaskStatus(event: TaskStatusEvent): void;
  subscribeTaskStatus(listener: (event: TaskStatusEvent) => void): () => void;
  close(): Promise<void>;
}

/** Delivers synchronously to this process's listeners; a throwing listener does not stop the others. */
export class LocalChangeBus implements ChangeBus {
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  readonly #taskListeners = new Set<(event: TaskStatusEvent) => void>();

  constructor(private readonly logger?: Logger) {}

  publish(event: ChangeEvent): void {
    this.#deliver(this.#listeners, event, event.kind);
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return add(this.#listeners, listener);
  }

  publishTaskStatus(event: TaskStatusEvent): void {
    this.#deliver(this.#taskListeners, event, "task_status");
  }

  subscribeTaskStatus(listener: (event: TaskStatusEvent) => void): () => void {
    return add(this.#taskListeners, listener);
  }

  close(): Promise<void> {
    this.#listeners.clear();
    this.#taskListeners.clear();
    return Promise.resolve();
  }

  #deliver<E>(listeners: Set<(event: E) => void>, event: E, kind: string): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger?.warn({ err, kind }, "a change listener failed");
      }
    }
  }
}

/** Adds a listener; a wrapper per call, so the same function subscribed twice is two listeners. */
function add<E>(listeners: Set<(event: E) => void>, listener: (event: E) => void): () => void {
  const entry = (event: E) => listener(event);
  listeners.add(entry);
  return () => void listeners.delete(entry);
}

export interface RedisChangeBusOptions {
  /** e.g. redis://127.0.0.1:6379 (TOOLSHED_REDIS_URL). */
  url: string;
  /** The pub/sub channel; one per server, e.g. "toolshed:data-analytics:changes". */
  channel: string;
  /** Where outages and recoveries are logged; a stderr logger named "toolshed-changes" unless given. */
  logger?: Logger;
}

/**
 * Change events over Redis pub/sub: every event is delivered here at once and published on the
 * server's channel, where the other replicas pick it up (each ignores its own). Redis is never
 * waited for: while it is unreachable the bus logs once, keeps delivering to this replica's clients
 * and reconnects in the background; events published meanwhile do not reach other replicas.
 */
export class RedisChangeBus implements ChangeBus {
  readonly #local: LocalChangeBus;
  readonly #origin = randomUUID();
  readonly #channel: string;
  readonly #logger: Logger;
  readonly #where: string;
  readonly #pub: Redis;
  readonly #sub: Redis;
  /** Whether both connections are up; undefined until the first outcome, so only changes are logged. */
  #up: boolean | undefined;
  #closed = false;

  private constructor(Ctor: typeof Redis, options: RedisChangeBusOptions) {
    this.#logger = options.logger ?? createLogger({ name: "toolshed-changes" });
    this.#local = new LocalChangeBus(this.#logger);
    this.#channel = options.channel;
    this.#where = safeUrl(options.url);
    const settings = {
      connectTimeout: 2_000,
      // Fail fast while disconnected (publish is fire-and-forget) and keep reconnecting forever.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResubscribe: false,
      retryStrategy: (times: number) => Math.min(200 * times, 2_000),
    };
    this.#pub = new Ctor(options.url, settings);
    this.#sub = new Ctor(options.url, settings);
    for (const redis of [this.#pub, this.#sub]) {
      redis.on("error", (err: Error) => this.#down(err));
      redis.on("close", () => this.#down(new Error("connection lost")));
      redis.on("ready", () => this.#ready());
    }
    // Subscribed again on every (re)connection, since autoResubscribe waits on a queue we turned off.
    this.#sub.on("ready", () => {
      this.#sub.subscribe(this.#channel).catch((err: unknown) => this.#down(err as Error));
    });
    this.#sub.on("message", (channel: string, text: string) => {
      if (channel === this.#channel) this.#receive(text);
    });
  }

  /** Starts connecting in the background; the server does not wait for (or fail on) Redis. */
  static async create(options: RedisChangeBusOptions): Promise<RedisChangeBus> {
    const { Redis } = await import("ioredis");
    return new RedisChangeBus(Redis, options);
  }

  /** Whether events currently cross replicas (both connections up). */
  get connected(): boolean {
    return this.#pub.status === "ready" && this.#sub.status === "ready";
  }

  publish(event: ChangeEvent): void {
    this.#local.publish(event);
    this.#send({ event });
  }

  publishHere(event: ChangeEvent): void {
    this.#local.publish(event);
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.#local.subscribe(listener);
  }

  publishTaskStatus(event: TaskStatusEvent): void {
    this.#local.publishTaskStatus(event);
    this.#send({ task: event });
  }

  subscribeTaskStatus(listener: (event: TaskStatusEvent) => void): () => void {
    return this.#local.subscribeTaskStatus(listener);
  }

  #send(payload: { event: ChangeEvent } | { task: TaskStatusEvent }): void {
    if (this.#closed || this.#pub.status !== "ready") return;
    this.#pub
      .publish(this.#channel, JSON.stringify({ origin: this.#origin, ...payload }))
      .catch((err: unknown) => this.#down(err as Error));
  }

  async close(): Promise<void> {
    this.#closed = true;
    // disconnect(), not quit(): quit waits on a reply that an unreachable Redis never sends.
    this.#pub.disconnect();
    this.#sub.disconnect();
    await this.#local.close();
  }

  #receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.#logger.warn({ channel: this.#channel }, "ignored a change message that is not JSON");
      return;
    }
    const { origin, event, task } = (message ?? {}) as { origin?: unknown; event?: unknown; task?: unknown };
    if (origin === this.#origin) return; // delivered here when it was published
    if (task !== undefined) {
      const status = asTaskStatus(task);
      if (status) this.#local.publishTaskStatus(status);
      else this.#logger.warn({ channel: this.#channel }, "ignored a task status message of an unknown shape");
      return;
    }
    const parsed = asEvent(event);
    if (parsed) this.#local.publish(parsed);
    else this.#logger.warn({ channel: this.#channel }, "ignored a change message of an unknown shape");
  }

  #down(err: Error): void {
    if (this.#closed || this.#up === false) return;
    this.#up = false;
    this.#logger.warn(
      { redis: this.#where, err: err.message },
      "Redis for change notifications is unreachable: clients of this replica are still notified, other replicas' clients are not until it returns",
    );
  }

  #ready(): void {
    if (this.#closed || !this.connected) return;
    if (this.#up === false) {
      this.#logger.info({ redis: this.#where }, "Redis for change notifications is back");
    }
    this.#up = true;
  }
}

const LIST_KINDS: ReadonlySet<string> = new Set([
  "tools_list_changed",
  "prompts_list_changed",
  "resources_list_changed",
]);

/** A change event read off the wire, or undefined when it is not one. */
function asEvent(value: unknown): ChangeEvent | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { kind, uri } = value as { kind?: unknown; uri?: unknown };
  if (typeof kind !== "string") return undefined;
  if (LIST_KINDS.has(kind)) return { kind } as ChangeEvent;
  if (kind === "resource_updated" && typeof uri === "string" && uri.length <= 8192) {
    return { kind, uri };
  }
  return undefined;
}

/** A task status event read off the wire, or undefined when it is not one. */
function asTaskStatus(value: unknown): TaskStatusEvent | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { taskId, owner, task } = value as { taskId?: unknown; owner?: unknown; task?: unknown };
  if (typeof taskId !== "string" || typeof owner !== "string") return undefined;
  if (typeof task !== "object" || task === null || Array.isArray(task)) return undefined;
  const fields = task as Record<string, unknown>;
  if (fields.taskId !== taskId || typeof fields.status !== "string") return undefined;
  return { taskId, owner, task: fields };
}
