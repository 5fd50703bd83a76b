import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnStdioServer } from "@toolshed/testing";
import { afterAll, expect, it } from "vitest";
import { tempDataDir } from "./helpers.js";

const data = tempDataDir();
afterAll(() => data.cleanup());
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");

it("runs the built bin over stdio end to end", async () => {
  const proc = await spawnStdioServer(process.execPath, [bin, "--data-dir", data.dir]);
  try {
    const reg = (await proc.client.callTool({
      name: "register_dataset",
      arguments: { name: "sales", path: "sales.csv" },
    })) as unknown as { structuredContent: { rowCount: number } };
    expect(reg.structuredContent.rowCount).toBe(6);
    const q = (await proc.client.callTool({
      name: "query",
      arguments: { sql: "SELECT max(amount) AS m FROM sales" },
    })) as unknown as { structuredContent: { rows: unknown[][] } };
    expect(q.structuredContent.rows).toEqual([[49.95]]);
    expect(proc.nonProtocolLines()).toEqual([]);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});
