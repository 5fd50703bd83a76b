// `pnpm test:replicas`, data-analytics: three processes on one PostgreSQL warehouse (this machine's,
// read through a read-only role) and one Redis, behind a loopback round-robin proxy, the way
// k8s/overlays/data-analytics-cluster runs them. A mixed workload from 2026-07-28 clients and a 2025
// client (its session in Redis) checks every answer against numbers known in advance; one replica is
// killed mid-run and the others carry on: 0 errors, 0 wrong answers.
//
// The server is read-only on PostgreSQL, so the writes here are the warehouse's own, made by its
// owner as a loader would: rows appended during the run and a table created mid-run must be seen by
// the next call, whichever replica answers it, and by every survivor at the end. Nothing a replica
// reads is kept per process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { connectHttpClient, modernCall, startRoundRobinProxy, type RoundRobinProxy } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needPostgres, needRedis } from "../../test-support/services.js";
import { killWithCallsInFlight, startReplica, toolCallsServed, type Replica } from "./replica.js";
import { root } from "./workspace.js";

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const POSTGRES_URL = process.env.TOOLSHED_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BIN = join(root, "servers/data-analytics/dist/bin.js");
const TASKS = "io.modelcontextprotocol/tasks";
const REPLICAS = 3;
/** The task lease (TOOLSHED_TASK_LEASE_MS): short, so a killed replica's task is handed over within seconds. */
const LEASE_MS = 2_000;
const POOL = 2;
const ROUNDS = 24;
/**
 * The 2025 client's request timeout (the SDK's default is 60 s). When the kill cuts one of its calls
 * after the answer's SSE stream has begun, the client resumes the stream on a survivor, which waits
 * for an answer the dead replica will never write: only this timeout ends that call.
 */
const LEGACY_CALL_TIMEOUT_MS = 20_000;
/** Rows of the sales table, whose sums the test knows. */
const SALES = 4000;
/** Rows of the table the loader creates a quarter into the run. */
const LATE = 123;
const pgHost = new URL(POSTGRES_URL);
const hasServices =
  (await needRedis(REDIS_URL)) && (await needPostgres(pgHost.hostname, Number(pgHost.port || 5432)));

/** What `SELECT count(*), sum(units), sum(amount) FROM sales WHERE id <= k` answers. */
function salesUpTo(k: number): [number, number, number] {
  let units = 0;
  let amount = 0;
  for (let id = 1; id <= k; id++) {
    units += id % 7;
    amount += (id % 100) + 0.25;
  }
  return [k, units, amount];
}

describe.runIf(hasServices)("data-analytics replicas on one PostgreSQL warehouse and one Redis", () => {
  const schema = `toolshed_replicas_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const role = `${schema}_reader`;
  /** The warehouse's owner: creates the data and, during the run, writes to it as a loader would. */
  let admin: pg.Pool;
  const dataDirs: string[] = [];
  const replicas: Replica[] = [];
  let proxy: RoundRobinProxy;
  const withTasks = { extensions: { [TASKS]: {} } };
  type Reply = {
    result?: {
      resultType?: string;
      taskId?: string;
      status?: string;
      statusMessage?: string;
      isError?: boolean;
      content?: { text?: string }[];
      structuredContent?: { rows?: unknown[][] };
      result?: { isError?: boolean; structuredContent?: { rows?: unknown[][] } };
      error?: { message?: string };
    };
    error?: unknown;
  };

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000, max: 4 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(
      `CREATE TABLE ${schema}.sales AS SELECT g::bigint AS id,
         (ARRAY['north', 'south', 'east', 'west'])[g % 4 + 1] AS region,
         (g % 7)::bigint AS units, ((g % 100) + 0.25)::numeric(10, 2) AS amount
       FROM generate_series(1, ${SALES}) AS g`,
    );
    await admin.query(`CREATE TABLE ${schema}.events (client int NOT NULL, round int NOT NULL)`);
    // The role the overlay's postgres-url names: it may read the schema and nothing more (the server
    // refuses to start as a role that can write). Tables the loader creates later are readable too.
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    await admin.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${role}`);
    const reader = new URL(POSTGRES_URL);
    reader.username = role;
    reader.password = "";
    for (let i = 0; i < REPLICAS; i++) {
      // Each pod has a data dir of its own; on PostgreSQL nothing of the data lives there.
      const dataDir = mkdtempSync(join(tmpdir(), "toolshed-da-replica-"));
      dataDirs.push(dataDir);
      replicas.push(
        await startReplica(BIN, {
          TOOLSHED_POSTGRES_URL: reader.toString(),
          TOOLSHED_POSTGRES_SCHEMA: schema,
          TOOLSHED_POSTGRES_POOL_SIZE: String(POOL),
          TOOLSHED_REDIS_URL: REDIS_URL,
          TOOLSHED_DATA_DIR: dataDir,
          TOOLSHED_TASK_LEASE_MS: String(LEASE_MS),
        }),
      );
    }
    proxy = await startRoundRobinProxy(
      replicas.map((r) => r.origin),
      { failover: true },
    );
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(replicas.map((r) => r.kill()));
    if (admin) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined); // the role may not exist
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it("answers a mixed workload right with 0 errors, sees the warehouse's writes everywhere, through the kill of one replica", async () => {
    // Three 2026-07-28 clients (stateless: any replica answers) and one 2025 client whose session
    // lives in Redis (plain round robin, no affinity).
    const clients = [
      await connectHttpClient(proxy.url, {}, undefined, "modern"),
      await connectHttpClient(proxy.url, {}, undefined, "modern"),
      await connectHttpClient(proxy.url, {}, undefined, "modern"),
      await connectHttpClient(proxy.url),
    ];
    const LEGACY = 3;
    const errors: string[] = [];
    const wrong: string[] = [];
    /** Calls the kill cut mid-flight (each sent again, as a client retrying a read would). */
    const cutCalls: string[] = [];
    let resentOk = 0;
    let killing = false;
    const call = async (w: number, name: string, args: Record<string, unknown>) => {
      const send = () =>
        clients[w]!.callTool(
          { name, arguments: args },
          w === LEGACY ? { timeout: LEGACY_CALL_TIMEOUT_MS } : {},
        );
      let r: Awaited<ReturnType<typeof send>>;
      try {
        r = await send();
      } catch (err) {
        if (!killing) {
          errors.push(`${name} (client ${w}): ${String(err)}`);
          return undefined;
        }
        cutCalls.push(`${name} (client ${w}): ${String(err)}`);
        try {
          r = await send();
        } catch (again) {
          errors.push(`${name} (client ${w}), sent again after the kill cut it: ${String(again)}`);
          return undefined;
        }
        if (!r.isError) resentOk++;
      }
      if (r.isError) errors.push(`${name} (client ${w}): ${JSON.stringify(r.content)}`);
      return r.structuredContent as Record<string, unknown> | undefined;
    };
    const check = (what: string, got: unknown, want: unknown) => {
      if (JSON.stringify(got) !== JSON.stringify(want))
        wrong.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    };
    const firstRow = (r: Record<string, unknown> | undefined) =>
      ((r?.rows as unknown[][] | undefined)?.[0] ?? []).map(Number);
    type Listed = { name: string; rowCount: number };
    const listed = (r: Record<string, unknown> | undefined) =>
      Object.fromEntries(((r?.datasets as Listed[] | undefined) ?? []).map((d) => [d.name, d.rowCount]));

    const before = await Promise.all(replicas.map((r) => toolCallsServed(r.origin)));
    let atKill: number[] = [];
    const KILLED = 1;
    const killed = replicas[KILLED]!;
    let inFlightAtKill = 0;
    /** The task running on the replica when it is killed, polled to its end through the proxy. */
    let handedOver: Promise<{ task: Reply["result"]; resumed: boolean }> | undefined;
    const pollToEnd = async (taskId: string) => {
      let task: Reply["result"];
      let resumed = false;
      for (const until = Date.now() + 60_000; task?.status === undefined || task.status === "working";) {
        if (Date.now() > until) throw new Error(`task ${taskId} still ${task?.status} 60 s after the kill`);
        const got = (await modernCall(proxy.url, "tasks/get", { taskId }, withTasks)) as Reply;
        if (got.error) errors.push(`tasks/get of the killed replica's task: ${JSON.stringify(got.error)}`);
        task = got.result;
        resumed ||= String(task?.statusMessage).startsWith("resumed on another server instance");
        if (task?.status === "working") await new Promise((r) => setTimeout(r, 200));
      }
      return { task, resumed };
    };
    for (let round = 0; round < ROUNDS; round++) {
      if (round === ROUNDS / 4) {
        await admin.query(
          `CREATE TABLE ${schema}.late AS SELECT g AS id FROM generate_series(1, ${LATE}) AS g`,
        );
      }
      const killRound = round === ROUNDS / 2;
      if (killRound) atKill = await Promise.all(replicas.map((r) => toolCallsServed(r.origin)));
      // A client of the tasks extension has a long read (32 million joined rows, seconds) running as
      // a task on the replica about to be killed: sent to it directly, so it runs there, before the
      // round's calls so the kill still finds those in flight.
      const taskId = killRound
        ? ((
            (await modernCall(
              `${killed.origin}/mcp`,
              "tools/call",
              {
                name: "query",
                arguments: {
                  sql: "SELECT sum(a.id * b.id * c) AS s FROM sales a, sales b, generate_series(1, 2) AS c",
                },
              },
              withTasks,
            )) as Reply
          ).result?.taskId ?? "")
        : "";
      if (killRound) expect(taskId, "the long read on the replica to kill became a task").not.toBe("");
      const work = Promise.all([
        ...clients.map(async (_, w) => {
          // The loader appends this client's row for the round; the next calls, which the proxy
          // sends to other replicas, must count it.
          await admin.query(`INSERT INTO ${schema}.events VALUES ($1, $2)`, [w, round]);
          const seen = await call(w, "query", {
            sql: `SELECT count(*) AS n, max(round) AS last FROM events WHERE client = ${w}`,
          });
          check(`events of client ${w} after round ${round}`, firstRow(seen), [round + 1, round]);

          const k = 160 * (round + 1) - 37 * w; // 49 to 3,840: within the table
          const sums = await call(w, "query", {
            sql: `SELECT count(*) AS n, sum(units) AS units, sum(amount) AS amount FROM sales WHERE id <= ${k}`,
          });
          check(`sales up to ${k}`, firstRow(sums), salesUpTo(k));

          const described = await call(w, "describe_dataset", { name: "sales", sampleRows: 1 });
          const columns = (described?.columns as { name: string; distinctCount: number }[] | undefined) ?? [];
          check(
            `describe_dataset sales (client ${w}, round ${round})`,
            [described?.rowCount, columns.map((c) => [c.name, c.distinctCount])],
            [
              SALES,
              [
                ["id", SALES],
                ["region", 4],
                ["units", 7],
                ["amount", 100],
              ],
            ],
          );

          const datasets = listed(await call(w, "list_datasets", {}));
          check(
            `list_datasets (client ${w}, round ${round})`,
            [datasets.sales, datasets.late],
            [SALES, round >= ROUNDS / 4 ? LATE : undefined],
          );
        }),
        // In the kill round each client also sends a slow read (8 million joined rows, a few tenths
        // of a second) beside the round's calls, so the kill lands on calls in flight.
        ...(killRound
          ? clients.map(async (_, w) => {
              const pairs = await call(w, "query", {
                sql: `SELECT count(*) AS n FROM sales a, sales b WHERE a.id <= ${SALES / 2} AND (a.id + b.id) % 1000 = ${w}`,
              });
              check(`pairs summing to ${w} mod 1000 (client ${w})`, firstRow(pairs), [
                (SALES * SALES) / 2000,
              ]);
            })
          : []),
      ]);
      if (killRound) {
        // SIGKILL with calls on the replica: the proxy answers them 502 (or cuts their stream if the
        // answer had begun), as a load balancer would; `call` sends each again, to a survivor.
        killing = true;
        inFlightAtKill = await killWithCallsInFlight(proxy, KILLED, killed);
        handedOver = pollToEnd(taskId);
      }
      await work;
      killing = false;
    }
    await Promise.all(clients.map((c) => c.close()));
    process.stderr.write(
      `[replicas] data-analytics: SIGKILL with ${inFlightAtKill} calls in flight on the replica cut ${cutCalls.length}:\n  ${cutCalls.join("\n  ")}\n`,
    );
    // The task it was running was taken over by a survivor (query is read-only) and completed there,
    // right, under the same id: nothing lost.
    const { task, resumed } = await handedOver!;
    expect(task?.status, JSON.stringify(task).slice(0, 300)).toBe("completed");
    expect(resumed).toBe(true);
    const sumOfIds = (SALES * (SALES + 1)) / 2;
    expect(task?.result?.structuredContent?.rows?.[0]?.map(Number)).toEqual([sumOfIds * sumOfIds * 3]);
    expect(errors).toEqual([]);
    expect(wrong).toEqual([]);
    expect(killed.child.signalCode).toBe("SIGKILL");
    // The kill cut calls in flight, and only on the killed replica, as the proxy saw it too: each was
    // answered 502 naming it (or, for the 2025 client whose answer had begun, by the survivor it resumed
    // on once the dead replica's stream lease lapsed), and each, sent again, was answered right by a survivor (checked with the others above).
    expect(cutCalls.length).toBeGreaterThan(0);
    expect(proxy.cut).toEqual(replicas.map((_, i) => (i === KILLED ? cutCalls.length : 0)));
    for (const cut of cutCalls) {
      expect(cut).toMatch(
        new RegExp(
          `upstream ${killed.origin} failed|server instance running this call stopped|Request timed out`,
        ),
      );
    }
    expect(resentOk).toBe(cutCalls.length);

    // Every replica served its share before the kill (4 calls a client a round: 192 calls over three
    // replicas, about 64 each), and the survivors carried theirs after it (about 96 each); at least
    // half of a fair share, since the 2025 client's other requests take turns in the rotation too.
    const half = (clients.length * 4 * ROUNDS) / 2;
    replicas.forEach((r, i) =>
      expect(atKill[i]! - before[i]!, r.origin).toBeGreaterThan(half / REPLICAS / 2),
    );
    const survivors = replicas.filter((r) => r !== killed);
    const after = await Promise.all(survivors.map((r) => toolCallsServed(r.origin)));
    survivors.forEach((r, i) =>
      expect(after[i]! - atKill[replicas.indexOf(r)]!, r.origin).toBeGreaterThan(half / survivors.length / 2),
    );

    // Each survivor, asked directly, sees every row the loader wrote and the table it created.
    for (const r of survivors) {
      const direct = await connectHttpClient(`${r.origin}/mcp`, {}, undefined, "modern");
      const perClient = await direct.callTool({
        name: "query",
        arguments: { sql: "SELECT client, count(*) AS n FROM events GROUP BY client ORDER BY client" },
      });
      expect(
        (perClient.structuredContent as { rows: unknown[][] }).rows.map((row) => row.map(Number)),
        r.origin,
      ).toEqual(clients.map((_, w) => [w, ROUNDS]));
      const all = await direct.callTool({ name: "list_datasets", arguments: {} });
      expect(listed(all.structuredContent as Record<string, unknown>), r.origin).toEqual({
        sales: SALES,
        events: clients.length * ROUNDS,
        late: LATE,
      });
      await direct.close();
    }
  }, 120_000);

  // Tasks across replicas: a long query from a client of the tasks extension becomes a task, stored
  // in Redis, so every replica answers its polls, not only the one running it. The tools that write
  // datasets also declare `task`, but a read-only warehouse refuses them at once, so they make none.
  it("runs long queries as tasks whose polls any replica answers; the write tools refuse at once", async () => {
    const calls = [
      { name: "export_dataset", arguments: { name: "sales", file: "sales.csv" } },
      { name: "transform", arguments: { source: "sales", target: "x", steps: [{ op: "limit", rows: 1 }] } },
      { name: "register_dataset", arguments: { name: "x", path: "x.csv" } },
    ];
    for (const params of calls) {
      // Through the proxy, so each of the surviving replicas answers one of them or more.
      const reply = (await modernCall(proxy.url, "tools/call", params, withTasks)) as Reply;
      expect(reply.result?.resultType, params.name).not.toBe("task");
      expect(reply.result?.isError, params.name).toBe(true);
      expect(reply.result?.content?.[0]?.text, params.name).toMatch(/not available on the postgres engine/);
    }

    // 16–48 million joined rows: seconds of work, far past the half second after which a task tool's
    // call becomes a task. Three at once, so the proxy spreads them over both survivors.
    const survivors = replicas.filter((r) => r.child.signalCode === null);
    expect(survivors.length).toBe(REPLICAS - 1);
    const sumOfIds = (SALES * (SALES + 1)) / 2;
    const ks = [1, 2, 3];
    const created = await Promise.all(
      ks.map(
        async (k) =>
          (await modernCall(
            proxy.url,
            "tools/call",
            {
              name: "query",
              arguments: {
                sql: `SELECT sum(a.id * b.id * c) AS s FROM sales a, sales b, generate_series(1, ${k}) AS c`,
              },
            },
            withTasks,
          )) as Reply,
      ),
    );
    const taskIds = created.map((r, i) => {
      expect(r.result?.resultType, `query ${ks[i]}: ${JSON.stringify(r).slice(0, 300)}`).toBe("task");
      return r.result!.taskId!;
    });
    // Each survivor, asked directly, knows every task, whichever of them runs it.
    for (const r of survivors) {
      for (const taskId of taskIds) {
        const got = (await modernCall(`${r.origin}/mcp`, "tasks/get", { taskId }, withTasks)) as Reply;
        expect(got.error, `${r.origin} ${taskId}`).toBeUndefined();
        expect(["working", "completed"], `${r.origin} ${taskId}`).toContain(got.result?.status);
      }
    }
    // Polled through the proxy (both survivors in turn) until done: the right sums.
    for (const [i, taskId] of taskIds.entries()) {
      const k = ks[i]!;
      let task: Reply["result"];
      for (const until = Date.now() + 90_000; task?.status !== "completed";) {
        const got = (await modernCall(proxy.url, "tasks/get", { taskId }, withTasks)) as Reply;
        task = got.result;
        expect(["working", "completed"], `${taskId}: ${JSON.stringify(got).slice(0, 300)}`).toContain(
          task?.status,
        );
        if (Date.now() > until) throw new Error(`task ${taskId} still ${task?.status} after 90 s`);
        if (task?.status !== "completed") await new Promise((r) => setTimeout(r, 200));
      }
      expect(task?.result?.isError).toBeFalsy();
      expect(task?.result?.structuredContent?.rows?.[0]?.map(Number)).toEqual([
        (sumOfIds * sumOfIds * k * (k + 1)) / 2,
      ]);
    }
  }, 120_000);

  // A replica killed while it runs a task: its lease (renewed four times a second) lapses, and the
  // next tasks/get on a survivor takes the task over: `query` is read-only, so the survivor runs the
  // same call again and the task completes with the right answer, keeping its id. (A write tool's
  // task would be reported failed instead: packages/testing/test/tasks.test.ts.)
  it("hands a read-only task over once the replica running it is killed: it completes through a survivor, with the right answer", async () => {
    // After the first test's kill two replicas are left (three when this test runs alone): one to
    // kill, one to answer.
    expect(replicas.filter((r) => r.child.signalCode === null).length).toBeGreaterThanOrEqual(2);
    const before = [...proxy.counts];
    const created = (await modernCall(
      proxy.url,
      "tools/call",
      {
        name: "query",
        arguments: {
          sql: "SELECT sum(a.id * b.id * c) AS s FROM sales a, sales b, generate_series(1, 3) AS c",
        },
      },
      withTasks,
    )) as Reply;
    expect(created.result?.resultType, JSON.stringify(created).slice(0, 300)).toBe("task");
    const taskId = created.result!.taskId!;
    // The replica the proxy gave the call to runs the task: the one whose count moved.
    const moved = proxy.counts.flatMap((n, i) => (n === before[i] ? [] : [i]));
    expect(moved.length).toBe(1);
    const runner = replicas[moved[0]!]!;
    await runner.kill();
    const killedAt = Date.now();

    // Polled through the proxy, so by the replicas left; `working` all along: until the lease lapses,
    // then resumed on the survivor that noticed. The lease is short of the default (15 s) and the
    // re-run takes seconds: a replica that ignored TOOLSHED_TASK_LEASE_MS would not finish in time.
    const MARGIN_MS = 30_000;
    let task: Reply["result"];
    let resumed = false;
    for (
      const until = killedAt + LEASE_MS + MARGIN_MS;
      task?.status === undefined || task.status === "working";
    ) {
      if (Date.now() > until)
        throw new Error(`task ${taskId} still ${task?.status} ${LEASE_MS + MARGIN_MS} ms after the kill`);
      const got = (await modernCall(proxy.url, "tasks/get", { taskId }, withTasks)) as Reply;
      expect(got.error, JSON.stringify(got).slice(0, 300)).toBeUndefined();
      task = got.result;
      resumed ||= String(task?.statusMessage).startsWith("resumed on another server instance");
      if (task?.status === "working") await new Promise((r) => setTimeout(r, 200));
    }
    process.stderr.write(
      `[replicas] data-analytics: the killed replica's task completed through a survivor ${Date.now() - killedAt} ms after the kill (lease ${LEASE_MS} ms)\n`,
    );
    expect(task?.status, JSON.stringify(task).slice(0, 300)).toBe("completed");
    expect(resumed).toBe(true);
    expect(task?.result?.isError).toBeFalsy();
    const sumOfIds = (SALES * (SALES + 1)) / 2;
    expect(task?.result?.structuredContent?.rows?.[0]?.map(Number)).toEqual([sumOfIds * sumOfIds * 6]);
  }, 90_000);
});
