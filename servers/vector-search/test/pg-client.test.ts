import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres } from "../src/store/index.js";
import { startPgvectorServer } from "./backends.js";

/*
 * The `pg` path's session settings (ef_search, iterative scan, maintenance_work_mem) are applied on
 * each new connection before the pool hands it out, not raced against its first query.
 */
describe("PostgreSQL connections (pg over a socket)", () => {
  let server: Awaited<ReturnType<typeof startPgvectorServer>>;
  beforeAll(async () => {
    server = await startPgvectorServer();
  });
  afterAll(() => server?.stop());

  it("applies the session settings before a connection's first query, without pg's concurrent-query warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    const sql = await openPostgres({
      url: server.url,
      poolSize: 1, // pglite-socket takes one connection unless told otherwise
      efSearch: 77,
      maintenanceWorkMemMb: 64,
      statementTimeoutMs: 30_000,
    });
    try {
      // Three at once on a fresh connection: the first of them is its first query.
      const got = await Promise.all(
        [1, 2, 3].map(() =>
          sql.query<{ ef: string; mem: string }>(
            "SELECT current_setting('hnsw.ef_search') AS ef, current_setting('maintenance_work_mem') AS mem",
          ),
        ),
      );
      for (const rows of got) expect(rows).toEqual([{ ef: "77", mem: "64MB" }]);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => /already executing a query/.test(w))).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await sql.close();
    }
  });
});
