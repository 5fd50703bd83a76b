import { createHash } from "node:crypto";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { authFromSettings } from "@toolshed/server";
import { callTool, spawnStdioServer, startTestHttpServer, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { needPostgres } from "../../../test-support/services.js";
import { call, salesClient, tempDataDir, type CallResult } from "./helpers.js";

// Paging a result with query's cursor: on both engines, through the real SDK client (in memory, over
// HTTP with two principals, and over stdio with a small message limit).
const postgresUp = await needPostgres();

/** Reads `first` and every page after it through its cursors; returns the rows and each answer. */
async function readAll(
  next: (cursor: string) => Promise<CallResult>,
  first: CallResult,
): Promise<{ rows: unknown[][]; pages: CallResult[] }> {
  const pages = [first];
  for (let page = first; page.data.cursor !== undefined;) {
    expect(pages.length, "a cursor that never ends").toBeLessThan(100);
    page = await next(page.data.cursor as string);
    expect(page.isError, page.text).toBeFalsy();
    pages.push(page);
  }
  return { rows: pages.flatMap((p) => p.data.rows as unknown[][]), pages };
}

// 216 rows with a unique key k and no ORDER BY: the pages come from one run, in that run's order.
const CROSS = "SELECT a.id * 100 + b.id * 10 + c.id AS k, a.region FROM sales a, sales b, sales c";
const byKey = (rows: unknown[][]) => [...rows].sort((x, y) => Number(x[0]) - Number(y[0]));

describe.each(postgresUp ? (["duckdb", "postgres"] as const) : (["duckdb"] as const))(
  "paging on %s",
  (kind) => {
    const data = tempDataDir();
    let t: TestClient;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const config = { dataDir: data.dir, maxRows: 1_000, cursorTtlMs: 400, cursorMaxRows: 300 };
      ({ t, close } = await salesClient(kind, config));
    });
    afterAll(async () => {
      await close();
      data.cleanup();
    });

    it("reads a result page by page to its end, equal to the whole result in one answer", async () => {
      const whole = await call(t, "query", { sql: CROSS, limit: 1_000 });
      expect(whole.data).toMatchObject({ rowCount: 216, totalRows: 216, truncated: false });
      expect(whole.data.cursor).toBeUndefined();

      const first = await call(t, "query", { sql: CROSS, limit: 50 });
      expect(first.data).toMatchObject({ rowCount: 50, offset: 0, totalRows: 216, remainingRows: 166 });
      const { rows, pages } = await readAll((cursor) => call(t, "query", { cursor }), first);
      expect(pages.map((p) => p.data.rowCount as number)).toEqual([50, 50, 50, 50, 16]);
      expect(pages.map((p) => p.data.offset as number)).toEqual([0, 50, 100, 150, 200]);
      expect(rows).toHaveLength(216);
      expect(byKey(rows)).toEqual(byKey(whole.data.rows));
      const last = pages.at(-1)!;
      expect(last.data).toMatchObject({ truncated: false });
      expect(last.text).toMatch(/Rows 201-216 of 216 \(the last page\)\./);
      // A cursor reads the same page again (a retry after a lost answer), and a page size may change.
      const again = await call(t, "query", { cursor: first.data.cursor, limit: 10 });
      expect(again.data.rows).toEqual(pages[1]!.data.rows.slice(0, 10));
      expect(again.data.remainingRows).toBe(156);
    });

    it("pages up to the rows it keeps, then says where paging stops and what to do instead", async () => {
      const first = await call(t, "query", {
        sql: "SELECT a.id FROM sales a, sales b, sales c, sales d",
        limit: 100,
      });
      expect(first.data).toMatchObject({ totalRows: 1296, remainingRows: 200 });
      const { rows, pages } = await readAll((cursor) => call(t, "query", { cursor }), first);
      expect(rows).toHaveLength(300);
      expect(pages.at(-1)!.data).toMatchObject({ truncated: true, totalRows: 1296 });
      expect(pages.at(-1)!.data.hint).toMatch(
        /Paging stops at row 300, the last the server keeps .*aggregate/,
      );
    });

    it("refuses an expired cursor, saying to run the query again", async () => {
      const first = await call(t, "query", { sql: CROSS, limit: 100 });
      expect(first.data.cursor).toEqual(expect.any(String));
      await new Promise((r) => setTimeout(r, 500)); // cursorTtlMs is 400
      const late = await call(t, "query", { cursor: first.data.cursor });
      expect(late.isError).toBe(true);
      expect(late.text).toMatch(
        /invalid_input: cursor '[^']+' is unknown or expired \(results are kept for 400 ms after their query.*\); run the query again with sql/,
      );
      const forged = await call(t, "query", { cursor: "not-a-cursor" });
      expect(forged.text).toMatch(/unknown or expired.*run the query again/);
      const both = await call(t, "query", { sql: "SELECT 1", cursor: first.data.cursor });
      expect(both.text).toMatch(/pass sql \(a new query\) or cursor/);
    });
  },
);

describe("a cursor belongs to the caller that ran the query", () => {
  const KEYS = { alice: "tsk_alice_0123456789abcdef", bob: "tsk_bob_0123456789abcdef" };
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const silent = { warn() {}, info() {}, error() {}, debug() {} } as never;

  it("refuses another principal's cursor over HTTP and serves its owner", async () => {
    const data = tempDataDir();
    const auth = authFromSettings(
      {
        apiKeys: Object.entries(KEYS)
          .map(([id, key]) => `${id}:${sha(key)}:*`)
          .join(";"),
        serverName: "data-analytics",
        authFailureLimit: "off",
      },
      "http://127.0.0.1/mcp",
      silent,
    );
    const http = await startTestHttpServer(
      server,
      { auth: auth! },
      { config: configSchema.parse({ dataDir: data.dir }) },
    );
    const alice = await http.connect({}, { authorization: `Bearer ${KEYS.alice}` });
    const bob = await http.connect({}, { authorization: `Bearer ${KEYS.bob}` });
    try {
      const first = await callTool(alice, "query", { sql: "SELECT range AS n FROM range(250)" });
      expect(first.data).toMatchObject({ rowCount: 100, totalRows: 250, remainingRows: 150 });
      const stolen = await callTool(bob, "query", { cursor: first.data.cursor });
      expect(stolen.isError).toBe(true);
      expect(stolen.text).toMatch(/unknown or expired .*for the caller that ran it\); run the query again/);
      const own = await callTool(alice, "query", { cursor: first.data.cursor });
      expect(own.isError, own.text).toBeFalsy();
      expect(own.data.rows[0]).toEqual([100]);
    } finally {
      await alice.close();
      await bob.close();
      await http.close();
      data.cleanup();
    }
  });
});

describe("pages sized to the stdio transport's message limit", () => {
  const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");

  it("keeps every answer under --max-body-bytes, with --max-bytes above it, and pages the rest", async () => {
    const data = tempDataDir();
    const limit = 256 * 1024;
    const proc = await spawnStdioServer(process.execPath, [
      bin,
      ...["--data-dir", data.dir, "--max-body-bytes", String(limit), "--max-bytes", String(2 * 1024 * 1024)],
      ...["--max-rows", "1000"],
    ]);
    try {
      // 600 rows of ~1 KB: about 600 KB, more than twice what one message may carry.
      const sql = "SELECT range AS id, repeat(chr(65 + (range % 26)::INTEGER), 1000) AS pad FROM range(600)";
      const first = await callTool(proc.client, "query", { sql, limit: 1000 });
      expect(first.isError, first.text).toBeFalsy();
      const { rows, pages } = await readAll((cursor) => callTool(proc.client, "query", { cursor }), first);
      expect(pages.length).toBeGreaterThan(2);
      for (const page of pages) {
        // The result as it travels (the JSON-RPC envelope adds a few dozen bytes).
        const size = Buffer.byteLength(
          JSON.stringify({ content: [{ type: "text", text: page.text }], structuredContent: page.data }),
        );
        expect(size).toBeLessThan(limit);
        // Half the message for rows: the page is full, not a sliver.
        expect(size).toBeGreaterThan(limit / 4);
      }
      // Pages carry rows once; the text shows the first ones and says the rest are structured.
      expect(first.text).toMatch(/The text shows the first \d+ of the \d+ rows returned/);
      const expected = Array.from({ length: 600 }, (_, i) => [
        i,
        String.fromCharCode(65 + (i % 26)).repeat(1000),
      ]);
      expect(rows).toEqual(expected);
      expect(proc.nonProtocolLines()).toEqual([]);
    } finally {
      expect(await proc.close()).toBe(0);
      data.cleanup();
    }
  });
});
