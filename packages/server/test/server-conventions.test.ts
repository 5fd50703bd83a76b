// The conventions of the root README's "Conventions for server authors", checked in every server,
// the new-server template, the OpenAPI generator's runtime and the kit's fixture:
// - typed defineTool/defineResource/definePrompt come from one `definers<Config, Deps>()` call, never
//   from a wrapper written by hand (the wrappers this replaced let typos in ctx.deps compile);
// - the kit's API, ToolshedError included, comes from @toolshed/server, not from the packages under it;
// - a server reads its version with `packageVersion(import.meta.url)`, not with createRequire.
// (ctx.log's argument order is the type's to enforce: test/definers.test.ts.)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist") return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts(\.hbs)?$/.test(name) ? [path] : [];
  });
}

const servers = readdirSync(join(root, "servers"))
  .filter((name) => statSync(join(root, "servers", name)).isDirectory())
  .map((name) => ({ name, files: sources(join(root, "servers", name, "src")) }));
const codeBases = [
  ...servers,
  { name: "template", files: sources(join(root, "turbo/generators/templates/server/src")) },
  // The runtime every generated server imports (example-api's tools are operationTool calls).
  { name: "openapi runtime", files: sources(join(root, "packages/openapi-runtime/src")) },
];

/** What a hand-written definer looks like: a define* function, or a function taking a definition type. */
const HAND_WRITTEN = [
  /\bfunction\s+define\w*/,
  /\(\s*\w+\s*:\s*(Omit<\s*)?(ToolDefinition|FixedResourceDefinition|TemplateResourceDefinition|ResourceDefinition|PromptDefinition)</,
];
/**
 * Decorators: functions that take a finished definition and return it with its handler wrapped (not a
 * definer: the definition they take was made by the typed definers). Named here, one by one.
 */
const DECORATORS = ["announcesDatasetWrite"];
function withoutDecorators(text: string): string {
  return DECORATORS.reduce(
    (acc, name) => acc.replace(new RegExp(`function\\s+${name}\\s*<[\\s\\S]*?\\)\\s*:`, "g"), ""),
    text,
  );
}
/** The untyped definers (config and deps unknown) imported straight from the kit. */
const UNTYPED_IMPORT =
  /import\s*\{[^}]*\b(defineTool|defineResource|definePrompt)\b[^}]*\}\s*from\s*"@toolshed\/server"/;

describe("servers use the kit's definers", () => {
  it("finds the servers and the template to check", () => {
    expect(servers.map((s) => s.name)).toEqual(
      expect.arrayContaining(["data-analytics", "example-api", "github", "vector-search"]),
    );
  });

  it.each(codeBases)("$name writes no definer by hand and imports no untyped one", ({ files }) => {
    const offenders = files.flatMap((file) => {
      const text = withoutDecorators(readFileSync(file, "utf8"));
      return [...HAND_WRITTEN, UNTYPED_IMPORT]
        .filter((pattern) => pattern.test(text))
        .map((pattern) => `${relative(root, file)}: ${String(pattern)}`);
    });
    expect(offenders).toEqual([]);
  });

  it.each(codeBases)("$name calls definers<…>() once, if it defines anything", ({ files }) => {
    const texts = files.map((file) => readFileSync(file, "utf8"));
    const calls = texts.flatMap((text) => text.match(/\bdefiners<[^>]+>\(\)/g) ?? []);
    // A server whose tools all come from forwarding (the gateway) defines none and needs no definers.
    const defines = texts.some((text) => /\bdefine(Tool|Resource|Prompt)\(/.test(text));
    expect(calls).toHaveLength(defines ? 1 : 0);
  });
});

// The kit-built servers whose definition file these conventions name (the OpenAPI runtime has none:
// each generated server's src/server.ts is the scaffold's, checked in packages/openapi's tests).
const fixture = {
  name: "fixture everything",
  files: sources(join(root, "packages/testing/fixtures/everything/src")),
};
const kitServers = [...servers, codeBases.find((c) => c.name === "template")!, fixture];

describe("servers keep the kit's conventions", () => {
  it.each([...codeBases, fixture])("$name imports the kit's API from @toolshed/server alone", ({ files }) => {
    const offenders = files
      .filter((file) => /from\s*"@toolshed\/errors"/.test(readFileSync(file, "utf8")))
      .map((file) => relative(root, file));
    expect(offenders, "import ToolshedError & co. from @toolshed/server").toEqual([]);
  });

  it.each(kitServers)("$name reads its version with packageVersion(import.meta.url)", ({ files }) => {
    const definition = files.find((file) => /[\\/]src[\\/]server\.ts(\.hbs)?$/.test(file));
    expect(definition, "a src/server.ts").toBeDefined();
    expect(readFileSync(definition!, "utf8")).toMatch(/\bpackageVersion\(import\.meta\.url\)/);
    const byHand = files.filter((file) =>
      /createRequire[\s\S]*package\.json|from\s*"[^"]*package\.json"/.test(readFileSync(file, "utf8")),
    );
    expect(byHand.map((file) => relative(root, file))).toEqual([]);
  });
});
