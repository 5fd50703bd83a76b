/**
 * Where tasks (the `io.modelcontextprotocol/tasks` extension) live: one record per task, shared by
 * every replica that can answer `tasks/get`, `tasks/update` and `tasks/cancel`. In memory by default;
 * Redis (redis-store.ts) when replicas share one, so a task started through one replica is polled,
 * answered and cancelled through another.
 */

export type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

export const TERMINAL: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);

/** Everything kept about one task. Only the kit writes it; clients see `detailedTask()` of it. */
export interface TaskRecord {
  taskId: string;
  /** Who started it: the principal's id under auth, "" without (then the unguessable id is the guard). */
  owner: string;
  tool: string;
  status: TaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
  /** Questions to the client still open (MRTR input requests), by key. */
  inputRequests: Record<string, unknown>;
  /** Answers delivered by tasks/update that the running handler has not taken yet. */
  inputResponses: Record<string, unknown>;
  /** Every question key ever issued, so a key is never reused and late answers are ignored. */
  issuedKeys: string[];
  /** The CallToolResult of a completed task (isError results included). */
  result?: Record<string, unknown>;
  /** The JSON-RPC error of a failed task. */
  error?: { code: number; message: string; data?: unknown };
  /** The executing replica renews this (epoch ms); a lapsed lease on a live task means its replica died. */
  leaseUntil: number;
  /** What a hand-over needs to run the call again; kept only for read-only or idempotent tools. */
  rerun?: TaskRerun;
  /** How many times another replica took the task over after the one running it stopped. */
  handovers?: number;
  /** The current run's token: a run whose token is no longer the record's was handed over and stops. */
  claim?: string;
}

/**
 * The call as it was made, for a replica that runs it again. No credential: the caller's identity
 * and scopes as the auth layer established them (the bearer token or API key is never stored).
 */
export interface TaskRerun {
  args: Record<string, unknown>;
  /** The SDK AuthInfo of the call without its token: clientId, scopes, claims, principal key. */
  auth?: { clientId: string; scopes: string[]; extra?: Record<string, unknown> };
  /** The client capabilities the request declared (its `_meta` envelope). */
  capabilities?: Record<string, unknown>;
  /** Answers the call had before it became a task (questions asked on the call itself). */
  answers?: Record<string, unknown>;
}

/** What a mutation returns: the new record to write, or undefined to leave the record as it is. */
export type TaskMutation = (record: TaskRecord) => TaskRecord | undefined;

export interface TaskStore {
  /**
   * Stores a new task; resolves once any replica's `get` would find it. Refuses (false) when the
   * owner already keeps `maxPerOwner` live tasks.
   */
  create(record: TaskRecord, maxPerOwner: number): Promise<boolean>;
  get(taskId: string): Promise<TaskRecord | undefined>;
  /** Atomically reads, changes and writes one record; resolves to the record as stored after it. */
  update(taskId: string, mutate: TaskMutation): Promise<TaskRecord | undefined>;
  /**
   * Ids of live tasks whose lease ended before `now`, longest lapsed first, at most `limit`: what a
   * replica's sweep takes over when no client reads them. A store shared by replicas implements it;
   * without it (one process's memory, no other replica) a lapsed task is noticed only when read.
   */
  lapsed?(now: number, limit: number): Promise<string[]>;
  close(): Promise<void>;
}

/** Milliseconds from now until the record may be dropped: its ttl from creation. */
export function expiresAt(record: TaskRecord): number {
  return Date.parse(record.createdAt) + record.ttlMs;
}

/** The default store: one process's memory; tasks vanish with it. */
export class MemoryTaskStore implements TaskStore {
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #byOwner = new Map<string, Set<string>>();
  #sweptAt = 0;

  create(record: TaskRecord, maxPerOwner: number): Promise<boolean> {
    this.#sweep();
    const owned = this.#byOwner.get(record.owner) ?? new Set<string>();
    if (owned.size >= maxPerOwner) return Promise.resolve(false);
    owned.add(record.taskId);
    this.#byOwner.set(record.owner, owned);
    this.#tasks.set(record.taskId, structuredClone(record));
    return Promise.resolve(true);
  }

  get(taskId: string): Promise<TaskRecord | undefined> {
    const record = this.#live(taskId);
    return Promise.resolve(record ? structuredClone(record) : undefined);
  }

  update(taskId: string, mutate: TaskMutation): Promise<TaskRecord | undefined> {
    const record = this.#live(taskId);
    if (!record) return Promise.resolve(undefined);
    const next = mutate(structuredClone(record));
    if (next) this.#tasks.set(taskId, structuredClone(next));
    return Promise.resolve(structuredClone(next ?? record));
  }

  close(): Promise<void> {
    this.#tasks.clear();
    this.#byOwner.clear();
    return Promise.resolve();
  }

  #live(taskId: string): TaskRecord | undefined {
    const record = this.#tasks.get(taskId);
    if (record && expiresAt(record) <= Date.now()) {
      this.#drop(record);
      return undefined;
    }
    return record;
  }

  #drop(record: TaskRecord): void {
    this.#tasks.delete(record.taskId);
    const owned = this.#byOwner.get(record.owner);
    owned?.delete(record.taskId);
    if (owned?.size === 0) this.#byOwner.delete(record.owner);
  }

  /** Drops expired tasks (at most once a second, on create), so memory is bounded by what is created. */
  #sweep(): void {
    const now = Date.now();
    if (now - this.#sweptAt < 1000) return;
    this.#sweptAt = now;
    for (const record of this.#tasks.values()) if (expiresAt(record) <= now) this.#drop(record);
  }
}
