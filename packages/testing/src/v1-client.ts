import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

/**
 * The MCP SDK v1 client (`@modelcontextprotocol/sdk` 1.x, 2025-11-25 and older), kept so tests can
 * show that clients built on it still work against the kit, which runs on the SDK v2.
 */
export type V1Client = Client;

/** A v1 client over Streamable HTTP (initialize, Mcp-Session-Id). */
export async function connectV1HttpClient(url: string, headers?: Record<string, string>): Promise<V1Client> {
  const client = new Client({ name: "toolshed-v1-test-client", version: "0.0.0" }, { capabilities: {} });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : undefined),
  );
  return client;
}

/** A v1 client that spawns `command` and speaks to it over its stdin/stdout; close() ends the child. */
export async function connectV1StdioClient(
  command: string,
  args: string[] = [],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<V1Client> {
  const client = new Client({ name: "toolshed-v1-test-client", version: "0.0.0" }, { capabilities: {} });
  await client.connect(
    new StdioClientTransport({
      command,
      args,
      cwd: options.cwd,
      env: { ...(process.env as Record<string, string>), ...options.env },
      stderr: "ignore",
    }),
  );
  return client;
}
