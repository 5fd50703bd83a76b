import { createRuntime } from "@toolshed/server";
import { configSchema } from "./dist/config.js";
import server from "./dist/server.js";
const rt = createRuntime(server, { config: configSchema.parse({}), logLevel: "silent" });
const all = JSON.stringify(rt.toolList.map(t=>t.inputSchema));
const m = all.match(/"description":"[^"]*"/g); console.log("descs", m.length, m.join("").length);
const mx = all.match(/,?"m(ax|in)imum":\d+/g); console.log("minmax", mx.length, mx.join("").length);
const d = all.match(/"default":[^,]*,/g); console.log("defaults", d.length, d.join("").length);
for (const pat of ['{"type":"string"}','"type":"string"','"type":"integer"','"required":']) console.log(pat, all.split(pat).length-1);
