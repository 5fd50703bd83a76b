#!/usr/bin/env node
import { main } from "@toolshed/server";

// Imported here so a mistake in src/overrides.ts is one line on stderr, not a stack trace.
import("./server.js").then(
  ({ default: server }) => main(server),
  (err: unknown) => {
    if (!(err instanceof Error) || err.name !== "OverrideError") throw err;
    process.stderr.write(`toolshed-example-api: refusing to start: ${err.message}\n`);
    process.exit(1);
  },
);
