import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnStdioServer } from "@toolshed/testing";
import { afterAll, expect, it, vi } from "vitest";
import { tempDir } from "./backends.js";

vi.setConfig({ testTimeout: 90_000 });

const data = tempDir();
afterAll(() => data.cleanup());
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");

it("runs the built bin over stdio end to end", async () => {
  const proc = await spawnStdioServer(process.execPath, [bin, "--data-dir", data.dir]);
  try {
    await proc.client.callTool({
      name: "create_collection",
      arguments: { name: "v", embedder: "none", dimension: 2 },
    });
    await proc.client.callTool({
      name: "upsert_documents",
      arguments: {
        collection: "v",
        documents: [
          { id: "a", vector: [1, 0], text: "alpha" },
          { id: "b", vector: [0, 1] },
        ],
      },
    });
    const r = (await proc.client.callTool({
      name: "search",
      arguments: { collection: "v", vector: [0.1, 0.9], top_k: 1 },
    })) as unknown as { structuredContent: { results: { id: string }[] } };
    expect(r.structuredContent.results.map((h) => h.id)).toEqual(["b"]);
    expect(proc.nonProtocolLines()).toEqual([]);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});
