import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ToolshedError } from "@toolshed/server";
import type { HostReply, HostRequest, HostStats, OpenSettings, OpenValue } from "./engine-protocol.js";

/** How long a statement may ignore an interrupt before its host is killed and restarted. */
export const INTERRUPT_GRACE_MS = 3_000;

type RunRequest = Omit<Extract<HostRequest, { op: "run" }>, "id" | "op">;

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (percentage: number) => void;
}

interface Pending {
  host: ChildProcess;
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (percentage: number) => void;
  /** Why the call is being stopped, when it is. */
  stopping?: "timeout" | "cancelled";
}

/** The built host next to this module, or, when the sources run as TypeScript (tests), in dist. */
function hostEntry(): string {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const here = path.join(dir, "engine-host.js");
  return existsSync(here) ? here : path.join(dir, "..", "..", "dist", "engine", "engine-host.js");
}

/**
 * The server's side of the engine host: forks it, sends it statements, and when it dies (a native
 * crash in DuckDB, or killed because a statement ignored its interrupt) fails the calls it was
 * running with a clear error and starts a fresh host on the same database for the next call.
 */
export class EngineHostClient {
  private host: ChildProcess | undefined;
  private opening: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Hosts killed because a statement ignored its interrupt (their other calls were only bystanders). */
  private readonly killed = new WeakSet<ChildProcess>();
  /** The names (lower case, without schema) of DuckDB's built-in views, as the host reported them. */
  internalViewNames: ReadonlySet<string> = new Set();
  /** How many times a host died under the server (crashes and kills), for tests and metrics. */
  restarts = 0;

  constructor(private readonly settings: OpenSettings) {}

  /** Starts the host and opens the database, failing with DuckDB's error if it cannot. */
  async start(): Promise<void> {
    await this.ensure();
  }

  /** Runs one statement in the host, interrupted at its time limit and killed INTERRUPT_GRACE_MS later. */
  async run(request: RunRequest, options: CallOptions): Promise<unknown> {
    if (options.signal?.aborted) throw new ToolshedError("timeout", "the call was cancelled before it ran");
    const host = await this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const pending: Pending = { host, resolve, reject };
      if (options.onProgress) pending.onProgress = options.onProgress;
      let grace: NodeJS.Timeout | undefined;
      const stop = (why: "timeout" | "cancelled") => {
        if (pending.stopping) return;
        pending.stopping = why;
        host.send({ op: "interrupt", id } satisfies HostRequest);
        grace = setTimeout(() => {
          this.killed.add(host);
          host.kill("SIGKILL");
        }, INTERRUPT_GRACE_MS);
      };
      const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
      const onAbort = () => stop("cancelled");
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        clearTimeout(grace);
        options.signal?.removeEventListener("abort", onAbort);
        this.untrack(id);
      };
      pending.resolve = (value) => {
        settle();
        resolve(value);
      };
      pending.reject = (error) => {
        settle();
        reject(stoppedError(pending.stopping, options.timeoutMs) ?? error);
      };
      this.track(id, pending);
      host.send({ ...request, op: "run", id } satisfies HostRequest);
    });
  }

  /** The host's counters (its parse cache), for tests. */
  async stats(): Promise<HostStats> {
    const host = await this.ensure();
    const id = this.nextId++;
    const value = await new Promise<unknown>((resolve, reject) => {
      this.track(id, { host, resolve, reject });
      host.send({ op: "stats", id } satisfies HostRequest);
    }).finally(() => this.untrack(id));
    return value as HostStats;
  }

  /** Ends the host: it closes DuckDB when its channel closes; killed if it has not ended in 5 s. */
  async close(): Promise<void> {
    this.closed = true;
    const host = this.host ?? (await this.opening?.catch(() => undefined));
    if (!host || host.exitCode !== null || host.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => host.once("exit", () => resolve()));
    const kill = setTimeout(() => host.kill("SIGKILL"), 5_000);
    host.disconnect();
    await exited;
    clearTimeout(kill);
  }

  private ensure(): Promise<ChildProcess> {
    if (this.closed)
      return Promise.reject(new ToolshedError("upstream_unavailable", "the query engine is shut down"));
    if (this.host) return Promise.resolve(this.host);
    this.opening ??= this.spawn().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async spawn(): Promise<ChildProcess> {
    // stdout is ignored: on a stdio server the parent's stdout carries the protocol only.
    // JSON framing: every message is JSON already (rows come from DuckDB's JSON conversion, with
    // NaN and Infinity as text), and Node's "advanced" serializer costs ~60 µs to write a request
    // and ~10 µs to read a reply where JSON takes 1-2 µs, on each side of every call.
    const host = fork(hostEntry(), [], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      serialization: "json",
      execArgv: [],
    });
    host.on("message", (reply: HostReply) => this.onReply(reply));
    host.once("exit", () => this.onExit(host));
    host.once("error", () => host.kill("SIGKILL"));
    // An idle host must not keep the server's process alive; a busy one does (see track).
    host.unref();
    host.channel?.unref();
    const id = this.nextId++;
    const opened = await new Promise<unknown>((resolve, reject) => {
      this.track(id, { host, resolve, reject });
      host.send({ op: "open", id, settings: this.settings } satisfies HostRequest);
    }).finally(() => this.untrack(id));
    this.internalViewNames = new Set(
      (opened as OpenValue).internalViews.map((v) => v.slice(v.indexOf(".") + 1).toLowerCase()),
    );
    this.host = host;
    return host;
  }

  /**
   * Keeps the host (its channel for replies, its process for the exit event) referenced while it
   * has calls to answer; an idle host does not keep the server's process alive.
   */
  private track(id: number, pending: Pending): void {
    this.pending.set(id, pending);
    pending.host.ref();
    pending.host.channel?.ref();
  }

  private untrack(id: number): void {
    const host = this.pending.get(id)?.host;
    this.pending.delete(id);
    if (host && ![...this.pending.values()].some((p) => p.host === host)) {
      host.unref();
      host.channel?.unref();
    }
  }

  private onReply(reply: HostReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if ("progress" in reply) pending.onProgress?.(reply.progress);
    else if (reply.ok) pending.resolve(reply.value);
    else if (reply.refused) pending.reject(new ToolshedError("invalid_input", reply.message));
    else pending.reject(new Error(reply.message));
  }

  private onExit(host: ChildProcess): void {
    if (this.host === host) this.host = undefined;
    const lost = [...this.pending.values()].filter((p) => p.host === host);
    if (this.closed && lost.length === 0) return;
    this.restarts++;
    const message = this.killed.has(host)
      ? "the query engine was restarted because another statement ignored its time limit; retry this call"
      : "the query engine crashed while running this call (or one running beside it) and has been restarted; " +
        "retry once, and if it fails the same way, this statement or its data crashes the engine, so change it " +
        "(for example less deeply nested data or a simpler expression)";
    for (const p of lost) p.reject(new ToolshedError("upstream_unavailable", message));
    // The next call would start a host anyway; starting now spares it the wait.
    if (!this.closed) void this.ensure().catch(() => undefined);
  }
}

function stoppedError(why: Pending["stopping"], timeoutMs: number): ToolshedError | undefined {
  if (why === "timeout") {
    return new ToolshedError(
      "timeout",
      `query stopped after ${timeoutMs} ms (the time limit); narrow it with WHERE or LIMIT, or aggregate first`,
    );
  }
  if (why === "cancelled") return new ToolshedError("timeout", "query cancelled");
  return undefined;
}
