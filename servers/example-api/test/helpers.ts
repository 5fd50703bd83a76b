import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExampleApi } from "@toolshed/example-api-upstream";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { configSchema } from "../src/generated/config.js";
import server from "../src/server.js";

export const TOKEN = "example-test-token";

/** The real Example API on a loopback port, with its data in a temp dir. */
export async function startUpstream(): Promise<{ url: string; dataFile: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "example-api-test-"));
  const dataFile = join(dir, "resources.json");
  const api: Server = await createExampleApi({ dataFile, tokens: [TOKEN] });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    dataFile,
    close: async () => {
      api.closeAllConnections();
      await new Promise<void>((resolve) => api.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function client(config: Record<string, unknown>): Promise<TestClient> {
  return createTestClient(server, { config: configSchema.parse(config) });
}

export interface CallResult {
  isError: boolean;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- structured results are checked by the assertions
  data: Record<string, any>;
}

export async function call(t: TestClient, name: string, args: Record<string, unknown>): Promise<CallResult> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK types content loosely; the test reads it
  const r = (await t.client.callTool({ name, arguments: args })) as any;
  const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("\n");
  return { isError: r.isError === true, text, data: r.structuredContent ?? {} };
}
