import { randomBytes } from "node:crypto";
import { ToolshedError } from "@toolshed/errors";
import type { Logger } from "@toolshed/logging";
import { RpcError } from "../rpc-error.js";
import {
  MemoryTaskStore,
  TERMINAL,
  type TaskMutation,
  type TaskRecord,
  type TaskRerun,
  type TaskStore,
} from "./store.js";

/** The extension's identifier, in capabilities (both sides) and in -32021 errors. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

export interface TaskSettings {
  /** Where tasks live; in this process's memory unless set (RedisTaskStore for replicas). */
  store?: TaskStore;
  /** How long a task and its result are kept after it starts; 1 hour unless set. */
  ttlMs?: number;
  /** The polling interval suggested to clients; 1 s unless set. */
  pollIntervalMs?: number;
  /** How often the running replica renews its lease and reads answers and cancels; 250 ms (a quarter of a shorter lease). */
  watchMs?: number;
  /**
   * A live task whose replica has not renewed its lease for this long is handed over (a read-only or
   * idempotent tool, run again by the replica that notices) or reported failed; 15 s.
   */
  leaseMs?: number;
  /** How many times one task may be handed over to another replica before it fails; 2 unless set. */
  maxHandovers?: number;
  /**
   * How often this replica looks in a shared store (one with `lapsed()`, e.g. Redis) for tasks whose
   * replica stopped, to hand them over or fail them although no client reads them (a client waiting
   * on a listen stream, or one that polls later); 5 s unless set, 0 never (then only a read does).
   */
  sweepMs?: number;
  /** Live tasks one caller may keep at once; 100 unless set. */
  maxPerOwner?: number;
  /**
   * A task-capable call still working after this long becomes a task; one that finishes (or asks
   * the client) sooner is answered directly, as a quick call should be. 500 ms unless set.
   */
  graceMs?: number;
}

/** Told each time a task's status changes (on the replica that wrote it), with the record as stored. */
export type TaskStatusListener = (record: TaskRecord) => void;

export const DEFAULT_TASK_TTL_MS = 3_600_000;
export const DEFAULT_MAX_HANDOVERS = 2;
export const DEFAULT_TASK_SWEEP_MS = 5_000;
/** The most lapsed tasks one sweep takes on, so a sweep stays short whatever piled up. */
const SWEEP_BATCH = 16;

/**
 * Runs a handed-over task's call again on this replica, attached to `execution`; returns what aborts
 * that run (a tasks/cancel, its deadline, shutdown). Set by the runtime, which knows the tools.
 */
export type TaskResumer = (record: TaskRecord, execution: TaskExecution) => (reason: Error) => void;

/** A task the client sees: the Task fields plus the payload of its status (tasks/get). */
export function detailedTask(record: TaskRecord): Record<string, unknown> {
  return {
    taskId: record.taskId,
    status: record.status,
    ...(record.statusMessage === undefined ? {} : { statusMessage: record.statusMessage }),
    createdAt: record.createdAt,
    lastUpdatedAt: record.lastUpdatedAt,
    ttlMs: record.ttlMs,
    pollIntervalMs: record.pollIntervalMs,
    ...(record.status === "input_required" ? { inputRequests: record.inputRequests } : {}),
    ...(record.status === "completed" && record.result ? { result: record.result } : {}),
    ...(record.status === "failed" && record.error ? { error: record.error } : {}),
  };
}

/** The answer to the tools/call that created a task (a flat CreateTaskResult). */
export function createTaskResult(record: TaskRecord): Record<string, unknown> {
  return {
    resultType: "task",
    taskId: record.taskId,
    status: record.status,
    createdAt: record.createdAt,
    lastUpdatedAt: record.lastUpdatedAt,
    ttlMs: record.ttlMs,
    pollIntervalMs: record.pollIntervalMs,
  };
}

function unknownTask(taskId: string): RpcError {
  return new RpcError(
    -32602,
    `no task '${taskId}' is known to this server for this caller (it may have expired); start the call again`,
  );
}

/**
 * The tasks of one server process: creates them, runs the replica-side watch over the ones this
 * replica executes (lease renewal, answers, cancels written by any replica), and answers the
 * tasks/* methods from the shared store.
 */
export class TaskManager {
  readonly store: TaskStore;
  readonly ttlMs: number;
  readonly pollIntervalMs: number;
  readonly leaseMs: number;
  readonly graceMs: number;
  readonly maxHandovers: number;
  /** Runs handed-over tasks again; without it a lapsed task fails (as it does for write tools). */
  resumer: TaskResumer | undefined;
  readonly #watchMs: number;
  readonly #maxPerOwner: number;
  readonly #running = new Map<string, TaskExecution>();
  #timer: NodeJS.Timeout | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  /** Set by release() at shutdown: this replica takes on no more tasks. */
  #stopping = false;

  constructor(
    private readonly logger: Logger,
    settings: TaskSettings = {},
    private readonly onStatus: TaskStatusListener = () => {},
  ) {
    this.store = settings.store ?? new MemoryTaskStore();
    this.ttlMs = settings.ttlMs ?? DEFAULT_TASK_TTL_MS;
    this.pollIntervalMs = settings.pollIntervalMs ?? 1000;
    this.leaseMs = settings.leaseMs ?? 15_000;
    // At least three renewals per lease, so a short lease (tests) does not lapse on a live replica.
    this.#watchMs = settings.watchMs ?? Math.max(20, Math.min(250, Math.floor(this.leaseMs / 4)));
    this.maxHandovers = settings.maxHandovers ?? DEFAULT_MAX_HANDOVERS;
    this.#maxPerOwner = settings.maxPerOwner ?? 100;
    this.graceMs = settings.graceMs ?? 500;
    const sweepMs = settings.sweepMs ?? DEFAULT_TASK_SWEEP_MS;
    if (this.store.lapsed && sweepMs > 0) {
      this.#sweeper = setInterval(() => void this.sweep(), sweepMs).unref();
    }
  }

  /**
   * Stores a new working task for `owner`; resolves once any replica can read it. `rerun` (for a
   * tool safe to run twice) lets another replica run the call again if this one stops.
   */
  async create(
    owner: string,
    tool: string,
    onCancel: (reason: Error) => void,
    rerun?: TaskRerun,
  ): Promise<TaskExecution> {
    const now = new Date();
    const record: TaskRecord = {
      taskId: randomBytes(18).toString("base64url"),
      owner,
      tool,
      status: "working",
      createdAt: now.toISOString(),
      lastUpdatedAt: now.toISOString(),
      ttlMs: this.ttlMs,
      pollIntervalMs: this.pollIntervalMs,
      inputRequests: {},
      inputResponses: {},
      issuedKeys: [],
      leaseUntil: now.getTime() + this.leaseMs,
      ...(rerun ? { rerun } : {}),
    };
    if (!(await this.store.create(record, this.#maxPerOwner))) {
      throw new ToolshedError(
        "rate_limited",
        `you already keep ${this.#maxPerOwner} tasks on this server; wait for them to finish and expire, or cancel some with tasks/cancel`,
        { retryAfterMs: this.ttlMs },
      );
    }
    return this.#run(record, onCancel);
  }

  #run(record: TaskRecord, onCancel: (reason: Error) => void): TaskExecution {
    const execution = new TaskExecution(this, record, onCancel, () => this.#running.delete(record.taskId));
    this.#running.set(record.taskId, execution);
    this.#timer ??= setInterval(() => void this.#watch(), this.#watchMs).unref();
    return execution;
  }

  /**
   * tasks/get: the task as the client sees it. A live task whose replica died (its lease lapsed) is
   * handed over here when its tool is safe to run again, else failed.
   */
  async get(taskId: string, owner: string): Promise<Record<string, unknown>> {
    let record = await this.#owned(taskId, owner);
    if (!TERMINAL.has(record.status) && record.leaseUntil < Date.now() && !this.#running.has(taskId)) {
      record = (await this.#recover(taskId)) ?? record;
    }
    return detailedTask(record);
  }

  /**
   * A task whose replica stopped: claimed by this replica and run again (compare-and-set on the
   * record, so of several replicas noticing at once exactly one wins), or failed when its tool may
   * not run twice, the hand-overs are used up, or this replica cannot run it.
   */
  async #recover(taskId: string): Promise<TaskRecord | undefined> {
    const claim = randomBytes(12).toString("base64url");
    const resumable = this.resumer !== undefined;
    const written = await this.write(taskId, (r) => {
      if (TERMINAL.has(r.status) || r.leaseUntil >= Date.now()) return undefined;
      const handovers = r.handovers ?? 0;
      if (resumable && r.rerun && handovers < this.maxHandovers) {
        return {
          ...r,
          status: "working",
          statusMessage: `resumed on another server instance after the one running it stopped (hand-over ${handovers + 1} of at most ${this.maxHandovers})`,
          // Questions of the stopped run die with it; the new run asks again what it needs.
          inputRequests: {},
          inputResponses: {},
          handovers: handovers + 1,
          claim,
          leaseUntil: Date.now() + this.leaseMs,
          lastUpdatedAt: new Date().toISOString(),
        };
      }
      const since = new Date(r.leaseUntil - this.leaseMs).toISOString();
      const after = handovers > 0 ? `, after ${handovers} hand-over${handovers === 1 ? "" : "s"},` : "";
      return settle(r, "failed", {
        error: {
          code: -32603,
          message: `the server instance running this task stopped before it finished (no heartbeat since ${since})${after}; call the tool again`,
        },
      });
    });
    if (written?.claim === claim && !TERMINAL.has(written.status) && this.resumer) {
      let abort: (reason: Error) => void = () => {};
      const execution = this.#run(written, (reason) => abort(reason));
      this.logger.info(
        { tool: written.tool, handover: written.handovers },
        "took over a task whose server instance stopped; running its call again here",
      );
      try {
        abort = this.resumer(written, execution);
      } catch (err) {
        this.logger.error({ err, tool: written.tool }, "could not resume a handed-over task");
        await execution.fail({
          code: -32603,
          message: "the task could not be resumed on another server instance; call the tool again",
        });
      }
    }
    return written;
  }

  /**
   * One sweep of a shared store: tasks whose replica stopped (lease lapsed) and that this replica is
   * not running are handed over or failed as a read would do it, at most SWEEP_BATCH of them, so a
   * task nobody polls does not stay `working` until its ttl and a listen stream hears of it. Every
   * replica sweeps; the compare-and-set in #recover lets exactly one act on each task.
   */
  async sweep(): Promise<void> {
    if (this.#sweeping || this.#stopping || !this.store.lapsed) return;
    this.#sweeping = true;
    try {
      const ids = await this.store.lapsed(Date.now(), SWEEP_BATCH);
      for (const id of ids) {
        if (this.#stopping) break;
        if (!this.#running.has(id)) await this.#recover(id);
      }
    } catch (err) {
      // At shutdown the store may close under a sweep in flight: nothing to report then.
      if (!this.#stopping) {
        this.logger.warn(
          { err },
          "could not sweep for tasks whose server instance stopped; trying at the next sweep",
        );
      }
    } finally {
      this.#sweeping = false;
    }
  }

  /** tasks/update: answers for open questions; unknown or already answered keys are ignored. */
  async update(taskId: string, owner: string, responses: Record<string, unknown>): Promise<void> {
    await this.#owned(taskId, owner);
    await this.write(taskId, (r) => {
      if (TERMINAL.has(r.status)) return undefined;
      const taken = Object.keys(responses).filter((key) => key in r.inputRequests);
      if (taken.length === 0) return undefined;
      for (const key of taken) {
        delete r.inputRequests[key];
        r.inputResponses[key] = responses[key];
      }
      if (Object.keys(r.inputRequests).length === 0 && r.status === "input_required") r.status = "working";
      r.lastUpdatedAt = new Date().toISOString();
      return r;
    });
    void this.#running.get(taskId)?.watch();
  }

  /** tasks/cancel: a live task turns cancelled and its handler's signal is aborted; a finished one stays. */
  async cancel(taskId: string, owner: string): Promise<void> {
    await this.#owned(taskId, owner);
    await this.write(taskId, (r) =>
      TERMINAL.has(r.status)
        ? undefined
        : settle(r, "cancelled", { statusMessage: "cancelled by the client" }),
    );
    void this.#running.get(taskId)?.watch();
  }

  /** The task as tasks/get would return it to `owner`, or undefined when it is not theirs (or gone). */
  async peek(taskId: string, owner: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.get(taskId, owner);
    } catch (err) {
      if (err instanceof RpcError && err.code === -32602) return undefined;
      throw err;
    }
  }

  /**
   * `store.update`, telling the status listener when the status changed, or the open questions
   * of an input_required task did (task status notifications): every such write goes through here.
   */
  async write(taskId: string, mutate: TaskMutation): Promise<TaskRecord | undefined> {
    let changed = false;
    const written = await this.store.update(taskId, (r) => {
      const status = r.status;
      const asked = Object.keys(r.inputRequests).join("\n");
      const next = mutate(r);
      changed =
        next !== undefined &&
        (next.status !== status ||
          (next.status === "input_required" && Object.keys(next.inputRequests).join("\n") !== asked));
      return next;
    });
    if (changed && written) {
      try {
        this.onStatus(written);
      } catch (err) {
        this.logger.warn({ err }, "could not publish a task's status change");
      }
    }
    return written;
  }

  /**
   * Shutdown, before the running handlers are aborted: tasks that can be handed over are given up
   * (their lease ends now) rather than ended with the shutdown's error, so the next replica that
   * reads one runs its call again. Resolves to how many were given up.
   */
  async release(): Promise<number> {
    // Not to take back, in a sweep, the tasks given up here.
    this.#stopping = true;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const released = await Promise.all([...this.#running.values()].map((e) => e.release()));
    return released.filter(Boolean).length;
  }

  async close(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await this.store.close();
  }

  async #owned(taskId: string, owner: string): Promise<TaskRecord> {
    const record = typeof taskId === "string" && taskId !== "" ? await this.store.get(taskId) : undefined;
    // Another caller's task is as unknown as a missing one: its existence is not revealed.
    if (!record || record.owner !== owner) throw unknownTask(String(taskId));
    return record;
  }

  async #watch(): Promise<void> {
    if (this.#running.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    await Promise.all([...this.#running.values()].map((e) => e.watch()));
  }

  /** @internal for TaskExecution */
  log(err: unknown, message: string): void {
    this.logger.warn({ err }, message);
  }
}

/** A record moved to a terminal status, its open questions dropped. */
function settle(
  record: TaskRecord,
  status: "completed" | "failed" | "cancelled",
  fields: Partial<TaskRecord>,
): TaskRecord {
  return {
    ...record,
    ...fields,
    status,
    inputRequests: {},
    inputResponses: {},
    lastUpdatedAt: new Date().toISOString(),
  };
}

interface Waiter {
  read: (response: unknown) => unknown;
  request: unknown;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * One task running on this replica: the handler's view of it (status message, questions) and the
 * watch that renews its lease, hands it answers and notices a cancel written by any replica.
 */
export class TaskExecution {
  readonly taskId: string;
  readonly record: TaskRecord;
  /** This run's token (record.claim); once the record holds another, the task was handed over. */
  readonly #claim: string | undefined;
  #message: string | undefined;
  #messageWritten: string | undefined;
  readonly #waiters = new Map<string, Waiter>();
  readonly #unclaimed = new Map<string, unknown>();
  #done = false;
  /** Given up at shutdown (release()): the aborted handler's outcome is not written. */
  #released = false;
  #watching: Promise<void> | undefined;

  constructor(
    private readonly manager: TaskManager,
    record: TaskRecord,
    private readonly onCancel: (reason: Error) => void,
    private readonly forget: () => void,
  ) {
    this.taskId = record.taskId;
    this.record = record;
    this.#claim = record.claim;
  }

  /** Whether `r` still belongs to this run (not finished, not handed over to another replica). */
  #ours(r: TaskRecord): boolean {
    return !TERMINAL.has(r.status) && r.claim === this.#claim;
  }

  /** Progress from the handler: becomes the task's statusMessage at the next watch. */
  setStatusMessage(message: string): void {
    this.#message = message;
  }

  /**
   * A question inside the task: the task turns input_required with it in `inputRequests` (under a
   * key never used before in this task), and the promise resolves with `read(answer)` once a
   * tasks/update on any replica delivers it. An answer `read` refuses is asked again under a new key.
   */
  ask<T>(key: string, request: unknown, read: (response: unknown) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      void this.#issue(key, request, {
        read,
        request,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
    });
  }

  async #issue(key: string, request: unknown, waiter: Waiter): Promise<void> {
    let issued = key;
    try {
      const written = await this.manager.write(this.taskId, (r) => {
        if (!this.#ours(r)) return undefined;
        let unique = key;
        for (let n = 2; r.issuedKeys.includes(unique); n++) unique = `${key}.${n}`;
        issued = unique;
        r.issuedKeys.push(unique);
        r.inputRequests[unique] = request;
        r.status = "input_required";
        r.lastUpdatedAt = new Date().toISOString();
        return r;
      });
      if (!written || !this.#ours(written)) {
        waiter.reject(new ToolshedError("timeout", "the task was cancelled", { retryable: false }));
        return;
      }
      this.#waiters.set(issued, waiter);
      // An answer a watch took before the waiter was registered.
      if (this.#unclaimed.has(issued)) {
        const answer = this.#unclaimed.get(issued);
        this.#unclaimed.delete(issued);
        this.#deliver(issued, answer);
      }
    } catch (err) {
      waiter.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** One watch round (also run at once after a local tasks/update or tasks/cancel). */
  watch(): Promise<void> {
    return (this.#watching ??= this.#watchOnce().finally(() => (this.#watching = undefined)));
  }

  async #watchOnce(): Promise<void> {
    if (this.#done) return;
    let answers: Record<string, unknown> = {};
    let record: TaskRecord | undefined;
    try {
      record = await this.manager.write(this.taskId, (r) => {
        if (!this.#ours(r)) return undefined;
        answers = r.inputResponses;
        r.inputResponses = {};
        r.leaseUntil = Date.now() + this.manager.leaseMs;
        if (this.#message !== undefined && this.#message !== this.#messageWritten) {
          r.statusMessage = this.#message;
          r.lastUpdatedAt = new Date().toISOString();
        }
        return r;
      });
    } catch (err) {
      this.manager.log(err, "could not renew a task's lease; retrying at the next watch");
      return;
    }
    if (!record || !this.#ours(record)) {
      // Cancelled (here or on another replica), expired, or handed over to another replica after
      // this one missed its lease (a stall, not a crash): stop the handler, so the call runs once.
      this.#stop(
        new ToolshedError(
          "timeout",
          !record
            ? "the task expired before it finished"
            : TERMINAL.has(record.status)
              ? "the task was cancelled"
              : "the task was handed over to another server instance",
          { retryable: false },
        ),
      );
      return;
    }
    this.#messageWritten = record.statusMessage;
    for (const [key, answer] of Object.entries(answers)) this.#deliver(key, answer);
  }

  #deliver(key: string, answer: unknown): void {
    const waiter = this.#waiters.get(key);
    if (!waiter) {
      this.#unclaimed.set(key, answer);
      return;
    }
    this.#waiters.delete(key);
    const value = waiter.read(answer);
    // An answer of the wrong shape (or one the schema refuses) is asked again, under a new key.
    if (value === undefined) void this.#issue(key, waiter.request, waiter);
    else waiter.resolve(value);
  }

  #stop(reason: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.forget();
    for (const waiter of this.#waiters.values()) waiter.reject(reason);
    this.#waiters.clear();
    this.onCancel(reason);
  }

  /** Gives the task up for another replica to run again, if it can be (release() of the manager). */
  async release(): Promise<boolean> {
    if (this.#done || !this.record.rerun) return false;
    this.#done = true;
    this.#released = true;
    this.forget();
    try {
      const written = await this.manager.write(this.taskId, (r) =>
        this.#ours(r) ? { ...r, leaseUntil: 0 } : undefined,
      );
      return written?.leaseUntil === 0;
    } catch (err) {
      this.manager.log(err, "could not give up a task at shutdown; its lease will lapse instead");
      return false;
    }
  }

  /** The handler finished: the task completes with the tool result (isError results included). */
  complete(result: Record<string, unknown>): Promise<void> {
    return this.#settle("completed", { result });
  }

  /** The handler failed with a JSON-RPC error. */
  fail(error: { code: number; message: string; data?: unknown }): Promise<void> {
    return this.#settle("failed", { error });
  }

  async #settle(status: "completed" | "failed", fields: Partial<TaskRecord>): Promise<void> {
    if (this.#released) return;
    this.#done = true;
    try {
      await this.manager.write(this.taskId, (r) =>
        !this.#ours(r)
          ? undefined
          : settle(r, status, {
              ...fields,
              ...(this.#message === undefined ? {} : { statusMessage: this.#message }),
            }),
      );
    } catch (err) {
      this.manager.log(
        err,
        "could not store a task's outcome; it will be reported failed when its lease lapses",
      );
    } finally {
      // Only now: while the outcome is being written the task is still this replica's, so its own
      // sweep or a read here does not take a lease that lapsed meanwhile and run the call again.
      this.forget();
    }
  }
}
