import { Client, InMemoryTransport, type ClientCapabilities } from "@modelcontextprotocol/client";
import { createRuntime, type Runtime, type AnyServerDefinition, type StartOptions } from "@toolshed/server";
import { connect } from "@toolshed/server/internal";

export interface TestClient {
  /** The real SDK (v2) client, connected to the server through linked in-memory transports. */
  client: Client;
  runtime: Runtime;
  close(): Promise<void>;
}

/**
 * A server and a real SDK client in one process: the same kit code path as stdio and HTTP, without
 * processes or sockets. In-memory pairs speak the 2025 handshake; the 2026-07-28 lane is covered over
 * real HTTP and stdio (see connectHttpClient and spawnStdioServer). Logs are silent unless `logLevel`
 * is given.
 */
export async function createTestClient(
  def: AnyServerDefinition,
  options: StartOptions & { capabilities?: ClientCapabilities } = {},
): Promise<TestClient> {
  const runtime = createRuntime(def, { logLevel: "silent", ...options });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const { mcp } = await connect(runtime, serverSide, { network: "inproc" });
  const client = new Client(
    { name: "toolshed-test-client", version: "0.0.0" },
    { capabilities: options.capabilities ?? {} },
  );
  await client.connect(clientSide);
  return {
    client,
    runtime,
    async close() {
      await client.close();
      await mcp.close();
      await runtime.close();
    },
  };
}
