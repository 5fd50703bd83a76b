import { createTestClient, type TestClient } from "@toolshed/testing";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";

export async function client(config: Record<string, unknown>): Promise<TestClient> {
  return createTestClient(server, { config: configSchema.parse(config) });
}

export interface CallResult {
  isError?: boolean;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- structured results are checked by the assertions
  data: Record<string, any>;
}

export async function call(t: TestClient, name: string, args: Record<string, unknown>): Promise<CallResult> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK types content loosely; the test reads it
  const r = (await t.client.callTool({ name, arguments: args })) as any;
  const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("\n");
  return { isError: r.isError, text, data: r.structuredContent ?? {} };
}
