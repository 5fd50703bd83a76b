#!/usr/bin/env node
// `pnpm gen server <name>`: runs the generators in turbo/generators/ with the workspace's own @turbo/gen,
// the same runner `turbo gen` fetches with `pnpm dlx` (so it works offline and needs no pnpm on PATH).
// Positional answers become `--args`; `pnpm gen` alone asks for everything interactively.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [generator, ...rest] = process.argv.slice(2);
if (rest.length === 0 && !process.stdin.isTTY) {
  // Without a terminal the prompts cannot ask; say what to type instead of failing silently.
  process.stderr.write(
    `gen: no ${generator ? "name" : "generator"} given and no terminal to ask on; run: pnpm gen server <name>\n`,
  );
  process.exit(2);
}
const args = generator ? ["run", generator] : ["run"];
if (rest.length) args.push(...(rest[0] === "--args" || rest[0] === "-a" ? rest : ["--args", ...rest]));
const require = createRequire(import.meta.url);
const genPackage = require.resolve("@turbo/gen/package.json");
const cli = join(dirname(genPackage), require(genPackage).bin.gen);
const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
