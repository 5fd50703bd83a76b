import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ReliabilityTarget } from "./types.js";
import { DATA_ANALYTICS_ATTACK_ARGS, dataAnalyticsAttacks } from "./data-analytics-attacks.js";
import { exampleApiAttacks } from "./example-api-attacks.js";
import { githubAttacks, startHostileGitHub } from "./github-attacks.js";
import { startHostileEmbeddings, vectorSearchAttacks } from "./vector-search-attacks.js";
import { duckdbAttacks } from "./duckdb-attacks.js";
import { postgresAttacks } from "./postgres-attacks.js";
import { REPLICA_ATTACKS } from "./replica-attacks.js";
import { vectorIngestAttacks } from "./vector-attacks.js";
import { EMBEDDING_DIMENSION, SLOW_EMBEDDINGS, SLOW_FILES } from "./slow-loopback-servers.js";

/** Removed when the run exits, however it exits. */
const tempDirs: string[] = [];
process.once("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory under the system temp dir, removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `toolshed-reliability-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** A server's bin through this package's own dependency link. */
function binOf(pkg: string): string {
  // src/reliability and dist/reliability sit at the same depth, so the path holds for the built CLI
  // and for vitest (which has no import.meta.resolve).
  return fileURLToPath(new URL(`../../node_modules/${pkg}/dist/bin.js`, import.meta.url));
}

/** data-analytics slow calls made so far: each registers a dataset of its own. */
let slowDatasets = 0;

export const TARGETS: readonly ReliabilityTarget[] = [
  {
    name: "everything",
    bin: binOf("@toolshed/fixture-everything"),
    args: [],
    env: {},
    safeCalls: [
      { name: "echo", arguments: { message: "hello" } },
      { name: "fail", arguments: { mode: "not_found" } },
      { name: "slow", arguments: { ms: 1 } },
    ],
    slowCall: (ms) => ({ name: "slow", arguments: { ms } }),
    failingCall: { name: "fail", arguments: { mode: "crash" } },
    // Two replicas sharing Redis: the kit's own checks, so the fixture runs them (replica-attacks.ts).
    attacks: REPLICA_ATTACKS,
  },
  {
    name: "data-analytics",
    bin: binOf("@toolshed/server-data-analytics"),
    // Downloads allowed from the bench's loopback slow file server (slow-loopback-servers.ts), for slowCall.
    args: ["--allow-url", SLOW_FILES.base],
    freshArgs: () => ["--data-dir", tempDir("data-analytics")],
    env: {},
    safeCalls: [
      { name: "query", arguments: { sql: "SELECT 42 AS answer, 'x' AS label" } },
      { name: "validate_json", arguments: { text: '{"a": [1, 2, {"b": null}]}' } },
      { name: "list_datasets", arguments: {} },
      { name: "describe_dataset", arguments: { name: "missing" } },
    ],
    // A real download (a small CSV the file server answers after `ms`) and load; each call a new
    // dataset name, since register_dataset refuses to overwrite one.
    slowCall: (ms) => {
      const n = ++slowDatasets;
      return {
        name: "register_dataset",
        arguments: { name: `slow_${n}`, url: SLOW_FILES.url(ms, `slow_${n}`) },
      };
    },
    failingCall: { name: "query", arguments: { sql: "SELECT * FROM no_such_dataset" } },
    attacks: [...dataAnalyticsAttacks, ...duckdbAttacks, ...postgresAttacks],
    attackArgs: DATA_ANALYTICS_ATTACK_ARGS,
    upstream: {
      args: (base, maxBytes) => [
        "--allow-url",
        base,
        "--max-download-bytes",
        String(maxBytes),
        "--download-timeout-ms",
        "3000",
      ],
      call: (url, n) => ({ name: "register_dataset", arguments: { name: `chaos_${n}`, url } }),
    },
    postgres: {
      // A throwaway private cluster whose only role is its superuser, so the role check is waived.
      args: (url) => ["--postgres-url", url, "--postgres-allow-privileged-role"],
      probe: { name: "query", arguments: { sql: "SELECT 1 AS one" } },
    },
  },
  {
    // No token, and a loopback GitHub answering from the server's recorded fixtures in the same process
    // (see github-with-upstream.ts): get_me answers without a request, an issue_write comment fails cleanly
    // (token check before any request), get_issue and search_repositories get recorded answers, and a
    // missing issue is GitHub's 404. GITHUB_API_URL is empty so the wrapper starts its own GitHub (the
    // attack suite sets it to a hostile one instead).
    name: "github",
    // The built wrapper, from src/ (vitest) and dist/ alike.
    bin: fileURLToPath(new URL("../../dist/reliability/github-with-upstream.js", import.meta.url)),
    args: [],
    env: {
      GITHUB_TOKEN: "",
      GITHUB_PERSONAL_ACCESS_TOKEN: "",
      TOOLSHED_GITHUB_TOKEN: "",
      GITHUB_API_URL: "",
      TOOLSHED_TIMEOUT_SECONDS: "5",
    },
    safeCalls: [
      { name: "get_me", arguments: {} },
      {
        name: "issue_write",
        arguments: { method: "comment", owner: "octo-org", repo: "widgets", issue_number: 1, body: "hi" },
      },
      { name: "get_issue", arguments: { owner: "octo-org", repo: "widgets", issue_number: 3 } },
      { name: "get_issue", arguments: { owner: "octo-org", repo: "widgets", issue_number: 1 } },
      { name: "search_repositories", arguments: { query: "mcp", fields: ["full_name"] } },
    ],
    // A recorded issue from a repository the loopback GitHub answers for only after `ms`.
    slowCall: (ms) => ({
      name: "get_issue",
      arguments: { owner: "octo-org", repo: `slow-${ms}`, issue_number: 3, comments: 0 },
    }),
    failingCall: {
      name: "issue_write",
      arguments: { method: "comment", owner: "o", repo: "r", issue_number: 1, body: "x" },
    },
    attacks: githubAttacks,
    attackUpstream: startHostileGitHub,
  },
  {
    // With its real upstream (the Example API in the same process, see example-api-with-upstream.ts):
    // reads succeed, a missing id is a quick not_found; nothing here creates or deletes.
    name: "example-api",
    // The built wrapper, from src/ (vitest) and dist/ alike.
    bin: fileURLToPath(new URL("../../dist/reliability/example-api-with-upstream.js", import.meta.url)),
    args: [],
    // Empty, so the wrapper starts its own upstream whatever the caller's environment says.
    env: { EXAMPLE_API_BASE_URL: "", EXAMPLE_API_BEARER_TOKEN: "" },
    safeCalls: [
      { name: "list_resources", arguments: { limit: 5 } },
      { name: "search_resources", arguments: { query: "abc", sort_by: "name" } },
      { name: "get_resource", arguments: { id: "no-such-id" } },
    ],
    // A search the upstream answers (with no matches) only after `ms`.
    slowCall: (ms) => ({ name: "search_resources", arguments: { query: `slow-${ms}` } }),
    failingCall: { name: "get_resource", arguments: { id: "no-such-id" } },
    attacks: exampleApiAttacks,
  },
  {
    name: "vector-search",
    bin: binOf("@toolshed/server-vector-search"),
    // Embedded PGlite in a scratch dir; no service. Text is embedded by the OpenAI-compatible
    // embedder against the bench's loopback embeddings API (slow-loopback-servers.ts), which answers at once
    // unless a text asks for a delay: slowCall's, and no offline model to load. Set through env so
    // that the attack server's hostile embeddings URL (attackUpstream) replaces it.
    // One data dir for the run (removed at exit): a fresh PGlite takes seconds to seed.
    args: ["--data-dir", tempDir("vector-search")],
    env: {
      TOOLSHED_EMBEDDER: "openai-compatible",
      TOOLSHED_EMBEDDING_URL: SLOW_EMBEDDINGS.url,
      TOOLSHED_EMBEDDING_ALLOW_PRIVATE: "true",
      TOOLSHED_EMBEDDING_DIMENSION: String(EMBEDDING_DIMENSION),
    },
    safeCalls: [
      { name: "list_collections", arguments: {} },
      { name: "search", arguments: { collection: "missing", vector: [1, 0], top_k: 3 } },
      { name: "get_documents", arguments: { collection: "missing", limit: 5 } },
    ],
    // One embeddings request that the loopback API answers after `ms`.
    slowCall: (ms) => ({ name: "embed_text", arguments: { texts: [`slow-${ms}`] } }),
    failingCall: { name: "get_documents", arguments: { collection: "missing" } },
    attacks: [...vectorSearchAttacks, ...vectorIngestAttacks],
    attackUpstream: startHostileEmbeddings,
  },
];
