import { callTool, createTestClient, type CallResult, type TestClient } from "@toolshed/testing";
import type { ConfirmPolicy } from "@toolshed/server";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";

/** The server and a real SDK client in memory; `confirm: "never"` runs it as an unattended agent would. */
export async function client(
  config: Record<string, unknown>,
  options: { confirm?: ConfirmPolicy } = {},
): Promise<TestClient> {
  return createTestClient(server, { config: configSchema.parse(config), ...options });
}

export type { CallResult } from "@toolshed/testing";

export function call(t: TestClient, name: string, args: Record<string, unknown>): Promise<CallResult> {
  return callTool(t.client, name, args);
}
