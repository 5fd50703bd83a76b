#!/usr/bin/env node
// `pnpm gen server <name>`: runs the generators in turbo/generators/ with the workspace's own @turbo/gen,
// the same runner `turbo gen` fetches with `pnpm dlx` (so it works offline and needs no pnpm on PATH).
// Positional answers become `--args`; `pnpm gen` alone asks for everything interactively.
// `pnpm gen server --from-openapi <document> <name> [flags]` runs the `openapi` generator instead.
// `pnpm gen remove <name> [--force]` runs the `remove` generator: undoes either (exit 2 when it refuses).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [generator, ...rest] = process.argv.slice(2);
if (rest.length === 0 && !process.stdin.isTTY) {
  // Without a terminal the prompts cannot ask; say what to type instead of failing silently.
  process.stderr.write(
    `gen: no ${generator ? "name" : "generator"} given and no terminal to ask on; run: pnpm gen ${generator === "remove" ? "remove" : "server"} <name>\n`,
  );
  process.exit(2);
}
const require = createRequire(import.meta.url);
const fromOpenApi = rest.findIndex((a) => a === "--from-openapi" || a.startsWith("--from-openapi="));
let args;
if (generator === "server" && fromOpenApi >= 0) {
  // `pnpm gen server --from-openapi <document> <name> [toolshed-openapi flags]`: build the generator, then
  // the `openapi` generator in turbo/generators/config.ts answers name, document and flags.
  const flag = rest[fromOpenApi];
  const inline = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : undefined;
  const others = rest.filter((_, i) => i !== fromOpenApi && (inline !== undefined || i !== fromOpenApi + 1));
  const document = inline ?? rest[fromOpenApi + 1];
  const [name, ...flags] = others;
  if (!document || !name || document.startsWith("-") || name.startsWith("-")) {
    process.stderr.write(
      "gen: usage: pnpm gen server --from-openapi <document> <name> [--include …] [--base-url …]\n",
    );
    process.exit(2);
  }
  // pnpm runs scripts from the root; the document is named from where the command was typed.
  const from = process.env.INIT_CWD ?? process.cwd();
  const built = buildOpenApi();
  if (built !== 0) {
    process.stderr.write("gen: building @toolshed/openapi failed (above); fix that, then rerun\n");
    process.exit(built);
  }
  args = ["run", "openapi", "--args", name, resolve(from, document), JSON.stringify(flags)];
} else if (generator === "remove") {
  // `pnpm gen remove <name> [--force]`: the flag becomes the generator's second answer.
  const force = rest.includes("--force");
  const others = rest.filter((a) => a !== "--force");
  if (others.length !== 1 || others[0].startsWith("-")) {
    process.stderr.write("gen: usage: pnpm gen remove <name> [--force]\n");
    process.exit(2);
  }
  args = ["run", "remove", "--args", others[0], force ? "force" : "no"];
} else {
  args = generator ? ["run", generator] : ["run"];
  if (rest.length) args.push(...(rest[0] === "--args" || rest[0] === "-a" ? rest : ["--args", ...rest]));
}
const genPackage = require.resolve("@turbo/gen/package.json");
const cli = join(dirname(genPackage), require(genPackage).bin.gen);
const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);

/**
 * Builds the generator (tsc; it imports nothing of ours, so none of turbo's ^build chain is needed) unless
 * its dist is newer than every source file. Returns the exit status.
 */
function buildOpenApi() {
  const dir = join(root, "packages/openapi");
  const cli = join(dir, "dist/cli.js");
  const newest = Math.max(
    ...["package.json", "tsconfig.build.json"].map((f) => statSync(join(dir, f)).mtimeMs),
    ...readdirSync(join(dir, "src"), { recursive: true }).map((f) => statSync(join(dir, "src", f)).mtimeMs),
  );
  if (existsSync(cli) && statSync(cli).mtimeMs >= newest) return 0;
  const tsc = createRequire(join(dir, "package.json")).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: dir, stdio: "inherit" });
  return r.status ?? 1;
}
