#!/usr/bin/env node
/**
 * The benchmark's upstream: a plain node:http server on 127.0.0.1 answering every GET with the
 * same small JSON document. Run as a child process so it never shares the clients' event loop.
 * Prints `{"port":N}` once listening; exits when its stdin closes (the parent is gone) or on SIGTERM.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** About the size of a trimmed GitHub repository object: the kind of answer a tool fetches. */
const DOCUMENT = {
  id: 1296269,
  name: "hello-world",
  full_name: "octocat/hello-world",
  private: false,
  description: "This your first repo!",
  fork: false,
  default_branch: "main",
  language: "TypeScript",
  stargazers_count: 80,
  forks_count: 9,
  open_issues_count: 0,
  topics: ["octocat", "atom", "electron", "api"],
  owner: { login: "octocat", id: 1, type: "User", site_admin: false },
  pushed_at: "2011-01-26T19:06:43Z",
  created_at: "2011-01-26T19:01:12Z",
  updated_at: "2011-01-26T19:14:43Z",
  ok: true,
};

const body = Buffer.from(JSON.stringify(DOCUMENT));
const headers = { "content-type": "application/json; charset=utf-8", "content-length": String(body.length) };

const server = createServer((req, res) => {
  // Drain any request body, then answer; keep-alive stays on.
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
// Idle between rounds must not close the clients' pooled connections.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
