import type { Client } from "@toolshed/testing";
import type { ConfirmPolicy } from "@toolshed/server";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { configSchema, type Config } from "../src/config.js";
import server from "../src/server.js";
import { FakeGitHub, type Recording } from "./fake-github.js";

export const TOKEN = "ghp_TestToken000000000000000000000000000";

export interface Harness {
  fake: FakeGitHub;
  client: Client;
  t: TestClient;
  config: Config;
  close(): Promise<void>;
}

/**
 * A loopback GitHub replaying `recordings`, and the server (real SDK client, in memory) pointed at it.
 * It runs as an unattended agent (`--confirm never`) unless told otherwise: these tests are about what
 * the tools send to GitHub; confirm.test.ts is about asking before merges, closes and deletions.
 */
export async function harness(
  recordings: Recording[][],
  config: Partial<Config> = {},
  options: { confirm?: ConfirmPolicy; toolMode?: "all" } = {},
): Promise<Harness> {
  const fake = (await FakeGitHub.start()).load(...recordings);
  const parsed = configSchema.parse({ githubToken: TOKEN, apiUrl: fake.url, ...config });
  const t = await createTestClient(server, {
    config: parsed,
    confirm: options.confirm ?? "never",
    ...(options.toolMode ? { toolMode: options.toolMode } : {}),
  });
  return {
    fake,
    client: t.client,
    t,
    config: parsed,
    async close() {
      await t.close();
      await fake.close();
    },
  };
}

export interface CallResult {
  isError?: boolean;
  text: string;
  data: Record<string, unknown>;
}

export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallResult> {
  const r = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text?: string }[];
    structuredContent?: Record<string, unknown>;
  };
  return {
    ...(r.isError ? { isError: true } : {}),
    text: r.content.map((c) => c.text ?? "").join("\n"),
    data: r.structuredContent ?? {},
  };
}
