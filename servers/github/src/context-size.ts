/* `pnpm --filter @toolshed/server-github context-size`: the compact-JSON size of tools/list, the official server's beside it. */
import { createRuntime } from "@toolshed/server";
import { configSchema, type Config } from "./config.js";
import { officialToolsListBytes } from "./official.js";
import server from "./server.js";

/** What tools/list sends for a configuration: the kit's precomputed entries. */
export function toolsListBytes(config: Partial<Config> = {}): { bytes: number; tools: number } {
  const runtime = createRuntime(server, { config: configSchema.parse(config), logLevel: "silent" });
  return { bytes: Buffer.byteLength(JSON.stringify(runtime.toolList)), tools: runtime.toolList.length };
}

if (process.argv[1]?.endsWith("context-size.js")) {
  const lines: [string, Partial<Config>][] = [
    ["all", { toolsets: ["all"] }],
    ["read_only", { readOnly: true }],
    ["dynamic", { dynamicToolsets: true }],
    ["default", {}],
  ];
  // The official server's figures beside ours (from its tool definitions; see official.ts).
  for (const which of ["all", "default"] as const) {
    const { bytes, tools } = officialToolsListBytes(which);
    process.stdout.write(`official_tools_${which}=${tools}\nofficial_tools_list_bytes_${which}=${bytes}\n`);
  }
  for (const [name, config] of lines) {
    const { bytes, tools } = toolsListBytes(config);
    process.stdout.write(`tools_${name}=${tools}\ntools_list_bytes_${name}=${bytes}\n`);
  }
}
