import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnStdioServer, type StdioServerProcess } from "@toolshed/testing";
import { afterAll, expect, it, vi } from "vitest";
import { tempDir } from "./backends.js";

vi.setConfig({ testTimeout: 300_000 });

const data = tempDir();
afterAll(() => data.cleanup());
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
const ROUNDS = 4;

function start(): Promise<StdioServerProcess> {
  return spawnStdioServer(process.execPath, [bin, "--data-dir", data.dir]);
}

it(`keeps every acknowledged upsert across ${ROUNDS} kill -9s of the server (PGlite in a data dir)`, async () => {
  const acknowledged = new Set<string>();
  let next = 0;
  let proc = await start();
  await proc.client.callTool({
    name: "create_collection",
    arguments: { name: "durable", embedder: "none", dimension: 4 },
  });
  for (let round = 0; round < ROUNDS; round++) {
    // Acknowledged one by one, then a burst in flight when SIGKILL lands.
    const upsert = (i: number) => {
      const id = `doc-${next++}`;
      return proc.client
        .callTool({
          name: "upsert_documents",
          arguments: {
            collection: "durable",
            documents: [{ id, vector: [1, round, i, 0], metadata: { round } }],
          },
        })
        .then((r) => {
          if (!r.isError) acknowledged.add(id);
        })
        .catch(() => undefined); // cut off by the kill: not acknowledged, may or may not be stored
    };
    for (let i = 0; i < 10 + round * 5; i++) await upsert(i);
    const inFlight = Array.from({ length: 8 }, (_, i) => upsert(100 + i));
    await new Promise((r) => setTimeout(r, 5 + round * 10));
    proc.child.kill("SIGKILL");
    await Promise.allSettled(inFlight);
    await new Promise<void>((r) =>
      proc.child.exitCode !== null || proc.child.signalCode ? r() : proc.child.once("exit", () => r()),
    );
    expect(proc.child.signalCode).toBe("SIGKILL");
    proc = await start();
    const got = (await proc.client.callTool({
      name: "get_documents",
      arguments: { collection: "durable", ids: [...acknowledged].slice(0, 1000), limit: 100 },
    })) as unknown as { structuredContent?: { total: number }; content: unknown };
    expect(got.structuredContent, JSON.stringify(got.content)).toBeDefined();
    // Every acknowledged id is there after the restart: zero lost.
    expect(got.structuredContent?.total, `round ${round}`).toBe(acknowledged.size);
  }
  expect(acknowledged.size).toBeGreaterThanOrEqual(ROUNDS * 10);
  await proc.close();
});
