import {
  SUBSCRIPTION_ID_META_KEY,
  type JSONRPCNotification,
  type Transport,
} from "@modelcontextprotocol/server";
import type { AuthInfo } from "@modelcontextprotocol/server";
import type { ForwardTasks } from "../define.js";
import { closingMeta } from "../http/listen-follow.js";
import { principalFromAuthInfo } from "../principal.js";
import { RpcError } from "../rpc-error.js";
import { openTaskId, taskOwnerKey } from "./forwarded.js";
import type { Runtime } from "../runtime.js";
import { declaresTasks, missingTasksCapability } from "./wire.js";

/**
 * Task status notifications (the tasks extension): a `subscriptions/listen` request whose filter
 * carries `taskIds` is sent `notifications/tasks`, the task as tasks/get returns it, each time one
 * of those tasks changes status. The SDK's listen routers know only the four change kinds, so the
 * serving entries (HTTP: tasks/listen-http.ts, stdio: stdio.ts) add this part to their streams.
 */

export const TASK_STATUS_METHOD = "notifications/tasks";

/** The most task ids one listen request may name. */
export const MAX_LISTEN_TASK_IDS = 256;

type Send = (notification: JSONRPCNotification) => void;

/** Whether a JSON-RPC message is a subscriptions/listen request naming task ids. */
export function listensToTasks(
  message: unknown,
): message is { id: string | number; params: Record<string, unknown> } {
  if (typeof message !== "object" || message === null) return false;
  const { method, id, params } = message as { method?: unknown; id?: unknown; params?: unknown };
  if (method !== "subscriptions/listen" || (typeof id !== "string" && typeof id !== "number")) return false;
  const filter = (params as { notifications?: unknown } | undefined)?.notifications;
  return typeof filter === "object" && filter !== null && "taskIds" in filter;
}

/** The acknowledged notification of subscription `id` with the honored task ids added to its filter. */
export function withTaskIds(ack: JSONRPCNotification, taskIds: readonly string[]): JSONRPCNotification {
  const params = (ack.params ?? {}) as { notifications?: Record<string, unknown> };
  return {
    ...ack,
    params: { ...params, notifications: { ...params.notifications, taskIds: [...taskIds] } },
  };
}

/** Whether `message` is the acknowledgement of listen subscription `id`. */
export function acknowledges(message: unknown, id: unknown): message is JSONRPCNotification {
  const m = message as { method?: unknown; params?: { _meta?: Record<string, unknown> } };
  return (
    m?.method === "notifications/subscriptions/acknowledged" &&
    m.params?._meta?.[SUBSCRIPTION_ID_META_KEY] === id
  );
}

/**
 * The task part of one listen subscription. Opened before the stream is (events are buffered from
 * then on, so a change between reading the tasks and starting the stream is not lost), started
 * once the acknowledgement is sent: it then sends each task's current state, and every change after.
 */
export class TaskListen {
  /** The task ids this subscription honors: the caller's own tasks among those asked for. */
  readonly taskIds: readonly string[];
  readonly #initial: Record<string, unknown>[];
  #buffered: Record<string, unknown>[] | undefined = [];
  #send: Send | undefined;
  #subscriptionId: string | number | undefined;
  /** Per task, the last state sent: its lastUpdatedAt and what it was. */
  readonly #last = new Map<string, { at: string; state: string }>();
  #unsubscribe: (() => void) | undefined;

  /** What ends following the forwarded tasks among them (the forward definition's `follow`). */
  readonly #forwarded: (() => void)[];
  /** A forwarded task could no longer be followed: the serving entry ends the listen once started. */
  #lost = false;
  #onLost: (() => void) | undefined;

  private constructor(initial: Record<string, unknown>[], forwarded: Map<string, () => void>) {
    this.#initial = initial;
    this.taskIds = [...initial.map((t) => t.taskId as string), ...forwarded.keys()];
    this.#forwarded = [...forwarded.values()];
  }

  /**
   * Checks a listen request's task part and opens it for `owner`: refused (-32021) when the request
   * does not declare the tasks extension, -32602 when taskIds is not a list of ids. Ids of unknown
   * tasks, or of another caller's, are left out of `taskIds` (the acknowledgement says which count).
   */
  static async open(
    rt: Runtime,
    params: Record<string, unknown>,
    owner: string,
    auth?: AuthInfo,
  ): Promise<TaskListen> {
    if (!declaresTasks(params._meta as Record<string, unknown> | undefined)) {
      throw missingTasksCapability("task status notifications (subscriptions/listen with taskIds)");
    }
    const ids = (params.notifications as { taskIds?: unknown }).taskIds;
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
      throw new RpcError(
        -32602,
        "subscriptions/listen: notifications.taskIds must be a list of task ids, as CreateTaskResult returned them",
      );
    }
    if (ids.length > MAX_LISTEN_TASK_IDS) {
      throw new RpcError(
        -32602,
        `subscriptions/listen names ${ids.length} task ids; at most ${MAX_LISTEN_TASK_IDS} per listen, open another listen for the rest`,
      );
    }
    const wanted = new Set(ids as string[]);
    let listen: TaskListen | undefined;
    const early: Record<string, unknown>[] = [];
    // Subscribed before the tasks are read, so no change falls between the two.
    const unsubscribe = rt.changes.subscribeTaskStatus((event) => {
      if (event.owner !== owner || !wanted.has(event.taskId)) return;
      if (listen) listen.#receive(event.task);
      else early.push(event.task);
    });
    const forwarded = new Map<string, () => void>();
    let lostEarly = false;
    try {
      const found = await Promise.all([...wanted].map((id) => rt.tasks.peek(id, owner)));
      const own = found.filter((t): t is Record<string, unknown> => t !== undefined);
      const known = new Set(own.map((t) => t.taskId as string));
      // Forwarded tasks (the gateway's): followed where they run, under the caller's id.
      const tasks = rt.def.forward?.tasks;
      const follow = tasks?.follow?.bind(tasks);
      if (follow) {
        const others = [...wanted].filter((id) => !known.has(id));
        await Promise.all(
          others.map(async (id) => {
            const end = await followForwarded(
              rt,
              follow,
              id,
              auth,
              (task) => {
                const sealed = { ...task, taskId: id };
                if (listen) listen.#receive(sealed);
                else early.push(sealed);
              },
              () => {
                if (listen) listen.#lose();
                else lostEarly = true;
              },
            );
            if (end) forwarded.set(id, end);
          }),
        );
      }
      listen = new TaskListen(own, forwarded);
    } catch (err) {
      unsubscribe();
      for (const end of forwarded.values()) end();
      throw err;
    }
    listen.#unsubscribe = unsubscribe;
    listen.#lost = lostEarly;
    const honored = new Set(listen.taskIds);
    for (const task of early) if (honored.has(task.taskId as string)) listen.#receive(task);
    if (honored.size === 0) listen.close();
    return listen;
  }

  /** Sends every task's current state on subscription `id`, and each change after. */
  start(subscriptionId: string | number, send: Send): void {
    if (this.#send || !this.#unsubscribe) return;
    this.#subscriptionId = subscriptionId;
    this.#send = send;
    for (const task of this.#initial) this.#deliver(task);
    const buffered = this.#buffered ?? [];
    this.#buffered = undefined;
    for (const task of buffered) this.#deliver(task);
    if (this.#lost) this.#onLost?.();
  }

  /**
   * What the serving entry does when a forwarded task among these can no longer be followed: end
   * the listen with its result (so the caller polls or listens again). Runs once started.
   */
  whenLost(end: () => void): void {
    this.#onLost = end;
  }

  #lose(): void {
    if (this.#lost) return;
    this.#lost = true;
    if (this.#send) this.#onLost?.();
  }

  close(): void {
    for (const end of this.#forwarded.splice(0)) end();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#send = undefined;
    this.#buffered = undefined;
  }

  #receive(task: Record<string, unknown>): void {
    if (this.#buffered) this.#buffered.push(task);
    else this.#deliver(task);
  }

  #deliver(task: Record<string, unknown>): void {
    const send = this.#send;
    if (!send) return;
    const id = task.taskId as string;
    const at = String(task.lastUpdatedAt);
    const state = `${at} ${String(task.status)} ${Object.keys(task.inputRequests ?? {}).join(",")}`;
    const last = this.#last.get(id);
    // A state already sent, or one older than it (a buffered event the initial read already saw).
    if (last !== undefined && (state === last.state || at < last.at)) return;
    this.#last.set(id, { at, state });
    send({
      jsonrpc: "2.0",
      method: TASK_STATUS_METHOD,
      params: { ...task, _meta: { [SUBSCRIPTION_ID_META_KEY]: this.#subscriptionId } },
    });
  }
}

/**
 * Follows forwarded task `sealed` (the id the caller holds) through the forward definition, when it
 * is one this caller was given; a failure leaves it out (as an unknown task), logged.
 */
async function followForwarded(
  rt: Runtime,
  follow: NonNullable<ForwardTasks["follow"]>,
  sealed: string,
  auth: AuthInfo | undefined,
  onTask: (task: Record<string, unknown>) => void,
  lost: () => void,
): Promise<(() => void) | undefined> {
  const routed = openTaskId(rt, sealed, taskOwnerKey(auth));
  if (routed === undefined) return undefined;
  const deps = rt.openedDeps ?? (await rt.deps());
  const ctx = {
    principal: auth ? principalFromAuthInfo(auth) : undefined,
    signal: new AbortController().signal,
  };
  try {
    return await follow(deps, routed, ctx, onTask, lost);
  } catch (err) {
    rt.logger.debug({ err }, "a forwarded task could not be followed; the listen leaves it out");
    return undefined;
  }
}

/**
 * Task status notifications on a stdio connection: the SDK's stdio entry serves subscriptions/listen
 * (and its cancellation) for the change kinds; this wraps its wire so a listen naming task ids gets
 * them in its acknowledgement and is sent `notifications/tasks`. Returns what ends them all.
 */
export function serveTaskListensOnPipe(rt: Runtime, wire: Transport): () => void {
  if (!rt.servesTasks) return () => {};
  /** Listens opened and passed to the entry, not yet acknowledged (or refused) by it. */
  const pending = new Map<string | number, TaskListen>();
  const active = new Map<string | number, TaskListen>();
  const end = (id: unknown) => {
    for (const listens of [pending, active]) {
      listens.get(id as string | number)?.close();
      listens.delete(id as string | number);
    }
  };
  const send = wire.send.bind(wire);
  const notify = (n: JSONRPCNotification) => void send(n).catch(() => {});
  wire.send = async (message, options) => {
    if ("method" in message) {
      const id = message.params?._meta?.[SUBSCRIPTION_ID_META_KEY];
      const listen = typeof id === "string" || typeof id === "number" ? pending.get(id) : undefined;
      if (listen && acknowledges(message, id)) {
        pending.delete(id as string | number);
        active.set(id as string | number, listen);
        // A forwarded task no longer followed: the listen is closed, as the entry closes one (its
        // result), and the entry's router forgets it (a cancellation only the entry sees).
        listen.whenLost(() => {
          if (active.get(id as string | number) !== listen) return;
          void wire
            .send({
              jsonrpc: "2.0",
              id: id as string | number,
              result: { resultType: "complete", _meta: closingMeta(rt, id as string | number) },
            })
            .catch(() => {});
          onmessage?.({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id } });
        });
        await send(withTaskIds(message, listen.taskIds), options);
        listen.start(id as string | number, notify);
        return;
      }
    } else if ("id" in message && message.id !== undefined) {
      // An error (refused listen), or the closing result of a subscription the entry tears down.
      end(message.id);
    }
    return send(message, options);
  };
  const onmessage = wire.onmessage;
  wire.onmessage = (message, extra) => {
    if ("method" in message && message.method === "notifications/cancelled" && !("id" in message)) {
      end((message.params as { requestId?: unknown } | undefined)?.requestId);
    }
    if (!listensToTasks(message)) {
      onmessage?.(message, extra);
      return;
    }
    void TaskListen.open(rt, message.params, "").then(
      (listen) => {
        if (listen.taskIds.length > 0) pending.set(message.id, listen);
        onmessage?.(message, extra);
      },
      (err: unknown) => {
        sendError(send, message.id, RpcError.from(err));
      },
    );
  };
  return () => {
    for (const listen of [...pending.values(), ...active.values()]) listen.close();
    pending.clear();
    active.clear();
  };
}

/** Answers request `id` with a JSON-RPC error (a refused listen: the entry never sees it). */
function sendError(send: Transport["send"], id: string | number, e: RpcError): void {
  void send({
    jsonrpc: "2.0",
    id,
    error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) },
  }).catch(() => {});
}
