export { generate, generatedOnDisk } from "./generate.js";
export type { GenerateOptions, GenerateResult } from "./generate.js";
export { loadDocument, parseDocument, OpenApiError } from "./document.js";
export type { OpenApiDocument, Schema } from "./document.js";
export { collectOperations, collectCredentials, annotationsFor } from "./operations.js";
export type { Operation, Parameter, Body, Credential, SelectOptions, Skipped } from "./operations.js";
export { toolName, snakeCase, uniqueNames, MAX_TOOL_NAME } from "./names.js";
export { zodExpression } from "./zod-emit.js";
export { GENERATED_MARK } from "./emit.js";
