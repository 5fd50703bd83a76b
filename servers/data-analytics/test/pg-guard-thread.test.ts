import { describe, expect, it } from "vitest";
import { PgGuardThread } from "../src/engine/pg-guard-thread.js";

// The PostgreSQL guard's worker thread: a check's deadline is the SQL's, not the machine's.
describe("PgGuardThread", () => {
  it("does not count a fresh worker's start-up (loading the parser) against a check's deadline", async () => {
    // 100 ms: far more than parsing these takes, far less than starting a worker and loading the
    // parser (hundreds of ms on an idle machine, seconds on a busy one, as a pod starting beside others).
    const guard = new PgGuardThread(100);
    try {
      await expect(
        Promise.all(
          ["SELECT 1", "SELECT count(*) FROM sales", "SELECT abs(-2)"].map((sql) => guard.check(sql)),
        ),
      ).resolves.toBeDefined();
      // Warm, a check is answered well within the deadline, and a refusal still says why.
      await expect(guard.check("DELETE FROM sales")).rejects.toThrow(/DELETE statements are not allowed/);
      await expect(guard.check("SELECT 2")).resolves.toBeUndefined();
    } finally {
      await guard.close();
    }
  });
});
