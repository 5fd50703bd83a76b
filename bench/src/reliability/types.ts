// The shapes the reliability suites share: a server under test (its process and how to start it),
// the calls they may make of it, and the attacks on it. Types only, so every suite and every server's
// attack file can name them without importing another suite.
import type { ChildProcess } from "node:child_process";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A server child process with its output captured: stderr as log lines, stdout as bytes. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set for HTTP servers. */
  readonly port: number;
  readonly base: string;
  /** Complete stderr lines so far (the server's log). */
  logLines(): string[];
  /** Every stdout byte, for HTTP servers (a stdio server's stdout is read by its driver). */
  stdoutBytes(): number;
  /** The exit, once it has happened. */
  exit(): Exit | undefined;
  readonly exited: Promise<Exit>;
  /** Sends `signal` (SIGTERM by default) and waits; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

/** A tool call that is safe to repeat at any rate: no side effects, no upstream, quick. */
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * A server under test: how to start it and what it may be asked. Each domain server is one more
 * entry in `TARGETS` (its bin, the flags and env it needs to run offline, its safe calls).
 */
export interface ReliabilityTarget {
  name: string;
  /** The server's bin script, run with the current Node. */
  bin: string;
  /** Flags every run passes (before the transport flags the suites add). */
  args: string[];
  /** Flags made anew for each process, e.g. a data dir of its own (an embedded database locks its file). */
  freshArgs?: () => string[];
  env: Record<string, string>;
  /** Calls the fuzzer mutates and the load test repeats; the first is the load test's call. */
  safeCalls: ToolCall[];
  /** A call that takes about `ms` and can be cut off, for the fault suites; none skips them. */
  slowCall?: (ms: number) => ToolCall;
  /** A call that fails inside the server (logged at warn with its tool name), for the secrets check. */
  failingCall: ToolCall;
  /** Attacks on this server's own domain (SQL writes, SSRF through its URL-taking tools, ...). */
  attacks?: readonly Attack[];
  /** Extra flags for the attack server (e.g. an allow-list for the SSRF attempts to test). */
  attackArgs?: string[];
  /** A loopback upstream for the attack server (hostile content to serve), and the env that points at it. */
  attackUpstream?: () => Promise<{ env: Record<string, string>; close(): Promise<void> }>;
  /**
   * A tool that fetches from an upstream URL, for the upstream-fails-in-every-way fault: the flags
   * that let the server call `base` (with downloads capped at `maxBytes`), and the call for one URL.
   */
  upstream?: {
    args: (base: string, maxBytes: number) => string[];
    call: (url: string, n: number) => ToolCall;
  };
  /** How to run this server on a PostgreSQL URL, for the PostgreSQL stop/restart fault. */
  postgres?: { args: (url: string) => string[]; probe: ToolCall };
}

/** A running server with API-key auth on, two principals, its log captured at debug. */
export interface AttackContext {
  target: ReliabilityTarget;
  server: ServerProcess;
  url: string;
  /** Alice's and Bob's valid keys. */
  alice: string;
  bob: string;
  /** A key with only `<server>:read`: every read-only tool, no other. */
  reader: string;
  /** Every secret the attacks send; none may reach a log line. */
  secrets: string[];
  close(): Promise<void>;
}

export interface AttackOutcome {
  refused: boolean;
  /** What was seen, for the report and the assertion message. */
  detail: string;
}

export interface Attack {
  name: string;
  run(ctx: AttackContext): Promise<AttackOutcome>;
}
