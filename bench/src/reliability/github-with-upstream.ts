// github for the reliability suites, with a GitHub to talk to: a loopback GitHub answering from the
// server's recorded fixtures (loopback-github.ts) runs in this same process, then the server's own
// bin starts with GITHUB_API_URL pointing at it (no token: the reads used need none). A repository
// named `slow-<ms>` answers that much later, for the fault suites' slow call. When GITHUB_API_URL is
// already set (the attack suite's hostile GitHub), that one is used and none is started. The
// loopback GitHub writes nothing to stdout, so a stdio run still carries protocol only.
import { startLoopbackGitHub } from "./loopback-github.js";

if (!process.env.GITHUB_API_URL) {
  const github = await startLoopbackGitHub();
  process.env.GITHUB_API_URL = github.url;
}
// Same depth in src/ and dist/, so the path holds for vitest and the built CLI.
await import(new URL("../../node_modules/@toolshed/server-github/dist/bin.js", import.meta.url).href);
