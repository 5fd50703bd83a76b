import { describe, expect, it } from "vitest";
import { connectClients } from "../src/reliability/load.js";
import { startServer } from "../src/reliability/processes.js";
import { TARGETS } from "../src/reliability/targets.js";

// The mid-call faults (test/reliability-faults.test.ts) only mean something if the slow call really
// is slow and really succeeds: checked here for the servers whose slow call goes through the bench's
// loopback upstreams (src/reliability/slow-loopback-servers.ts): data-analytics downloads a CSV the
// file server answers late, vector-search embeds a text the embeddings API answers late.
const targets = TARGETS.filter((t) => t.name === "data-analytics" || t.name === "vector-search");

describe.each(targets.map((t) => [t.name, t] as const))("slowCall on %s", (_name, target) => {
  it("succeeds, and takes about the time asked", async () => {
    const server = await startServer(target);
    try {
      const [client] = await connectClients(`${server.base}/mcp`, 1);
      // Once fast, so the timing below is the upstream's delay, not a first load or a cold start.
      const warm = await client!.callTool(target.slowCall!(1), undefined, { timeout: 15_000 });
      expect(warm.isError, JSON.stringify(warm.content)).toBeFalsy();
      const t0 = Date.now();
      const r = await client!.callTool(target.slowCall!(1_000), undefined, { timeout: 15_000 });
      const ms = Date.now() - t0;
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(ms).toBeGreaterThanOrEqual(1_000);
      expect(ms).toBeLessThan(5_000);
      await client!.close();
    } finally {
      await server.stop("SIGKILL");
    }
  }, 30_000);
});
