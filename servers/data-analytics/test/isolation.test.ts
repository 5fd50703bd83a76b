import { writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Client } from "@toolshed/testing";
import { callTool, startTestHttpServer, type TestHttpServer } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import { DuckDBEngine } from "../src/engine/duckdb-engine.js";
import { MAX_JSON_DEPTH } from "../src/json-depth.js";
import server from "../src/server.js";
import { call, client, tempDataDir } from "./helpers.js";

// DuckDB runs in an engine host process: a native crash or a statement that ignores its interrupt
// costs a restart of the host, never the server or the other sessions.
const CRASH = "SELECT json_structure(repeat('[', 100000) || repeat(']', 100000)) AS s";

describe("a DuckDB crash, over real HTTP with two sessions", () => {
  const data = tempDataDir();
  let http: TestHttpServer;
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    http = await startTestHttpServer(server, {}, { config: configSchema.parse({ dataDir: data.dir }) });
    alice = await http.connect();
    bob = await http.connect();
    expect(
      (await callTool(alice, "register_dataset", { name: "sales", path: "sales.csv" })).isError,
    ).toBeFalsy();
  });
  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await http?.close();
    data.cleanup();
  });

  it("fails only the crashing call, with a retryable error, and the other session's next call succeeds", async () => {
    const crashed = await callTool(alice, "query", { sql: CRASH });
    expect(crashed.isError).toBe(true);
    expect(crashed.text).toMatch(/^upstream_unavailable: the query engine crashed while running this call/);
    expect(crashed.text).toMatch(/has been restarted/);
    expect(crashed.text).toMatch(/\(retryable\)$/);

    const other = await callTool(bob, "query", { sql: "SELECT count(*) AS n FROM sales" });
    expect(other.isError, other.text).toBeFalsy();
    expect(other.data.rows).toEqual([[6]]);
    // The crashing session itself goes on too, on the reopened database.
    const again = await callTool(alice, "list_datasets", {});
    expect(again.data.datasets.map((d: { name: string }) => d.name)).toContain("sales");
  });
});

describe("limits", () => {
  const data = tempDataDir();
  let t: Awaited<ReturnType<typeof client>>;

  beforeAll(async () => {
    // The time limit is generous: on a loaded machine the memory test reaches its limit after 1 s.
    t = await client({ dataDir: data.dir, queryTimeoutMs: 10_000, memoryLimit: "256MB" });
  });
  afterAll(async () => {
    await t.close();
    data.cleanup();
  });

  it("refuses a 5,000-deep JSON file before DuckDB's reader sees it, and the next load works", async () => {
    writeFileSync(path.join(data.dir, "deep.json"), "[".repeat(5_000) + "]".repeat(5_000));
    const started = Date.now();
    const refused = await call(t, "register_dataset", { name: "deep", path: "deep.json" });
    expect(refused.text).toMatch(
      /^invalid_input: 'deep.json' nests JSON arrays or objects more than 256 deep/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    const next = await call(t, "register_dataset", { name: "sales", path: "sales.csv" });
    expect(next.isError, next.text).toBeFalsy();
    expect(next.data.rowCount).toBe(6);
  });

  it(`refuses inline JSON nested more than ${MAX_JSON_DEPTH} deep before DuckDB sees it`, async () => {
    const deep = `[{"a": ${"[".repeat(200_000)}${"]".repeat(200_000)}}]`;
    const r = await call(t, "load_inline_dataset", { name: "deep", data: deep });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(
      new RegExp(`^invalid_input: JSON data nests arrays or objects more than ${MAX_JSON_DEPTH} deep`),
    );
    const fine = `[{"a": ${"[".repeat(100)}1${"]".repeat(100)}}]`;
    const ok = await call(t, "load_inline_dataset", { name: "nested", data: fine });
    expect(ok.isError, ok.text).toBeFalsy();
    // validate_json does not parse what it would refuse (millions of brackets hold JSON.parse for seconds).
    const checked = await call(t, "validate_json", { text: "[".repeat(5_000_000) + "]".repeat(5_000_000) });
    expect(checked.text).toMatch(
      new RegExp(`^invalid_input: the JSON nests arrays or objects more than ${MAX_JSON_DEPTH} deep`),
    );
    const shallow = await call(t, "validate_json", { text: fine });
    expect(shallow.data.valid).toBe(true);
  });

  it("answers a statement that outgrows --memory-limit with advice, not a crash", async () => {
    const r = await call(t, "query", {
      sql: "SELECT length(string_agg(repeat('x', 1000000), '')) AS n FROM range(3000)",
    });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(
      /^invalid_input: the statement needs more memory than the engine's limit \(256MB, --memory-limit\)/,
    );
    expect(r.text).toMatch(/WHERE or LIMIT/);
    const alive = await call(t, "query", { sql: "SELECT 1 AS one" });
    expect(alive.data.rows).toEqual([[1]]);
  });
});

describe("resource flags reach DuckDB", () => {
  it("applies --memory-limit, --threads and --max-temp-directory-size, with the temp dir in the data dir", async () => {
    const data = tempDataDir();
    const engine = await DuckDBEngine.open(
      configSchema.parse({
        dataDir: data.dir,
        memoryLimit: "512MB",
        threads: 1,
        maxTempDirectorySize: "1GB",
      }),
    );
    try {
      const { rows } = await engine.run(
        "SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('max_temp_directory_size'), current_setting('temp_directory')",
      );
      expect(rows[0]?.slice(0, 3)).toEqual(["488.2 MiB", 1, "953.6 MiB"]);
      expect(rows[0]?.[3] as string).toMatch(/\.tmp$/);
      expect((rows[0]?.[3] as string).startsWith(engine.dataDir)).toBe(true);
    } finally {
      await engine.close();
      data.cleanup();
    }
  });

  it("caps memory by default instead of DuckDB's 80% of RAM", async () => {
    const data = tempDataDir();
    const engine = await DuckDBEngine.open(configSchema.parse({ dataDir: data.dir }));
    try {
      const { rows } = await engine.run("SELECT current_setting('memory_limit')");
      const [value, unit] = (rows[0]?.[0] as string).split(" ");
      const mib = Number(value) * (unit === "GiB" ? 1024 : unit === "MiB" ? 1 : NaN);
      expect(mib).toBeLessThanOrEqual(1024);
      expect(mib).toBeGreaterThan(0);
    } finally {
      await engine.close();
      data.cleanup();
    }
  });
});

// The shape guard keeps such files from DuckDB; behind it, a load that wedges DuckDB's reader is
// still stopped by the engine host (interrupt, then kill), as here where the engine is driven directly.
describe("a load that wedges DuckDB's reader", () => {
  const data = tempDataDir();
  let engine: DuckDBEngine;
  const wedge = "CREATE OR REPLACE TABLE deep AS SELECT * FROM read_json(?, format = 'auto')";

  beforeAll(async () => {
    writeFileSync(path.join(data.dir, "deep.json"), "[".repeat(5_000) + "]".repeat(5_000));
    engine = await DuckDBEngine.open(configSchema.parse({ dataDir: data.dir, loadTimeoutMs: 1_000 }));
  });
  afterAll(async () => {
    await engine.close();
    data.cleanup();
  });

  it("is stopped at the load time limit, and the next load works", async () => {
    const started = Date.now();
    await expect(
      engine.runWithProgress(wedge, {
        params: [path.join(engine.dataDir, "deep.json")],
        timeoutMs: engine.loadTimeoutMs,
        onProgress: () => {},
      }),
    ).rejects.toThrow(/stopped after 1000 ms/);
    // The time limit, then the interrupt's grace period (3 s), then the host is killed.
    expect(Date.now() - started).toBeLessThan(10_000);
    await engine.runWithProgress("CREATE OR REPLACE TABLE sales AS SELECT * FROM read_csv(?)", {
      params: [path.join(engine.dataDir, "sales.csv")],
      onProgress: () => {},
    });
    expect((await engine.run("SELECT count(*) FROM sales")).rows).toEqual([[6]]);
  });

  it("frees the engine for the next load soon after it is cancelled", async () => {
    const abort = new AbortController();
    const wedged = engine
      .runWithProgress(wedge, {
        params: [path.join(engine.dataDir, "deep.json")],
        timeoutMs: 60_000,
        signal: abort.signal,
        onProgress: () => {},
      })
      .then(
        () => "answered",
        (e: Error) => e.message,
      );
    setTimeout(() => abort.abort(), 500);
    expect(await wedged).toMatch(/cancelled/);
    const started = Date.now();
    await engine.runWithProgress("CREATE OR REPLACE TABLE sales2 AS SELECT * FROM read_csv(?)", {
      params: [path.join(engine.dataDir, "sales.csv")],
      onProgress: () => {},
    });
    // Queued behind the wedged load until its host is killed, 3 s after the interrupt it ignored.
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
