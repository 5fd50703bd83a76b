// A config reload that takes a caller's access to an upstream ends what that caller follows there:
// its 2026-07-28 listen stream naming the upstream's resource is closed (with the listen's result),
// its 2025 session stops getting the resource's updates, and its listen on a task there is closed (its result),
// while another caller following the same resource is still told. Removing the upstream ends the
// rest. The reload is the gateway's own: its config file rewritten, seen by its watcher. The kit
// fixture is the upstream, on real HTTP on loopback; the callers are real SDK clients (and raw
// 2026-07-28 JSON-RPC for tasks, which the SDK v2 client lacks).
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import everything from "@toolshed/fixture-everything";
import {
  connectHttpClient,
  modernListen,
  modernPost,
  readReply,
  recordChanges,
  type Client,
} from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startGatewayOver, type GatewayOver } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const TASKS = "io.modelcontextprotocol/tasks";
const UPDATED = "notifications/resources/updated";
const WATCHED = "test://watched-resource";
const EXPOSED = `fx+${WATCHED}`;
const KEYS = {
  admin: { key: "tsk_admin_revoke_key_0123456789", scopes: "*" },
  bob: { key: "tsk_bob_revoke_key_0123456789", scopes: "*" },
};

const config = (urls: { fx: string }, bob: string, withFx = true) => `upstreams:
${withFx ? `  fx:\n    url: ${urls.fx}\n` : ""}  other:
    url: ${urls.fx}
principals:
  admin: all
  bob: ${bob}
defaultAccess: none
`;

let over: GatewayOver<"fx">;
const open: Client[] = [];

beforeAll(async () => {
  over = await startGatewayOver({ fx: everything }, (urls) => config(urls, "all"), { keys: KEYS });
});

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.close()));
  await over?.close();
});

async function client(who: keyof typeof KEYS, era: "legacy" | "modern"): Promise<Client> {
  const c = await over.as(who, era);
  open.push(c);
  return c;
}

let nextId = 1;
const CAPABILITIES = { extensions: { [TASKS]: {} } };
const CLIENT = "gateway-revoke-test";

/** One raw 2026-07-28 request as `who` (a key), or to the upstream itself without one. */
async function rpc(url: string, method: string, params: Record<string, unknown>, key?: string) {
  const res = await modernPost(url, method, params, {
    id: nextId++,
    capabilities: CAPABILITIES,
    clientName: CLIENT,
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  return readReply(await res.text()) as { result?: Record<string, unknown>; error?: { message: string } };
}

/** A raw listen naming `taskIds` as `key`: its task status notifications as they come. */
async function listenToTasks(url: string, taskIds: string[], key: string) {
  const id = nextId++;
  const listen = await modernListen(
    url,
    { taskIds },
    {
      id,
      capabilities: CAPABILITIES,
      clientName: CLIENT,
      headers: { authorization: `Bearer ${key}` },
    },
  );
  return {
    id,
    get statuses() {
      return listen.messages.filter((m) => m.method === "notifications/tasks").map((m) => m.params!);
    },
    /** The listen's result, once the gateway has closed it. */
    get result() {
      return listen.messages.find((m) => "id" in m && "result" in m)?.result;
    },
    close: listen.close,
  };
}

/** Rewrites the gateway's config file and waits for its watcher to reload it. */
async function reload(text: string): Promise<void> {
  const { gateway } = await over.gw.deps();
  const before = gateway.reloads;
  writeFileSync(over.gw.configPath, text);
  await vi.waitFor(() => expect(gateway.reloads).toBeGreaterThan(before), { timeout: 10_000 });
}

async function announce(direct: Client): Promise<void> {
  const r = await direct.callTool({ name: "announce_change", arguments: { kind: "resource", uri: WATCHED } });
  expect(r.isError).toBeFalsy();
}

it("ends a caller's follows of an upstream when a reload takes its access, and everyone's when it removes the upstream", async () => {
  const direct = await connectHttpClient(over.urls.fx, {}, undefined, "modern");
  open.push(direct);
  const bobModern = await client("bob", "modern");
  const bobLegacy = await client("bob", "legacy");
  const admin = await client("admin", "modern");
  const got = {
    bobModern: recordChanges(bobModern),
    bobLegacy: recordChanges(bobLegacy),
    admin: recordChanges(admin),
  };
  const bobListen = await bobModern.listen({ resourceSubscriptions: [EXPOSED] });
  await bobLegacy.subscribeResource({ uri: EXPOSED });
  const adminListen = await admin.listen({ resourceSubscriptions: [EXPOSED] });
  const bobClosed = bobListen.closed.then((how) => how);
  const adminClosed = adminListen.closed.then((how) => how);
  const { gateway } = await over.gw.deps();
  await vi.waitFor(() => expect(gateway.upstreams.get("fx")!.followed).toEqual([WATCHED]), {
    timeout: 10_000,
  });

  // Bob's task, followed on a listen of his own.
  const created = await rpc(
    over.gw.url,
    "tools/call",
    { name: "fx__slow_compute", arguments: { seconds: 3 } },
    KEYS.bob.key,
  );
  expect(created.result?.resultType).toBe("task");
  const taskId = created.result!.taskId as string;
  const bobTasks = await listenToTasks(over.gw.url, [taskId], KEYS.bob.key);
  await vi.waitFor(() => expect(bobTasks.statuses.map((t) => t.status)).toContain("working"), {
    timeout: 10_000,
  });

  await announce(direct);
  for (const g of Object.values(got)) await g.until(UPDATED, EXPOSED, 10_000);

  // Bob loses every upstream.
  expect(bobTasks.result).toBeUndefined();
  await reload(config(over.urls, "none"));
  expect(await Promise.race([bobClosed, sleep(5_000).then(() => "still open")])).toBe("graceful");
  // His task listen is closed too, with its result, so he polls rather than waits for a status.
  await vi.waitFor(() => expect(bobTasks.result?.resultType).toBe("complete"), { timeout: 5_000 });
  // As every listen's result: its subscription id and the gateway's identity.
  expect(bobTasks.result?._meta).toEqual({
    "io.modelcontextprotocol/subscriptionId": bobTasks.id,
    "io.modelcontextprotocol/serverInfo": {
      name: "gateway",
      version: expect.any(String),
      title: "Toolshed gateway",
    },
  });
  await announce(direct);
  await vi.waitFor(() => expect(got.admin.seen.filter((s) => s.method === UPDATED)).toHaveLength(2), {
    timeout: 10_000,
  });
  await sleep(300);
  expect(got.bobLegacy.seen.filter((s) => s.method === UPDATED)).toHaveLength(1);
  expect(got.bobModern.seen.filter((s) => s.method === UPDATED)).toHaveLength(1);
  // Admin still follows it upstream.
  expect(gateway.upstreams.get("fx")!.followed).toEqual([WATCHED]);
  // Listening again is refused, as for any resource it may not see.
  await expect(bobModern.listen({ resourceSubscriptions: [EXPOSED] })).rejects.toThrow(/not found/);

  // The task finishes upstream (asked there directly), and bob's closed listen is not told.
  const upstreamId = Buffer.from(taskId.split(".")[1]!, "base64url").toString();
  await vi.waitFor(
    async () =>
      expect((await rpc(over.urls.fx, "tasks/get", { taskId: upstreamId })).result?.status).toBe("completed"),
    { timeout: 15_000, interval: 250 },
  );
  await sleep(300);
  expect(bobTasks.statuses.map((t) => t.status)).not.toContain("completed");
  const polled = await rpc(over.gw.url, "tasks/get", { taskId }, KEYS.bob.key);
  expect(polled.error?.message).toContain("the task's server 'fx' is no longer one this gateway serves you");
  bobTasks.close();

  // Removing the upstream ends admin's follow too.
  await reload(config(over.urls, "none", false));
  expect(await Promise.race([adminClosed, sleep(5_000).then(() => "still open")])).toBe("graceful");
});
