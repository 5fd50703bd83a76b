// Hand-written files of a new generated server: written once, never overwritten by a re-run.
import { envName, envPrefix, isPrivateUrl, RUNTIME_PACKAGE, type EmitContext } from "./emit.js";

export interface ScaffoldOptions {
  /** From the server dir to the document, for the `generate` script. */
  documentPath: string;
  /** Extra generator flags for the `generate` script (--include ...). */
  flags: string[];
  /** From the server dir to tsconfig.base.json; none writes a standalone tsconfig. */
  tsconfigBase: string | undefined;
  /**
   * From the server dir to the workspace's vitest config (its projects are named after their
   * packages); none runs plain `vitest run`.
   */
  vitestConfig?: string | undefined;
  /** The workspace's scripts/check.mjs (typecheck and lint in one process), from the server's folder. */
  checkScript?: string | undefined;
}

const lit = (v: unknown) => JSON.stringify(v, null, 2);

export function scaffoldFiles(ctx: EmitContext, opts: ScaffoldOptions): Map<string, string> {
  const { name } = ctx;
  const prefix = envPrefix(name);
  const files = new Map<string, string>();
  const generate = ["toolshed-openapi", opts.documentPath, "--out", ".", "--name", name, ...opts.flags]
    .map((a) => (/^[\w./:@=,*-]+$/.test(a) ? a : `'${a}'`))
    .join(" ");
  files.set(
    "package.json",
    lit({
      name: `@toolshed/server-${name}`,
      version: "0.1.0",
      description: `Toolshed MCP server for ${ctx.doc.info.title}, generated from its OpenAPI document`,
      license: "MIT",
      type: "module",
      mcpName: `io.github.toolshed-mcp/${name}`,
      engines: { node: ">=20.18.1" },
      repository: {
        type: "git",
        url: "git+https://github.com/toolshed-mcp/toolshed.git",
        directory: `servers/${name}`,
      },
      publishConfig: { access: "public" },
      bin: { [`toolshed-${name}`]: "./dist/bin.js" },
      exports: {
        ".": { types: "./dist/server.d.ts", import: "./dist/server.js" },
        "./package.json": "./package.json",
      },
      main: "./dist/server.js",
      types: "./dist/server.d.ts",
      files: ["dist"],
      scripts: {
        build: "tsc -p tsconfig.build.json",
        typecheck: "tsc --noEmit",
        lint: "eslint .",
        ...(opts.checkScript ? { check: `node ${opts.checkScript}` } : {}),
        // `pnpm --filter <this package> test` runs this server's tests, never nothing.
        test: opts.vitestConfig
          ? `vitest run --config ${opts.vitestConfig} --project @toolshed/server-${name}`
          : "vitest run",
        generate,
      },
      dependencies: {
        "@toolshed/http-client": "workspace:^",
        [RUNTIME_PACKAGE]: "workspace:^",
        "@toolshed/server": "workspace:^",
        zod: "catalog:",
      },
      devDependencies: {
        "@modelcontextprotocol/sdk": "catalog:",
        "@toolshed/openapi": "workspace:^",
        "@toolshed/testing": "workspace:^",
        vitest: "catalog:",
      },
    }) + "\n",
  );
  const base = opts.tsconfigBase
    ? { extends: opts.tsconfigBase }
    : {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: true,
          declaration: true,
          types: ["node"],
        },
      };
  files.set(
    "tsconfig.json",
    lit({
      ...base,
      compilerOptions: { ...(base.compilerOptions ?? {}), noEmit: true },
      include: ["src", "test"],
    }) + "\n",
  );
  files.set(
    "tsconfig.build.json",
    lit({
      ...base,
      compilerOptions: { ...(base.compilerOptions ?? {}), outDir: "dist", rootDir: "src", noEmit: false },
      include: ["src"],
    }) + "\n",
  );
  files.set(
    "src/bin.ts",
    `#!/usr/bin/env node
import { main } from "@toolshed/server";

// Imported here so a mistake in src/overrides.ts is one line on stderr, not a stack trace.
import("./server.js").then(
  ({ default: server }) => main(server),
  (err: unknown) => {
    if (!(err instanceof Error) || err.name !== "OverrideError") throw err;
    process.stderr.write(\`toolshed-${name}: refusing to start: \${err.message}\\n\`);
    process.exit(1);
  },
);
`,
  );
  files.set(
    "src/server.ts",
    `import { defineServer, packageVersion } from "@toolshed/server";
import { applyOverrides, createApiDeps, withSettings, type ApiDeps } from "${RUNTIME_PACKAGE}";
import { api, apiInstructions, apiTitle, configSchema } from "./generated/config.js";
import { generatedTools } from "./generated/tools.js";
import { overrides } from "./overrides.js";

const version = packageVersion(import.meta.url);

/** The generated settings and those src/overrides.ts adds. */
export const settingsSchema = withSettings(configSchema, overrides);
export { configSchema } from "./generated/config.js";
export type { Config } from "./generated/config.js";

export default defineServer({
  name: ${JSON.stringify(name)},
  title: apiTitle,
  version,
  instructions: apiInstructions,
  config: settingsSchema,
  setup: ({ config, metrics }): ApiDeps => createApiDeps(config, api, metrics, overrides),
  teardown: (deps) => deps.http.close(),
  tools: applyOverrides(generatedTools, overrides),
});
`,
  );
  files.set(
    "src/overrides.ts",
    `import type { Overrides } from "${RUNTIME_PACKAGE}";

/**
 * Hand-written changes to the generated server; the generator never touches this file.
 * - settings: new config fields, each with its env var (a token the document does not declare).
 * - headers / query: sent with every request; "{setting}" fills in a setting, e.g.
 *   headers: { authorization: "Bearer {myToken}" }. Left out while a setting they name is unset.
 * - fill: input fields hidden from the model and filled from settings, e.g. { account_id: "{accountId}" }.
 * - tools: by generated tool name, a new name, title, description, field descriptions,
 *   annotations, fill, or output budget.
 */
export const overrides: Overrides = {};
`,
  );
  files.set(
    "test/contract.test.ts",
    `import { runContractTests } from "@toolshed/testing/contract";
import { overriddenNames } from "${RUNTIME_PACKAGE}";
import { overrides } from "../src/overrides.js";
import server, { settingsSchema } from "../src/server.js";

// Port 9 on loopback refuses connections at once: no call in the contract reaches a real API.
runContractTests(server, {
  tools: overriddenNames(${JSON.stringify(ctx.operations.map((o) => o.name))}, overrides),
  config: settingsSchema.parse({ baseUrl: "http://127.0.0.1:9", allowPrivateNetwork: true }),
});
`,
  );
  const envRows = [
    [
      envName(prefix, "baseUrl"),
      `The API's base URL${ctx.baseUrl ? ` (default ${ctx.baseUrl})` : " (required)"}.`,
    ],
    [envName(prefix, "allowPrivateNetwork"), "Allow loopback and private addresses (an internal API)."],
    [envName(prefix, "timeoutMs"), "Longest an API call may take, in milliseconds (default 30000)."],
    ...ctx.credentials.flatMap((c) =>
      c.keys.map((k) => [envName(prefix, k), `Credential for the '${c.scheme}' scheme.`]),
    ),
  ];
  files.set("server.json", lit(serverJson(ctx)) + "\n");
  files.set(
    "README.md",
    `# @toolshed/server-${name}

An MCP server for ${ctx.doc.info.title}, generated by \`toolshed-openapi\` from its OpenAPI document:
${ctx.operations.length} tools, one per operation. Files under \`src/generated/\` are regenerated with
\`pnpm --filter @toolshed/server-${name} generate\`; improve tool texts in \`src/overrides.ts\`.

## Configuration

| env var | meaning |
| ------- | ------- |
${envRows.map(([k, v]) => `| \`${k}\` | ${v} |`).join("\n")}

Every setting is also a flag (\`--base-url\`, …) and a \`TOOLSHED_*\` variable; see \`toolshed-${name} --help\`.

## Use it

Claude Desktop (\`claude_desktop_config.json\`):

\`\`\`json
{ "mcpServers": { "${name}": { "command": "npx", "args": ["-y", "@toolshed/server-${name}"] } } }
\`\`\`

Claude Code: \`claude mcp add ${name} -- npx -y @toolshed/server-${name}\`

HTTP: \`npx -y @toolshed/server-${name} --transport http --port 3000\`, then connect to
\`http://127.0.0.1:3000/mcp\`.
`,
  );
  return files;
}

/** The MCP registry's entry for the server: what npm publishes and the settings a client may set. */
function serverJson(ctx: EmitContext): Record<string, unknown> {
  const { name } = ctx;
  const prefix = envPrefix(name);
  const title = ctx.doc.info.title.trim() || name;
  const env = (
    key: string,
    description: string,
    format: "string" | "boolean" | "number",
    extra: Record<string, unknown> = {},
  ) => ({ name: envName(prefix, key), description, isRequired: false, format, ...extra });
  const variables = [
    ctx.baseUrl
      ? env("baseUrl", `The API's base URL (default ${ctx.baseUrl}).`, "string", { default: ctx.baseUrl })
      : env("baseUrl", "The API's base URL; required, the document names none.", "string", {
          isRequired: true,
        }),
    env(
      "allowPrivateNetwork",
      `Allow loopback and private addresses for the API (default ${isPrivateUrl(ctx.baseUrl)}).`,
      "boolean",
      { default: String(isPrivateUrl(ctx.baseUrl)) },
    ),
    env(
      "timeoutMs",
      "Longest an API call may take, retries included, in milliseconds (default 30000).",
      "number",
      {
        default: "30000",
      },
    ),
    ...ctx.credentials.flatMap((c) =>
      c.keys.map((k) =>
        env(k, `Credential for the '${c.scheme}' security scheme of the API.`, "string", { isSecret: true }),
      ),
    ),
    {
      name: "TOOLSHED_LOG_LEVEL",
      description: "Log level for the JSON lines written to stderr (default info).",
      isRequired: false,
      format: "string",
      default: "info",
      choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
    },
  ];
  const description = `${ctx.operations.length} tools for ${title}, generated from its OpenAPI document.`;
  return {
    $schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    name: `io.github.toolshed-mcp/${name}`,
    title: `Toolshed ${title}`,
    // The registry refuses descriptions longer than 100 characters.
    description: description.length <= 100 ? description : `${description.slice(0, 99)}…`,
    version: "0.1.0",
    repository: {
      url: "https://github.com/toolshed-mcp/toolshed",
      source: "github",
      subfolder: `servers/${name}`,
    },
    packages: [
      {
        registryType: "npm",
        registryBaseUrl: "https://registry.npmjs.org",
        identifier: `@toolshed/server-${name}`,
        version: "0.1.0",
        runtimeHint: "npx",
        transport: { type: "stdio" },
        environmentVariables: variables,
      },
    ],
  };
}
