import { tmpdir } from "node:os";
import { join } from "node:path";
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
  /** A call whose answer repeats `text` (the attacks' session-ownership check); the fixture's echo if unset. */
  echoCall?: (text: string) => ToolCall;
  /** A call that fails and is logged under its tool name (the attacks' log check); the fixture's crash if unset. */
  failingCall?: ToolCall;
  /** A call that takes about `ms` and can be cut off, for the fault suites; none skips them. */
  slowCall?: (ms: number) => ToolCall;
}

/** A server's bin through this package's dependency link (same depth from src/ and dist/). */
function serverBin(dir: string): string {
  return fileURLToPath(new URL(`../../node_modules/@toolshed/server-${dir}/dist/bin.js`, import.meta.url));
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
    name: "vector-search",
    bin: serverBin("vector-search"),
    // Embedded PGlite in a scratch dir; no service, no network (the offline embedder is not loaded
    // by these calls).
    args: ["--data-dir", join(tmpdir(), `toolshed-reliability-vector-search-${process.pid}`)],
    env: {},
    safeCalls: [
      { name: "list_collections", arguments: {} },
      { name: "search", arguments: { collection: "missing", vector: [1, 0], top_k: 3 } },
      { name: "get_documents", arguments: { collection: "missing", limit: 5 } },
    ],
    // "collection '<text>' not found; …" repeats the text.
    echoCall: (text) => ({ name: "collection_info", arguments: { name: text } }),
    failingCall: { name: "get_documents", arguments: { collection: "missing" } },
  },
];
