import { callTool, createTestClient, type CallResult, type TestClient } from "@toolshed/testing";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";

export async function client(config: Record<string, unknown>): Promise<TestClient> {
  return createTestClient(server, { config: configSchema.parse(config) });
}

export type { CallResult } from "@toolshed/testing";

export function call(t: TestClient, name: string, args: Record<string, unknown>): Promise<CallResult> {
  return callTool(t.client, name, args);
}
