import { join } from "node:path";
import { spawnStdioServer } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startUpstream, TOKEN } from "./helpers.js";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
let upstream: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(() => upstream?.close());

it("runs the built bin over stdio, credentials from env vars, against the real API", async () => {
  const proc = await spawnStdioServer(process.execPath, [bin], {
    env: { EXAMPLE_API_BASE_URL: upstream.url, EXAMPLE_API_BEARER_TOKEN: TOKEN },
  });
  try {
    const created = (await proc.client.callTool({
      name: "create_resource",
      arguments: { name: "Over stdio" },
    })) as unknown as { structuredContent: { id: string; category: string } };
    expect(created.structuredContent.category).toBe("general");
    const found = (await proc.client.callTool({
      name: "search_resources",
      arguments: { query: "stdio" },
    })) as unknown as { structuredContent: { total: number } };
    expect(found.structuredContent.total).toBe(1);
    expect(proc.nonProtocolLines()).toEqual([]);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});
