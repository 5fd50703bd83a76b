import everything from "@toolshed/fixture-everything";
import { resolveDefinition } from "@toolshed/server";
import { describe, expect, it } from "vitest";
import { startTestHttpServer } from "../src/index.js";

describe("/metrics while the server's setup is still running", () => {
  it("answers at once with toolshed_ready 0, then 1 once setup is done", async () => {
    let finishSetup!: () => void;
    const setupDone = new Promise<void>((resolve) => (finishSetup = resolve));
    const srv = await startTestHttpServer({
      name: "slow-setup",
      version: "1.0.0",
      tools: resolveDefinition(everything).tools.slice(0, 1),
      // A database seeding for longer than any scrape timeout.
      setup: async () => {
        await setupDone;
        return {};
      },
    });
    try {
      const metricsUrl = srv.url.replace("/mcp", "/metrics");
      const during = await fetch(metricsUrl, { signal: AbortSignal.timeout(8_000) });
      expect(during.status).toBe(200);
      expect(await during.text()).toMatch(/^toolshed_ready(\{[^}]*\})? 0$/m);
      finishSetup();
      const after = await fetch(metricsUrl, { signal: AbortSignal.timeout(8_000) });
      expect(await after.text()).toMatch(/^toolshed_ready(\{[^}]*\})? 1$/m);
    } finally {
      finishSetup();
      await srv.close(500);
    }
  });
});
