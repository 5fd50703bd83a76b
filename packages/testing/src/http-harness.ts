import { Client, StreamableHTTPClientTransport, type ClientCapabilities } from "@modelcontextprotocol/client";
import {
  startHttpServer,
  type HttpHandle,
  type HttpOptions,
  type Runtime,
  type AnyServerDefinition,
  type StartOptions,
} from "@toolshed/server";
import { versionNegotiation, type Era } from "./era.js";

export interface TestHttpServer extends HttpHandle {
  runtime: Runtime;
  /** A new SDK client connected over Streamable HTTP on loopback, sending `headers` on every request. */
  connect(capabilities?: ClientCapabilities, headers?: Record<string, string>, era?: Era): Promise<Client>;
}

/** Starts a server on a free loopback port with real HTTP; close it in afterAll/afterEach. */
export async function startTestHttpServer(
  def: AnyServerDefinition,
  http: Partial<HttpOptions> = {},
  options: StartOptions = {},
): Promise<TestHttpServer> {
  const handle = await startHttpServer(def, http, { logLevel: "silent", ...options });
  return Object.assign(handle, {
    connect: (caps?: ClientCapabilities, headers?: Record<string, string>, era?: Era) =>
      connectHttpClient(handle.url, caps, headers, era),
  });
}

/**
 * A v2 SDK client over Streamable HTTP. `era` picks the handshake: "legacy" (the default) is the
 * 2025 initialize handshake, "modern" pins 2026-07-28, "auto" probes with server/discover.
 */
export async function connectHttpClient(
  url: string,
  capabilities: ClientCapabilities = {},
  headers?: Record<string, string>,
  era: Era = "legacy",
): Promise<Client> {
  const client = new Client(
    { name: "toolshed-test-client", version: "0.0.0" },
    { capabilities, ...versionNegotiation(era) },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : undefined),
  );
  return client;
}
