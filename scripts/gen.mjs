#!/usr/bin/env node
// `pnpm gen server <name>`: runs the generators in turbo/generators/ with the workspace's own @turbo/gen,
// the same runner `turbo gen` fetches with `pnpm dlx` (so it works offline and needs no pnpm on PATH).
// Positional answers become `--args`; `pnpm gen` alone asks for everything interactively.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [generator, ...rest] = process.argv.slice(2);
const args = generator ? ["run", generator] : ["run"];
if (rest.length) args.push(...(rest[0] === "--args" || rest[0] === "-a" ? rest : ["--args", ...rest]));
const cli = fileURLToPath(new URL("../node_modules/@turbo/gen/dist/cli.js", import.meta.url));
const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
