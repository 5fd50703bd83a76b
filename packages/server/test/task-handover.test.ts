import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@toolshed/logging";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { needRedis } from "../../../test-support/services.js";
import { TaskManager, type TaskExecution, type TaskSettings } from "../src/tasks/manager.js";
import { RedisTaskStore } from "../src/tasks/redis-store.js";
import type { TaskRecord } from "../src/tasks/store.js";

// Hand-over of tasks whose replica stopped, between TaskManagers (one per replica) sharing a real
// Redis. A replica that "stopped" is one whose manager never renews its lease (its watch is an hour
// apart): what a killed process looks like from Redis. The same over real processes and HTTP is in
// packages/testing/test/task-handover.test.ts. The first tests find lapsed tasks by reading them
// (sweeps off); the sweep, which finds them when nobody reads, is tested on its own below.

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const LEASE_MS = 300;
const logger = createLogger({ name: "handover-test", level: "silent" });
const redisUp = await needRedis(REDIS_URL);

describe.runIf(redisUp)("task hand-over between replicas sharing Redis", () => {
  // A key space per test: a task an earlier test left live (its replica closed mid-run) would
  // otherwise lapse into the shared lease index and be claimed by a later test's sweeping replicas.
  let prefix = "";
  beforeEach(() => {
    prefix = `toolshed:test-handover:${Math.random().toString(36).slice(2, 10)}`;
  });
  const opened: TaskManager[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((m) => m.close()));
  });

  async function replica(
    settings: TaskSettings = {},
    onStatus: (record: TaskRecord) => void = () => {},
  ): Promise<TaskManager> {
    const store = await RedisTaskStore.connect({ url: REDIS_URL, keyPrefix: prefix });
    const manager = new TaskManager(logger, { store, leaseMs: LEASE_MS, sweepMs: 0, ...settings }, onStatus);
    opened.push(manager);
    return manager;
  }

  /** A replica that takes the task and then stops renewing, as a killed one does. */
  const stopped = (settings: TaskSettings = {}) => replica({ watchMs: 3_600_000, ...settings });

  const text = (t: Record<string, unknown>) =>
    (t.result as { content: { text: string }[] } | undefined)?.content[0]?.text ?? "";

  it("a lapsed task of a re-runnable tool is claimed by exactly one of three replicas reading it at once, and completes with the new run's result", async () => {
    const a = await stopped();
    const execution = await a.create("alice", "lookup", () => {}, {
      args: { q: "x" },
      auth: { clientId: "alice", scopes: ["s:read"] },
    });
    const claims: { by: number; record: TaskRecord }[] = [];
    const others = await Promise.all([0, 1, 2].map(() => replica()));
    others.forEach((m, by) => {
      m.resumer = (record, resumed: TaskExecution) => {
        claims.push({ by, record });
        void sleep(100).then(() =>
          resumed.complete({
            content: [{ type: "text", text: `looked up ${String(record.rerun?.args.q)} on ${by}` }],
          }),
        );
        return () => {};
      };
    });
    await sleep(LEASE_MS + 100);
    // Twelve reads at once, four through each replica: one claim.
    const seen = await Promise.all(
      others.flatMap((m) => [0, 1, 2, 3].map(() => m.get(execution.taskId, "alice"))),
    );
    expect(claims).toHaveLength(1);
    expect(seen.every((t) => t.status === "working")).toBe(true);
    expect(seen.some((t) => String(t.statusMessage).includes("resumed on another server instance"))).toBe(
      true,
    );
    const [claim] = claims;
    expect(claim!.record).toMatchObject({
      taskId: execution.taskId,
      owner: "alice",
      tool: "lookup",
      handovers: 1,
      rerun: { args: { q: "x" }, auth: { clientId: "alice", scopes: ["s:read"] } },
    });
    let done: Record<string, unknown> = {};
    for (let i = 0; i < 40 && done.status !== "completed"; i++) {
      await sleep(50);
      done = await others[(i + 1) % 3]!.get(execution.taskId, "alice");
    }
    expect(done.status).toBe("completed");
    expect(text(done)).toBe(`looked up x on ${claim!.by}`);
    expect(claims).toHaveLength(1);
    // The claiming replica renews the lease: well past it, nobody claims again.
    await sleep(LEASE_MS * 2);
    expect((await others[0]!.get(execution.taskId, "alice")).status).toBe("completed");
  });

  it("a replica writing its outcome after its own lease lapsed does not take the task over from itself", async () => {
    const a = await stopped();
    const execution = await a.create("alice", "lookup", () => {}, { args: { q: "z" } });
    // B claims the task, then stalls: it never renews, so its lease lapses while it finishes.
    const b = await stopped();
    let claims = 0;
    let resumed: TaskExecution | undefined;
    b.resumer = (_record, run) => {
      claims++;
      resumed = run;
      return () => {};
    };
    await sleep(LEASE_MS + 100);
    await b.get(execution.taskId, "alice");
    expect(claims).toBe(1);
    await sleep(LEASE_MS + 100);
    // The outcome's write is held until B's own sweep has run over the lapsed task.
    let letGo: () => void = () => {};
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const update = b.store.update.bind(b.store);
    let first = true;
    b.store.update = async (...args) => {
      if (first) {
        first = false;
        await held;
      }
      return update(...args);
    };
    const settling = resumed!.complete({ content: [{ type: "text", text: "done once" }] });
    await b.sweep();
    await b.get(execution.taskId, "alice");
    letGo();
    await settling;
    expect(claims).toBe(1);
    const done = await b.get(execution.taskId, "alice");
    expect(done.status).toBe("completed");
    expect(text(done)).toBe("done once");
  });

  it("the stopped replica's run, if it wakes up, is stopped and cannot overwrite the new run's outcome", async () => {
    const a = await stopped();
    let stoppedWith: Error | undefined;
    const first = await a.create("alice", "lookup", (reason) => (stoppedWith = reason), { args: {} });
    const b = await replica();
    let resumed: TaskExecution | undefined;
    b.resumer = (_record, execution) => {
      resumed = execution;
      return () => {};
    };
    await sleep(LEASE_MS + 100);
    await b.get(first.taskId, "alice");
    expect(resumed).toBeDefined();
    // A comes back (a stall, not a crash): its next watch finds the task taken and stops its handler.
    await first.watch();
    expect(stoppedWith?.message).toBe("the task was handed over to another server instance");
    await first.complete({ content: [{ type: "text", text: "stale" }] });
    expect((await b.get(first.taskId, "alice")).status).toBe("working");
    await resumed!.complete({ content: [{ type: "text", text: "fresh" }] });
    expect(text(await a.get(first.taskId, "alice"))).toBe("fresh");
  });

  it("a task kept without what a re-run needs (a write tool's) fails as before; no replica runs it", async () => {
    const a = await stopped();
    const execution = await a.create("alice", "append", () => {});
    const b = await replica();
    let ran = 0;
    b.resumer = () => {
      ran++;
      return () => {};
    };
    await sleep(LEASE_MS + 100);
    const t = await b.get(execution.taskId, "alice");
    expect(t.status).toBe("failed");
    expect((t.error as { message: string }).message).toMatch(
      /^the server instance running this task stopped before it finished \(no heartbeat since .+\); call the tool again$/,
    );
    expect(ran).toBe(0);
  });

  it("hand-overs are capped: once they are used up, a lapsed task fails, saying how many there were", async () => {
    const a = await stopped({ maxHandovers: 1 });
    const execution = await a.create("alice", "lookup", () => {}, { args: {} });
    // B takes it over and then stops too.
    const b = await stopped({ maxHandovers: 1 });
    let ran = 0;
    const count = () => {
      ran++;
      return () => {};
    };
    b.resumer = count;
    const c = await replica({ maxHandovers: 1 });
    c.resumer = count;
    await sleep(LEASE_MS + 100);
    expect((await b.get(execution.taskId, "alice")).statusMessage).toBe(
      "resumed on another server instance after the one running it stopped (hand-over 1 of at most 1)",
    );
    expect(ran).toBe(1);
    await sleep(LEASE_MS + 100);
    const t = await c.get(execution.taskId, "alice");
    expect(t.status).toBe("failed");
    expect((t.error as { message: string }).message).toContain(
      "stopped before it finished (no heartbeat since",
    );
    expect((t.error as { message: string }).message).toContain(", after 1 hand-over,");
    expect(ran).toBe(1);
  });

  it("another caller's read of a lapsed task claims nothing and learns nothing", async () => {
    const a = await stopped();
    const execution = await a.create("alice", "lookup", () => {}, { args: {} });
    const b = await replica();
    let ran = 0;
    b.resumer = () => {
      ran++;
      return () => {};
    };
    await sleep(LEASE_MS + 100);
    await expect(b.get(execution.taskId, "mallory")).rejects.toThrow(/no task/);
    expect(ran).toBe(0);
  });

  it("at shutdown a re-runnable task is given up at once, and its aborted run writes nothing; a write tool's is kept", async () => {
    const a = await replica();
    const readOnly = await a.create("alice", "lookup", () => {}, { args: {} });
    const write = await a.create("alice", "append", () => {});
    const b = await replica();
    let ran = 0;
    b.resumer = () => {
      ran++;
      return () => {};
    };
    expect(await a.release()).toBe(1);
    // The handler, aborted by the shutdown, ends with its error: not written.
    await readOnly.complete({
      content: [{ type: "text", text: "the server is shutting down" }],
      isError: true,
    });
    // No lease to wait for: the next read takes it over.
    expect(await b.get(readOnly.taskId, "alice")).toMatchObject({ status: "working" });
    expect(ran).toBe(1);
    expect((await b.get(write.taskId, "alice")).status).toBe("working");
    await write.complete({ content: [{ type: "text", text: "appended" }] });
    expect((await b.get(write.taskId, "alice")).status).toBe("completed");
  });

  describe("the sweep: lapsed tasks nobody reads", () => {
    const SWEEP_MS = 50;
    let redis: Redis;
    let raw: RedisTaskStore;
    afterEach(async () => {
      await raw?.close();
      redis?.disconnect();
    });
    async function connectRaw(): Promise<void> {
      raw = await RedisTaskStore.connect({ url: REDIS_URL, keyPrefix: prefix });
      redis = new Redis(REDIS_URL);
    }
    /** The task's score in the lease index, or null when it is not there. */
    const indexed = (taskId: string) => redis.zscore(`${prefix}:leases`, taskId);
    async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 3_000): Promise<T> {
      const end = Date.now() + ms;
      for (;;) {
        const v = await read();
        if (ok(v) || Date.now() > end) return v;
        await sleep(25);
      }
    }

    it("one of three sweeping replicas takes a re-runnable task over with no read, and it completes; the index lets go of it", async () => {
      await connectRaw();
      const a = await stopped({ sweepMs: SWEEP_MS });
      const execution = await a.create("alice", "lookup", () => {}, { args: { q: "y" } });
      expect(Number(await indexed(execution.taskId))).toBe(execution.record.leaseUntil);
      const claims: number[] = [];
      const others = await Promise.all([0, 1, 2].map(() => replica({ sweepMs: SWEEP_MS })));
      others.forEach((m, by) => {
        m.resumer = (_record, resumed) => {
          claims.push(by);
          void sleep(100).then(() => resumed.complete({ content: [{ type: "text", text: `swept ${by}` }] }));
          return () => {};
        };
      });
      // Nobody calls get: the store is read directly, which claims nothing.
      const done = await until(
        () => raw.get(execution.taskId),
        (r) => r?.status === "completed",
      );
      expect(done).toMatchObject({ status: "completed", handovers: 1 });
      expect(claims).toHaveLength(1);
      expect(text(done as unknown as Record<string, unknown>)).toBe(`swept ${claims[0]}`);
      expect(await indexed(execution.taskId)).toBeNull();
      // Stopped A's own sweep skips the task it runs; nothing claims it again.
      await sleep(LEASE_MS + 4 * SWEEP_MS);
      expect(claims).toHaveLength(1);
    });

    it("a write tool's lapsed task is failed by the sweep, and its status change published (what a listen stream is sent)", async () => {
      await connectRaw();
      const a = await stopped();
      const execution = await a.create("alice", "append", () => {});
      const published: TaskRecord[] = [];
      const b = await replica({ sweepMs: SWEEP_MS }, (r) => published.push(r));
      let ran = 0;
      b.resumer = () => {
        ran++;
        return () => {};
      };
      await until(
        () => Promise.resolve(published.length),
        (n) => n > 0,
      );
      expect(published.map((r) => [r.taskId, r.status])).toEqual([[execution.taskId, "failed"]]);
      expect(published[0]!.error?.message).toContain("stopped before it finished");
      expect(ran).toBe(0);
      expect(await indexed(execution.taskId)).toBeNull();
    });

    it("a replica stopping gives its tasks up and its own sweep leaves them to the others", async () => {
      await connectRaw();
      const a = await replica({ sweepMs: SWEEP_MS });
      let mine = 0;
      a.resumer = () => {
        mine++;
        return () => {};
      };
      const execution = await a.create("alice", "lookup", () => {}, { args: {} });
      expect(await a.release()).toBe(1);
      expect(Number(await indexed(execution.taskId))).toBe(0);
      await sleep(4 * SWEEP_MS);
      expect(mine).toBe(0);
      expect((await raw.get(execution.taskId))?.handovers).toBeUndefined();
      const b = await replica({ sweepMs: SWEEP_MS });
      let theirs = 0;
      b.resumer = () => {
        theirs++;
        return () => {};
      };
      const taken = await until(
        () => raw.get(execution.taskId),
        (r) => r?.handovers === 1,
      );
      expect(taken?.handovers).toBe(1);
      expect([mine, theirs]).toEqual([0, 1]);
    });

    it("a task gone with its ttl leaves the index at the next sweep, which finds nothing to do", async () => {
      await connectRaw();
      const a = await stopped({ ttlMs: 200 });
      const execution = await a.create("alice", "lookup", () => {}, { args: {} });
      expect(await indexed(execution.taskId)).not.toBeNull();
      await sleep(LEASE_MS + 100);
      expect(await raw.get(execution.taskId)).toBeUndefined();
      expect(await raw.lapsed(Date.now(), 16)).not.toContain(execution.taskId);
      expect(await indexed(execution.taskId)).toBeNull();
    });

    it("with a key prefix in the Redis URL (`?keyPrefix=`), a lapsed task is still found, not dropped as gone", async () => {
      const store = await RedisTaskStore.connect({
        url: `${REDIS_URL}?keyPrefix=${prefix}:url:`,
        keyPrefix: "t",
      });
      const manager = new TaskManager(
        logger,
        { store, leaseMs: LEASE_MS, sweepMs: 0, watchMs: 3_600_000 },
        () => {},
      );
      opened.push(manager);
      const execution = await manager.create("alice", "lookup", () => {}, { args: {} });
      redis = new Redis(REDIS_URL);
      // The client prefixes every key it is given, so the index is under the URL's prefix.
      expect(await redis.zscore(`${prefix}:url:t:leases`, execution.taskId)).not.toBeNull();
      await sleep(LEASE_MS + 100);
      expect(await store.lapsed(Date.now(), 16)).toEqual([execution.taskId]);
      expect(await redis.zscore(`${prefix}:url:t:leases`, execution.taskId)).not.toBeNull();
    });
  });
});
