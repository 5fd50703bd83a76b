import { fileURLToPath } from "node:url";

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
  env: Record<string, string>;
  /** Calls the fuzzer mutates and the load test repeats; the first is the load test's call. */
  safeCalls: ToolCall[];
  /** A call that fails inside the server (and is logged), for the secrets-in-logs attack; default `fail` crash. */
  failingCall?: ToolCall;
  /** A call that takes about `ms` and can be cut off, for the fault suites; none skips them. */
  slowCall?: (ms: number) => ToolCall;
}

function fixtureBin(): string {
  // Through this package's own dependency link; src/reliability and dist/reliability sit at the same
  // depth, so the path holds for the built CLI and for vitest (which has no import.meta.resolve).
  return fileURLToPath(
    new URL("../../node_modules/@toolshed/fixture-everything/dist/bin.js", import.meta.url),
  );
}

export const TARGETS: readonly ReliabilityTarget[] = [
  {
    name: "everything",
    bin: fixtureBin(),
    args: [],
    env: {},
    safeCalls: [
      { name: "echo", arguments: { message: "hello" } },
      { name: "fail", arguments: { mode: "not_found" } },
      { name: "slow", arguments: { ms: 1 } },
    ],
    slowCall: (ms) => ({ name: "slow", arguments: { ms } }),
  },
  {
    // With its real upstream (the Example API in the same process, see example-api-with-upstream.ts):
    // reads succeed, a missing id is a quick not_found; nothing here creates or deletes.
    name: "example-api",
    // The built wrapper, from src/ (vitest) and dist/ alike.
    bin: fileURLToPath(new URL("../../dist/reliability/example-api-with-upstream.js", import.meta.url)),
    args: [],
    env: {},
    safeCalls: [
      { name: "list_resources", arguments: { limit: 5 } },
      { name: "search_resources", arguments: { query: "abc", sort_by: "name" } },
      { name: "get_resource", arguments: { id: "no-such-id" } },
    ],
    failingCall: { name: "get_resource", arguments: { id: "no-such-id" } },
  },
];
