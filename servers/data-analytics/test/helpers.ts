import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

/** A fresh temp data dir holding copies of the fixture files. */
export function tempDataDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "toolshed-da-"));
  cpSync(fixtures, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

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
