/**
 * MCP Apps (SEP-1865, the `io.modelcontextprotocol/ui` extension): a tool names a `ui://` resource,
 * an HTML page the host renders in a sandboxed iframe and feeds the tool's result over postMessage.
 * The kit shows the link (`_meta.ui.resourceUri` on tools/list) and the `ui://` resources in
 * resources/list only to clients that declare the extension; other clients see the server as before.
 */

/** The extension's id in `capabilities.extensions`. */
export const MCP_APPS_EXTENSION = "io.modelcontextprotocol/ui";

/** The MIME type of an MCP App's HTML resource. */
export const MCP_APP_MIME_TYPE = "text/html;profile=mcp-app";

/** Whether client capabilities declare MCP Apps with the HTML profile (`mimeTypes` is required). */
export function declaresMcpApps(capabilities: Readonly<Record<string, unknown>> | undefined): boolean {
  const extensions = capabilities?.extensions as Record<string, { mimeTypes?: unknown }> | undefined;
  const mimeTypes = extensions?.[MCP_APPS_EXTENSION]?.mimeTypes;
  return Array.isArray(mimeTypes) && mimeTypes.includes(MCP_APP_MIME_TYPE);
}

/** Whether a resource URI is an MCP App's (`ui://`). */
export function isAppResourceUri(uri: string): boolean {
  return uri.startsWith("ui://");
}
