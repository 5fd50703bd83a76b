import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { OFFLINE_BATCH, splitForLanes } from "../src/embedders/offline.js";
import { EmbedPool } from "../src/embedders/pool.js";

// Real worker threads running a stand-in worker (test/fixtures/echo-worker.mjs).
const WORKER = new URL("./fixtures/echo-worker.mjs", import.meta.url);
const pools: EmbedPool[] = [];
const pool = (size: number, maxQueued = 8) => {
  const p = new EmbedPool({ file: WORKER, size, maxQueued });
  pools.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe("the embedding pool", () => {
  it("runs batches on its threads and answers each with its own vectors", async () => {
    const p = pool(2);
    const out = await Promise.all([p.run(["a", "bb"]), p.run(["ccc"]), p.run(["dddd"])]);
    expect(out).toEqual([[[1], [2]], [[3]], [[4]]]);
    expect(p.stats()).toEqual({ threads: 2, running: 0, queued: 0 });
  });

  it("stops the thread of an aborted batch at once and carries on with a fresh one", async () => {
    const p = pool(1);
    const abort = new AbortController();
    const start = performance.now();
    const long = p.run(["busy:10000"], abort.signal);
    await new Promise((r) => setTimeout(r, 200));
    expect(p.stats().running).toBe(1);
    abort.abort(new Error("cancelled by the test"));
    await expect(long).rejects.toThrow("cancelled by the test");
    expect(performance.now() - start).toBeLessThan(5000);
    expect(p.stats()).toEqual({ threads: 0, running: 0, queued: 0 });
    expect(await p.run(["next"])).toEqual([[4]]);
  });

  it("makes callers wait for room when the queue is full, and lets urgent batches go first", async () => {
    const p = pool(1, 2);
    const order: string[] = [];
    const track = (texts: string[], urgent = false) =>
      p.run(texts, undefined, urgent).then(() => order.push(texts[0]!));
    const running = track(["busy:300"]);
    const queued = [track(["q1"]), track(["q2"])];
    await new Promise((r) => setTimeout(r, 50));
    expect(p.stats()).toEqual({ threads: 1, running: 1, queued: 2 });
    // A third bulk batch waits outside the queue; an urgent one goes to its front.
    const waiting = track(["q3"]);
    const urgent = track(["query"], true);
    await new Promise((r) => setTimeout(r, 50));
    expect(p.stats().queued).toBe(3);
    await Promise.all([running, ...queued, waiting, urgent]);
    expect(order).toEqual(["busy:300", "query", "q1", "q2", "q3"]);
  });

  it("gives up waiting for room when the caller aborts", async () => {
    const p = pool(1, 1);
    const running = p.run(["busy:300"]);
    const queued = p.run(["q"]);
    const abort = new AbortController();
    const waiting = p.run(["w"], abort.signal);
    abort.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
    await Promise.all([running, queued]);
  });

  it("sends what a worker prints to stderr, never stdout", async () => {
    // In a child process, so its stdout can be read: it must stay empty (a stdio server's protocol).
    const dir = mkdtempSync(join(tmpdir(), "toolshed-pool-"));
    const script = join(dir, "print.mjs");
    writeFileSync(
      script,
      `const { EmbedPool } = await import(${JSON.stringify(new URL("../dist/embedders/pool.js", import.meta.url).href)});
      const p = new EmbedPool({ file: new URL(${JSON.stringify(WORKER.href)}), size: 1, maxQueued: 1 });
      await p.run(["printed"]);
      await p.close();`,
    );
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], {
      timeout: 30_000,
    }).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(stdout).toBe("");
    expect(stderr).toContain("echo-worker printed");
  });
});

describe("the offline embedder's batches", () => {
  const sizes = (n: number, lanes: number) => {
    const texts = Array.from({ length: n }, (_, i) => `t${i}`);
    const batches = splitForLanes(texts, lanes);
    // In order, each text once, each batch's start where its first text is.
    expect(batches.flatMap((b) => b.texts)).toEqual(texts);
    for (const b of batches) expect(texts[b.start]).toBe(b.texts[0]);
    return batches.map((b) => b.texts.length);
  };

  it("are OFFLINE_BATCH texts, the last round split evenly over the lanes", () => {
    expect(OFFLINE_BATCH).toBe(4);
    expect(sizes(100, 2)).toEqual([...Array<number>(24).fill(4), 2, 2]);
    expect(sizes(21, 2)).toEqual([4, 4, 4, 4, 3, 2]);
    expect(sizes(6, 2)).toEqual([3, 3]);
    expect(sizes(10, 1)).toEqual([4, 4, 2]);
    expect(sizes(12, 4)).toEqual([3, 3, 3, 3]);
  });

  it("keep a call of one batch or less whole (a query's, which goes first)", () => {
    expect(sizes(4, 2)).toEqual([4]);
    expect(sizes(1, 4)).toEqual([1]);
    expect(sizes(0, 2)).toEqual([]);
  });
});
