import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { ClientCapabilities } from "@modelcontextprotocol/sdk/types.js";
import {
  startHttpServer,
  type HttpHandle,
  type HttpOptions,
  type Runtime,
  type AnyServerDefinition,
  type StartOptions,
} from "@toolshed/server";

export interface TestHttpServer extends HttpHandle {
  runtime: Runtime;
  /** A new SDK client connected over Streamable HTTP on loopback, sending `headers` on every request. */
  connect(capabilities?: ClientCapabilities, headers?: Record<string, string>): Promise<Client>;
}

/** Starts a server on a free loopback port with real HTTP; close it in afterAll/afterEach. */
export async function startTestHttpServer(
  def: AnyServerDefinition,
  http: Partial<HttpOptions> = {},
  options: StartOptions = {},
): Promise<TestHttpServer> {
  const handle = await startHttpServer(def, http, { logLevel: "silent", ...options });
  return Object.assign(handle, {
    connect: (caps?: ClientCapabilities, headers?: Record<string, string>) =>
      connectHttpClient(handle.url, caps, headers),
  });
}

export async function connectHttpClient(
  url: string,
  capabilities: ClientCapabilities = {},
  headers?: Record<string, string>,
): Promise<Client> {
  const client = new Client({ name: "toolshed-test-client", version: "0.0.0" }, { capabilities });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : undefined),
  );
  return client;
}
