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

function serverBin(dir: string): string {
  return fileURLToPath(new URL(`../../node_modules/@toolshed/server-${dir}/dist/bin.js`, import.meta.url));
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
    // Offline: the upstream address refuses connections at once, so no call has side effects; calls
    // either stop at the input schema or come back as a quick upstream_unavailable tool error.
    name: "example-api",
    bin: serverBin("example-api"),
    args: [],
    env: { EXAMPLE_API_BASE_URL: "http://127.0.0.1:9" },
    safeCalls: [
      { name: "search_resources", arguments: { query: "ab" } },
      { name: "list_resources", arguments: { limit: 0 } },
      { name: "get_resource", arguments: { id: "no-such-id" } },
    ],
    failingCall: { name: "get_resource", arguments: { id: "no-such-id" } },
  },
];
