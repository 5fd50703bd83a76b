import { createRuntime } from "@toolshed/server";
import { configSchema } from "./dist/config.js";
import server from "./dist/server.js";
const rt = createRuntime(server, { config: configSchema.parse({}), logLevel: "silent" });
for (const t of rt.toolList) if (process.argv.slice(2).includes(t.name)) console.log(JSON.stringify(t));
