#!/usr/bin/env node
// Build step: a freshly initialised PGlite data directory, gzipped into dist/. A new --data-dir is
// seeded from it instead of running initdb in WebAssembly at first start (seconds, more on a busy
// machine). Made by the same PGlite version the package depends on.
import { writeFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";

const db = await PGlite.create();
const dump = await db.dumpDataDir("gzip");
await db.close();
writeFileSync(
  new URL("../dist/pgdata-template.tar.gz", import.meta.url),
  Buffer.from(await dump.arrayBuffer()),
);
