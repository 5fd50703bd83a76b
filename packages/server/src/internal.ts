/**
 * `@toolshed/server/internal`: what the kit's sibling packages (`@toolshed/testing`, bench) and
 * tests need of its insides. Servers never import it: it carries no compatibility promise and may
 * change in any release. Named exports only, like the public entry (`index.ts`).
 */
export { connect } from "./connection.js";
export type { Connection, ConnectOptions, Network } from "./connection.js";
export { Runtime } from "./runtime.js";
export { serveHttp } from "./http/app.js";
export { serveStdio } from "./stdio.js";
export { definitionProblems, isSelfDescribing } from "./validate-definition.js";
export { defaultToolScopes, toolScopesOf } from "./tool-scopes.js";
export { traceLogFields } from "./tracing.js";
export { hintsOf, wireAnnotations } from "./tool-json.js";
