#!/usr/bin/env node
// The command's entry, checked in so that `pnpm install` links it before dist/ is built: a fresh
// clone's `pnpm --filter <server> generate` then finds `toolshed-openapi` (dist/cli.js does the work).
await import("../dist/cli.js");
