// The run-time half of @toolshed/openapi: what every generated server imports. Its import graph is
// node:, @toolshed/server and @toolshed/http-client only (never the generator, yaml or prettier).
export { createApiDeps } from "./api.js";
export type { ApiConfig, ApiDeps, ApiInfo, CredentialSpec, Metrics } from "./api.js";
export { defineTool, operationTool } from "./operation.js";
export type { OperationSpec } from "./operation.js";
export { applyOverrides, overriddenNames, OverrideError, withSettings } from "./overrides.js";
export type { Overrides, SettingOverride, ToolOverride } from "./overrides.js";
export { fillTemplate } from "./templates.js";
