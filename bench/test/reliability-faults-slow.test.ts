import { describe, expect, it } from "vitest";
import { disconnectMidCall, sigtermUnderLoad } from "../src/reliability/faults.js";
import { connectClients } from "../src/reliability/load.js";
import { startServer } from "../src/reliability/processes.js";
import { TARGETS } from "../src/reliability/targets.js";

// The mid-call faults on the domain servers whose slow call goes through a real upstream on loopback
// (bench/src/reliability/slow-upstreams.ts): data-analytics downloads a CSV the file server answers
// late, vector-search embeds a text the embeddings API answers late. reliability-faults.test.ts runs
// the same faults on the fixture.
const targets = TARGETS.filter((t) => t.name === "data-analytics" || t.name === "vector-search");

describe.each(targets.map((t) => [t.name, t] as const))("mid-call faults on %s", (_name, target) => {
  it("the slow call succeeds, and takes about the time asked", async () => {
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

  it("a client that disconnects mid-call: others keep being answered, mcp_sessions_active returns to baseline", async () => {
    const r = await disconnectMidCall(target);
    expect(r.passed, JSON.stringify(r.details)).toBe(true);
  }, 30_000);

  it("SIGTERM under load: in-flight calls complete and the exit code is 0", async () => {
    const r = await sigtermUnderLoad(target);
    expect(r.passed, JSON.stringify(r.details)).toBe(true);
    expect(r.details.calls_failed).toBe(0);
  }, 30_000);
});
