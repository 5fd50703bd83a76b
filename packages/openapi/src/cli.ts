#!/usr/bin/env node
// toolshed-openapi <document> --out <dir> --name <name> [--include a,b] [--exclude c] [--base-url u] [--max-output-schema-bytes n] [--check]
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OpenApiError } from "./document.js";
import { generate, oldRuntimeAdvice, SEARCH_MODE_ABOVE } from "./generate.js";

const USAGE = `Usage: toolshed-openapi <openapi.yaml|json> --out <server dir> --name <kebab-name> [options]

Writes a Toolshed MCP server with one tool per operation. Files under src/generated/ are rewritten on
every run; hand-written files (src/server.ts, src/overrides.ts, tests, README, package.json) are created
once and then left alone. A server with more than ${SEARCH_MODE_ABOVE} tools starts in search mode: tools/list
shows search_tools, describe_tool and call_tool instead of every tool (--tool-mode all|search|auto).

Options:
  --out <dir>          the server's folder, e.g. servers/my-api (required)
  --name <name>        kebab-case server name: package @toolshed/server-<name> (required)
  --include <list>     only these operations: tool names, operationIds or tag:<tag>; * wildcards; repeatable
  --exclude <list>     leave these out (same patterns); x-mcp: false in the document does the same
  --base-url <url>     default base URL (else the document's first server)
  --max-output-schema-bytes <n>
                       per tool, the most bytes of output JSON Schema shown in tools/list; above it
                       the schema is summarised (top-level fields, types), then left open; 0: no
                       limit (default 1000)
  --check              write nothing; exit 1 if the generated files differ from the ones on disk
  -h, --help           show this help
`;

const say = (line: string) => process.stderr.write(line + "\n");

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: "string" },
      name: { type: "string" },
      include: { type: "string", multiple: true },
      exclude: { type: "string", multiple: true },
      "base-url": { type: "string" },
      "max-output-schema-bytes": { type: "string" },
      check: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const document = positionals[0];
  if (!document || !values.out || !values.name || positionals.length > 1) {
    say(USAGE);
    return 2;
  }
  const list = (v: string[] | undefined) =>
    v
      ?.flatMap((s) => s.split(","))
      .map((s) => s.trim())
      .filter(Boolean);
  const include = list(values.include);
  const exclude = list(values.exclude);
  const result = await generate({
    document,
    outDir: values.out,
    name: values.name,
    ...(include ? { include } : {}),
    ...(exclude ? { exclude } : {}),
    ...(values["base-url"] ? { baseUrl: values["base-url"] } : {}),
    ...(values["max-output-schema-bytes"] !== undefined
      ? { maxOutputSchemaBytes: Number(values["max-output-schema-bytes"]) }
      : {}),
    write: !values.check,
  });
  for (const s of result.skipped) say(`skipped ${s.method.toUpperCase()} ${s.path}: ${s.reason}`);
  if (values.check) {
    const drift: string[] = [...result.stale];
    for (const [path, text] of result.generated) {
      const onDisk = await readFile(join(values.out, path), "utf8").catch(() => undefined);
      if (onDisk !== text) drift.push(path);
    }
    for (const path of drift) say(`out of date: ${path}`);
    if (drift.length) say("re-run toolshed-openapi without --check to update the generated files");
    return drift.length ? 1 : 0;
  }
  say(`${result.operations.length} tools in ${values.out}/src/generated`);
  if (result.operations.length > SEARCH_MODE_ABOVE) {
    say(
      `more than ${SEARCH_MODE_ABOVE} tools: the server starts in search mode (tools/list shows search_tools, describe_tool and call_tool); ` +
        "run it with --tool-mode all to list every tool, or choose fewer with --include",
    );
  }
  for (const path of result.scaffolded) say(`created ${path} (hand-written from now on)`);
  for (const path of result.stale) say(`removed ${path} (no longer generated)`);
  for (const path of result.oldRuntimeImports) say(oldRuntimeAdvice(path));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(
      `toolshed-openapi: ${err instanceof OpenApiError || err instanceof TypeError ? err.message : String(err)}`,
    );
    process.exit(err instanceof OpenApiError ? 2 : 1);
  },
);
