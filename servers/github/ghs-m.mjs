import { createRuntime } from "@toolshed/server";
import { configSchema } from "./dist/config.js";
import server from "./dist/server.js";
const rt = createRuntime(server, { config: configSchema.parse(JSON.parse(process.argv[2] ?? "{}")), logLevel: "silent" });
const b = (x) => Buffer.byteLength(JSON.stringify(x));
const tot = {};
for (const t of rt.toolList) {
  for (const k of Object.keys(t)) tot[k] = (tot[k] ?? 0) + b(t[k]);
  if (process.argv[3]) console.log(t.name, b(t), "desc", b(t.description), "in", b(t.inputSchema), "out", b(t.outputSchema));
}
console.log(tot, b(rt.toolList));
