// Two gateway replicas on one real Redis, each with a caller following the same upstream resource:
// each replica follows it upstream for its own caller and hears the upstream's update itself, so
// each caller is told once, not once per replica (the update is not also fanned out through Redis).
// The kit fixture is the upstream, on real HTTP on loopback; callers are the real SDK client
// (2026-07-28 listen streams and a 2025 session).
import { setTimeout as sleep } from "node:timers/promises";
import everything from "@toolshed/fixture-everything";
import { startHttpServer } from "@toolshed/server";
import { connectHttpClient, recordChanges, type Client } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { needRedis } from "../../../test-support/services.js";
import { startGateway, type TestGateway } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp = await needRedis(REDIS_URL);
const UPDATED = "notifications/resources/updated";
const WATCHED = "test://watched-resource";

describe.runIf(redisUp)("two gateway replicas sharing Redis", () => {
  let upstream: Awaited<ReturnType<typeof startHttpServer>>;
  let replicas: TestGateway[] = [];
  const open: Client[] = [];

  beforeAll(async () => {
    upstream = await startHttpServer(everything, {}, { logLevel: "silent" });
    // Its own namespace, so another test's gateways on the same Redis never announce this URI.
    const config = `upstreams:\n  dup${process.pid}:\n    url: ${upstream.url}\n`;
    // Their changes cross on a channel of this run's own (the bin's is toolshed:gateway:changes).
    const changesChannel = `toolshed:gateway-test-${process.pid}:changes`;
    replicas = await Promise.all(
      [0, 1].map(() => startGateway(config, { redisUrl: REDIS_URL, changesChannel })),
    );
    // Set up (as the bin does at start), so callers are offered subscriptions from the first request.
    await Promise.all(replicas.map((gw) => gw.deps()));
  });

  afterAll(async () => {
    await Promise.allSettled(open.map((c) => c.close()));
    for (const gw of replicas) await gw.close();
    await upstream?.close();
  });

  it("tell each caller of an upstream's resource update once", async () => {
    const exposed = `dup${process.pid}+${WATCHED}`;
    const direct = await connectHttpClient(upstream.url, {}, undefined, "modern");
    open.push(direct);
    const callers = await Promise.all([
      connectHttpClient(replicas[0]!.url, {}, undefined, "modern"),
      connectHttpClient(replicas[1]!.url, {}, undefined, "modern"),
      connectHttpClient(replicas[0]!.url, {}, undefined, "legacy"),
    ]);
    open.push(...callers);
    const got = callers.map((c) => recordChanges(c));
    await callers[0].listen({ resourceSubscriptions: [exposed] });
    await callers[1].listen({ resourceSubscriptions: [exposed] });
    await callers[2].subscribeResource({ uri: exposed });
    for (const gw of replicas) {
      const upstreams = (await gw.deps()).gateway.upstreams;
      await vi.waitFor(() => expect(upstreams.get(`dup${process.pid}`)!.followed).toEqual([WATCHED]), {
        timeout: 10_000,
      });
    }
    const r = await direct.callTool({
      name: "announce_change",
      arguments: { kind: "resource", uri: WATCHED },
    });
    expect(r.isError).toBeFalsy();
    for (const g of got) await g.until(UPDATED, exposed, 10_000);
    // Time for a second copy (through Redis from the other replica) to arrive, were one sent.
    await sleep(1_000);
    for (const g of got)
      expect(g.seen.filter((s) => s.method === UPDATED)).toEqual([{ method: UPDATED, uri: exposed }]);
  });
});
