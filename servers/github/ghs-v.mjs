import { createRuntime } from "@toolshed/server";
import { configSchema } from "./dist/config.js";
import server from "./dist/server.js";
const rt = createRuntime(server, { config: configSchema.parse({}), logLevel: "silent" });
let all = JSON.stringify(rt.toolList.map(t=>t.outputSchema));
console.log("full", all.length);
let v2 = all.replace(/\{"type":"(string|number|boolean)"\}/g, "{}");
console.log("scalars any", v2.length);
console.log("no addl", all.replace(/,"additionalProperties":false/g, "").length);
console.log("both", v2.replace(/,"additionalProperties":false/g, "").length);
const flat = (s, depth) => {
  if (s.type === "object" && depth > 0) return { type: "object" };
  if (s.type === "array") return { ...s, items: flat(s.items, depth + 1) };
  if (s.properties) return { ...s, properties: Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, flat(v, depth + 1)])) };
  return s;
};
const B = rt.toolList.map(t => flat(t.outputSchema, 0));
console.log("top-level only", JSON.stringify(B).length);
for (const [i,t] of rt.toolList.entries()) console.log(t.name, JSON.stringify(B[i]).length);
