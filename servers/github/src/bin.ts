#!/usr/bin/env node
import { main, parseCommandLine, UsageError } from "@toolshed/server";
import type { Config } from "./config.js";
import base, { createGithubServer } from "./server.js";

// The tool list depends on the flags, so they are read once here to build the server, and again
// (with every other option) by main().
let server = base;
try {
  const parsed = parseCommandLine(base, process.argv.slice(2), process.env);
  if (parsed.kind === "run") server = createGithubServer(parsed.config as Config);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`toolshed-github: ${err.message} (run toolshed-github --help for the options)\n`);
  process.exit(2);
}
main(server);
