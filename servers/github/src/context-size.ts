/* `pnpm --filter @toolshed/server-github context-size`: the compact-JSON size of tools/list. */
import { createRuntime } from "@toolshed/server";
import type { Config } from "./config.js";
import { createGithubServer } from "./server.js";

/** What tools/list sends for a configuration: the kit's precomputed entries. */
export function toolsListBytes(config: Partial<Config> = {}): { bytes: number; tools: number } {
  const runtime = createRuntime(createGithubServer(config), { logLevel: "silent" });
  return { bytes: Buffer.byteLength(JSON.stringify(runtime.toolList)), tools: runtime.toolList.length };
}

if (process.argv[1]?.endsWith("context-size.js")) {
  const lines: [string, Partial<Config>][] = [
    ["all", { toolsets: ["all"] }],
    ["read_only", { readOnly: true }],
    ["default", {}],
  ];
  for (const [name, config] of lines) {
    const { bytes, tools } = toolsListBytes(config);
    process.stdout.write(`tools_${name}=${tools}\ntools_list_bytes_${name}=${bytes}\n`);
  }
}
