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
  /** A call that takes about `ms` and can be cut off, for the fault suites; none skips them. */
  slowCall?: (ms: number) => ToolCall;
  /** A call whose answer quotes `message` (default: the fixture's `echo`), for the session attacks. */
  echoCall?: (message: string) => ToolCall;
  /** A call that fails and is logged (default: the fixture's `fail` crash), for the log-secrets attack. */
  failingCall?: ToolCall;
}

function fixtureBin(): string {
  // Through this package's own dependency link; src/reliability and dist/reliability sit at the same
  // depth, so the path holds for the built CLI and for vitest (which has no import.meta.resolve).
  return fileURLToPath(
    new URL("../../node_modules/@toolshed/fixture-everything/dist/bin.js", import.meta.url),
  );
}

/** A server's built bin in this repository; src/reliability and dist/reliability sit at the same depth. */
function serverBin(dir: string): string {
  return fileURLToPath(new URL(`../../../servers/${dir}/dist/bin.js`, import.meta.url));
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
    // No token and an API URL where nothing listens: get_me answers without a request; the other calls
    // fail cleanly (token checks before any request; connection refused, then the breaker, for reads).
    name: "github",
    bin: serverBin("github"),
    args: [],
    env: {
      GITHUB_TOKEN: "",
      GITHUB_PERSONAL_ACCESS_TOKEN: "",
      TOOLSHED_GITHUB_TOKEN: "",
      GITHUB_API_URL: "http://127.0.0.1:9",
      TOOLSHED_TIMEOUT_SECONDS: "2",
    },
    safeCalls: [
      { name: "get_me", arguments: {} },
      {
        name: "add_issue_comment",
        arguments: { owner: "octo-org", repo: "widgets", issue_number: 1, body: "hi" },
      },
      { name: "get_issue", arguments: { owner: "octo-org", repo: "widgets", issue_number: 1 } },
      { name: "search_repositories", arguments: { query: "mcp", fields: ["full_name"] } },
    ],
    // The error of a read names the path, so it quotes the owner.
    echoCall: (message) => ({ name: "get_issue", arguments: { owner: message, repo: "r", issue_number: 1 } }),
    failingCall: {
      name: "add_issue_comment",
      arguments: { owner: "o", repo: "r", issue_number: 1, body: "x" },
    },
  },
];
