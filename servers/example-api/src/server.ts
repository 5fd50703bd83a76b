import { applyOverrides, createApiDeps, withSettings, type ApiDeps } from "@toolshed/openapi-runtime";
import { defineServer, packageVersion } from "@toolshed/server";
import { api, apiTitle, configSchema } from "./generated/config.js";
import { generatedTools } from "./generated/tools.js";
import { overrides } from "./overrides.js";

const version = packageVersion(import.meta.url);

/** The generated settings and those src/overrides.ts adds. */
export const settingsSchema = withSettings(configSchema, overrides);
export { configSchema } from "./generated/config.js";
export type { Config } from "./generated/config.js";

export default defineServer({
  name: "example-api",
  title: apiTitle,
  version,
  instructions:
    "Manages resources (name, description, category) in the Example API. Browse with list_resources (paged) or find by text with search_resources; read one with get_resource; add with create_resource; change with update_resource (replaces all fields); remove with delete_resource. Ids come from list, search or create.",
  config: settingsSchema,
  setup: ({ config, metrics }): ApiDeps => createApiDeps(config, api, metrics, overrides),
  teardown: (deps) => deps.http.close(),
  tools: applyOverrides(generatedTools, overrides),
});
