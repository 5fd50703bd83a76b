// The kit guide's first example, as a file that `pnpm typecheck` compiles and `pnpm lint` lints: the
// part between the two markers is the "Write a server" block of README.md, character for character
// (test/readme-example.test.ts fails when they differ), so the README's example cannot rot.
// #region readme
import { definers, defineServer, packageVersion, ToolshedError, z } from "@toolshed/server";

const configSchema = z.object({ dataDir: z.string().default("./data").describe("Where items live.") }); // --data-dir / TOOLSHED_DATA_DIR
type Config = z.output<typeof configSchema>;
interface Deps {
  store: ItemStore;
}

// Once per server (e.g. in deps.ts): ctx.config and ctx.deps are typed in every handler, and a
// typo there fails to compile. A server whose tools come in groups passes their names as a third
// type (`definers<Config, Deps, "repos" | "issues">()`) and each tool then names its `toolset`.
const { defineTool } = definers<Config, Deps>();

const getItem = defineTool({
  name: "get_item",
  title: "Get an item",
  description:
    "Returns one item by id. Call list_items first to find ids. Fails with not_found for unknown ids.",
  input: z.object({ id: z.string().describe("The item id, e.g. 'it_42'.") }),
  output: z.object({ id: z.string(), name: z.string() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ id }, ctx) => {
    ctx.log.info({ id }, "looking up"); // stderr, and the client if it asked (logging/setLevel or _meta logLevel)
    const item = await ctx.deps.store.get(id, { signal: ctx.signal }); // cancelled on client cancel or timeout
    if (!item) throw new ToolshedError("not_found", `item '${id}' not found; call list_items`);
    return item; // -> structuredContent (validated) + compact text
  },
});

export default defineServer({
  name: "items",
  version: packageVersion(import.meta.url), // the nearest package.json's version, read once
  config: configSchema,
  setup: async ({ config }): Promise<Deps> => ({ store: await openStore(config.dataDir) }), // lazy, once per process
  teardown: (deps) => deps.store.close(),
  tools: [getItem],
});
// src/bin.ts: `#!/usr/bin/env node`, then `main(server)` (main from "@toolshed/server" too).
// #endregion readme

// What the example leaves to the reader: a store of items.
interface ItemStore {
  get(id: string, options: { signal: AbortSignal }): Promise<{ id: string; name: string } | undefined>;
  close(): Promise<void>;
}
declare function openStore(dir: string): Promise<ItemStore>;
