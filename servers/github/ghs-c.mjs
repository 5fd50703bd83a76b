import { createRuntime } from "@toolshed/server";
import { configSchema } from "./dist/config.js";
import server from "./dist/server.js";
const rt = createRuntime(server, { config: configSchema.parse({}), logLevel: "silent" });
const all = JSON.stringify(rt.toolList.map(t=>t.outputSchema));
for (const pat of ['"additionalProperties":false','{"type":"string"}','{"type":"number"}','{"type":"boolean"}','"type":"object"','"properties":','"type":"array"','"items":']) console.log(pat, all.split(pat).length-1, (all.split(pat).length-1)*pat.length);
for (const pat of ['"url":{"type":"string"}','"author_association":{"type":"string"}','"body_truncated":{"type":"string"}']) console.log(pat, all.split(pat).length-1, (all.split(pat).length-1)*pat.length);
