import { randomUUID } from "node:crypto";
import { RedisChangeBus } from "@toolshed/server";
import {
  callTool,
  connectHttpClient,
  connectV1HttpClient,
  eventually,
  recordChanges,
  startTestHttpServer,
  type TestHttpServer,
} from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needRedis } from "../../../test-support/services.js";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { tempDataDir } from "./helpers.js";

// Two replicas of data-analytics on one real Redis (a channel of their own): a dataset registered or
// re-registered through replica A is announced to listeners connected to replica B, on both eras.

const SCHEMA = "dataset://sales/schema";
const UPDATED = "notifications/resources/updated";
const LIST = "notifications/resources/list_changed";

// In CI a missing Redis fails here; elsewhere these tests are skipped, saying so.
const redisUp = await needRedis();
const REDIS_URL = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

describe.runIf(redisUp)("dataset changes across two replicas", () => {
  const dirs = [tempDataDir(), tempDataDir()];
  let a: TestHttpServer;
  let b: TestHttpServer;
  beforeAll(async () => {
    const channel = `toolshed-test:${randomUUID()}:changes`;
    const replica = async (dir: string) =>
      startTestHttpServer(
        server,
        {},
        {
          config: configSchema.parse({ dataDir: dir }),
          confirm: "never", // replacing a dataset asks a person otherwise; this is about what listeners get
          changes: await RedisChangeBus.create({ url: REDIS_URL, channel }),
        },
      );
    a = await replica(dirs[0]!.dir);
    b = await replica(dirs[1]!.dir);
  });
  afterAll(async () => {
    await Promise.allSettled([a.close(1_000), b.close(1_000)]);
    for (const d of dirs) d.cleanup();
  });

  it("advertises exactly the resource notifications it sends", async () => {
    const v1 = await connectV1HttpClient(b.url);
    try {
      expect(v1.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: true });
      expect(v1.getServerCapabilities()?.tools).toEqual({ listChanged: false });
      expect(v1.getServerCapabilities()?.prompts).toEqual({ listChanged: false });
    } finally {
      await v1.close();
    }
  });

  it("register_dataset through A notifies 2026-07-28 and 2025 listeners on B", async () => {
    const modern = await connectHttpClient(b.url, {}, undefined, "modern");
    const legacy = await connectV1HttpClient(b.url);
    const caller = await connectHttpClient(a.url, {}, undefined, "modern");
    try {
      const onModern = recordChanges(modern);
      const onLegacy = recordChanges(legacy);
      const sub = await modern.listen({ resourceSubscriptions: [SCHEMA], resourcesListChanged: true });
      expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [SCHEMA], resourcesListChanged: true });
      await legacy.subscribeResource({ uri: SCHEMA });
      // Until B's subscriber connection has subscribed, the first announcements may not cross:
      // register with replace until B hears one.
      await eventually(async () => {
        const r = await callTool(caller, "register_dataset", {
          name: "sales",
          path: "sales.csv",
          replace: true,
        });
        expect(r.isError, r.text).toBeFalsy();
        await onModern.until(UPDATED, SCHEMA, 1_000);
      });
      // Both listen to the same URI on B, so the 2025 one has caught up when the counts agree.
      const updates = (r: typeof onModern) => r.seen.filter((s) => s.method === UPDATED).length;
      await eventually(() => expect(updates(onLegacy)).toBe(updates(onModern)), 5_000);
      // A new name changes the list; B's listeners were told, and a replaced dataset does not.
      expect(onModern.seen.filter((s) => s.method === LIST).length).toBeLessThanOrEqual(1);
      const before = { modern: onModern.seen.length, legacy: onLegacy.seen.length };

      const again = await callTool(caller, "register_dataset", {
        name: "sales",
        path: "sales.csv",
        replace: true,
      });
      expect(again.isError, again.text).toBeFalsy();
      const pets = await callTool(caller, "register_dataset", { name: "pets", path: "pets.json" });
      expect(pets.isError, pets.text).toBeFalsy();
      await onModern.until(LIST);
      await eventually(() => {
        expect(onModern.seen.slice(before.modern)).toEqual([
          { method: UPDATED, uri: SCHEMA },
          { method: LIST },
        ]);
      }, 5_000);
      // 2025: only the subscribed URI's update (not sample's, not pets'), and every list change.
      await eventually(() => {
        expect(onLegacy.seen.slice(before.legacy)).toEqual([
          { method: UPDATED, uri: SCHEMA },
          { method: LIST },
        ]);
      }, 5_000);
      await sub.close();
    } finally {
      await Promise.allSettled([modern.close(), legacy.close(), caller.close()]);
    }
  });
});
