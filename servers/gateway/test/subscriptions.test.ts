// Subscriptions and change notifications through the gateway: real clients of both eras subscribe
// to a namespaced resource (2025 `resources/subscribe`, 2026-07-28 `subscriptions/listen`), the kit
// fixture upstream (reached on 2026-07-28 as `fx`, on 2025 as `fx-legacy`, and over stdio) reports
// it updated, and the client is told under the gateway's URI. The gateway follows a resource upstream
// only while some client does; it relays resource and prompt list changes; a caller that may not see
// an upstream cannot follow its resources; a restarted upstream is followed again.
import everything from "@toolshed/fixture-everything";
import { defineServer, type ChangeNotifier } from "@toolshed/server";
import { connectHttpClient, recordChanges, type Client } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bothEras, FIXTURE_BIN, startGatewayOver, type GatewayOver } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const UPDATED = "notifications/resources/updated";
const RESOURCES_CHANGED = "notifications/resources/list_changed";
const PROMPTS_CHANGED = "notifications/prompts/list_changed";
const WATCHED = "test://watched-resource";
const OTHER = "test://template/1/data";

/** An upstream without subscriptions whose resources and prompts grow with `add_note`. */
const notes = defineServer({
  name: "notes",
  version: "0.0.0",
  tools: [],
  notifications: { resourceListChanged: true, promptListChanged: true },
  setup: ({ notify }): { notify: ChangeNotifier; titles: string[] } => ({ notify, titles: ["today"] }),
  forward: {
    listTools: () => [
      {
        name: "add_note",
        description: "Adds a note: one more resource and one more prompt.",
        inputSchema: { type: "object", properties: { title: { type: "string" } } },
      },
    ],
    callTool(deps, _name, args) {
      deps.titles.push(String(args.title));
      deps.notify.resourceListChanged();
      deps.notify.promptListChanged();
      return Promise.resolve({ content: [{ type: "text", text: "added" }] });
    },
    resources: {
      list: (deps) => deps.titles.map((t) => ({ uri: `notes://${t}`, name: t, mimeType: "text/plain" })),
      templates: () => [],
      read: (_deps, uri) =>
        Promise.resolve({ contents: [{ uri, mimeType: "text/plain", text: "buy milk" }] }),
    },
    prompts: {
      list: (deps) => deps.titles.map((t) => ({ name: `recap-${t}` })),
      get: () => Promise.resolve({ messages: [{ role: "user", content: { type: "text", text: "Recap" } }] }),
    },
  },
});

const KEYS = {
  admin: { key: "tsk_admin_subscriptions_key", scopes: "*" },
  bob: { key: "tsk_bob_subscriptions_key", scopes: "*" },
};

const stdio = (name: string, extra = "") => `  ${name}:
    command: ${process.execPath}
    args: [${JSON.stringify(FIXTURE_BIN)}]
${extra}`;

let over: GatewayOver<"fx" | "notes">;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  over = await startGatewayOver(
    { fx: everything, notes },
    (urls) => `upstreams:
${bothEras("fx", urls.fx)}  notes:
    url: ${urls.notes}
${stdio("fx-stdio")}${stdio("fx-stdio-legacy", '    protocol: "2025"\n')}
virtualServers:
  legacy-only:
    tools: ["fx-legacy__*"]
principals:
  admin: all
  bob: legacy-only
defaultAccess: none
`,
    { keys: KEYS },
  );
});

afterAll(async () => {
  await Promise.allSettled(open.splice(0).map((c) => c.close()));
  await over?.close();
});

type Era = "legacy" | "modern";

async function client(who: "admin" | "bob", era: Era): Promise<Client> {
  const c = await over.as(who, era);
  open.push(c);
  return c;
}

/** A client of the upstream itself (not through the gateway), to make it announce changes. */
async function upstreamClient(url: string): Promise<Client> {
  const c = await connectHttpClient(url, {}, undefined, "modern");
  open.push(c);
  return c;
}

async function announce(c: Client, tool: string, uri: string): Promise<void> {
  const result = await c.callTool({ name: tool, arguments: { kind: "resource", uri } });
  expect(result.isError).toBeFalsy();
}

/** Follows `uri` through the gateway on the client's era; returns what stops following it. */
async function subscribe(c: Client, era: Era, uri: string): Promise<() => Promise<unknown>> {
  if (era === "legacy") {
    await c.subscribeResource({ uri });
    return () => c.unsubscribeResource({ uri });
  }
  const subscription = await c.listen({ resourceSubscriptions: [uri] });
  expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: [uri] });
  return () => subscription.close();
}

const followed = async (name: string) => (await over.gw.deps()).gateway.upstreams.get(name)!.followed;

describe.each([
  ["legacy", "fx"],
  ["legacy", "fx-legacy"],
  ["modern", "fx"],
  ["modern", "fx-legacy"],
] as const)("a %s client, upstream %s", (era, upstream) => {
  const exposed = `${upstream}+${WATCHED}`;

  it("gets resources/updated under the gateway's URI, only for what it subscribed to", async () => {
    const direct = await upstreamClient(over.urls.fx);
    const a = await client("admin", era);
    if (era === "legacy") expect(a.getServerCapabilities()?.resources?.subscribe).toBe(true);
    const got = recordChanges(a);
    const stop = await subscribe(a, era, exposed);
    await vi.waitFor(async () => expect(await followed(upstream)).toEqual([WATCHED]), { timeout: 10_000 });

    await announce(direct, "announce_change", OTHER);
    await announce(direct, "announce_change", WATCHED);
    await got.until(UPDATED, exposed, 10_000);
    expect(got.seen).toEqual([{ method: UPDATED, uri: exposed }]);
    await stop();
    await vi.waitFor(async () => expect(await followed(upstream)).toEqual([]), { timeout: 10_000 });
  });

  it("stops after unsubscribing, and the upstream is followed until the last client leaves", async () => {
    const direct = await upstreamClient(over.urls.fx);
    const a = await client("admin", era);
    const b = await client("admin", era === "legacy" ? "modern" : "legacy");
    const gotA = recordChanges(a);
    const gotB = recordChanges(b);
    const stopA = await subscribe(a, era, exposed);
    const stopB = await subscribe(b, era === "legacy" ? "modern" : "legacy", exposed);
    await vi.waitFor(async () => expect(await followed(upstream)).toEqual([WATCHED]), { timeout: 10_000 });

    await stopA();
    // b still follows it, so the upstream subscription stays.
    await new Promise((r) => setTimeout(r, 200));
    expect(await followed(upstream)).toEqual([WATCHED]);
    await announce(direct, "announce_change", WATCHED);
    await gotB.until(UPDATED, exposed, 10_000);
    // Delivered to b, on the same bus: had a still been subscribed, it would have had it too.
    await new Promise((r) => setTimeout(r, 200));
    expect(gotA.seen).toEqual([]);

    await stopB();
    await vi.waitFor(async () => expect(await followed(upstream)).toEqual([]), { timeout: 10_000 });
  });
});

describe.each(["legacy", "modern"] as const)("a %s client", (era) => {
  it("is refused a resource it may not see, one that does not exist, and one whose upstream cannot follow it", async () => {
    const bob = await client("bob", era);
    await expect(subscribe(bob, era, `fx+${WATCHED}`)).rejects.toThrow(
      /resource 'fx\+test:\/\/watched-resource' not found/,
    );
    const admin = await client("admin", era);
    await expect(subscribe(admin, era, "fx+test://no-such-thing")).rejects.toThrow(
      /not found; call resources\/list/,
    );
    await expect(subscribe(admin, era, "notes+notes://today")).rejects.toThrow(
      /upstream 'notes' does not support resource subscriptions/,
    );
    expect(await followed("fx")).toEqual([]);
  });

  it("gets nothing of an upstream it may not see, and what it may", async () => {
    const direct = await upstreamClient(over.urls.fx);
    const bob = await client("bob", era);
    const got = recordChanges(bob);
    const stop = await subscribe(bob, era, `fx-legacy+${WATCHED}`);
    const admin = await client("admin", "modern");
    const stopAdmin = await subscribe(admin, "modern", `fx+${WATCHED}`);
    await vi.waitFor(async () => expect(await followed("fx")).toEqual([WATCHED]), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await followed("fx-legacy")).toEqual([WATCHED]), { timeout: 10_000 });
    // One announcement reaches both of the gateway's upstreams (the same fixture): bob hears only its own.
    await announce(direct, "announce_change", WATCHED);
    await got.until(UPDATED, `fx-legacy+${WATCHED}`, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.seen).toEqual([{ method: UPDATED, uri: `fx-legacy+${WATCHED}` }]);
    await stop();
    await stopAdmin();
  });
});

it("relays an upstream's resource and prompt list changes to clients of both eras", async () => {
  const legacy = await client("admin", "legacy");
  const modern = await client("admin", "modern");
  expect(legacy.getServerCapabilities()?.resources?.listChanged).toBe(true);
  expect(legacy.getServerCapabilities()?.prompts?.listChanged).toBe(true);
  const gotLegacy = recordChanges(legacy);
  const gotModern = recordChanges(modern);
  const subscription = await modern.listen({ resourcesListChanged: true, promptsListChanged: true });
  expect(subscription.honoredFilter).toEqual({ resourcesListChanged: true, promptsListChanged: true });

  const direct = await upstreamClient(over.urls.notes);
  expect((await direct.callTool({ name: "add_note", arguments: { title: "tomorrow" } })).isError).toBeFalsy();
  for (const got of [gotLegacy, gotModern]) {
    await got.until(RESOURCES_CHANGED, undefined, 10_000);
    await got.until(PROMPTS_CHANGED, undefined, 10_000);
  }
  const { resources } = await modern.listResources();
  expect(resources.map((r) => r.uri)).toContain("notes+notes://tomorrow");
  await subscription.close();
});

describe.each(["fx-stdio", "fx-stdio-legacy"])("upstream %s restarted", (upstream) => {
  it("is followed again, and its updates reach the subscribed client", async () => {
    const { gateway } = await over.gw.deps();
    const target = gateway.upstreams.get(upstream)!;
    const c = await client("admin", "modern");
    const got = recordChanges(c);
    const exposed = `${upstream}+${WATCHED}`;
    const stop = await subscribe(c, "modern", exposed);
    await vi.waitFor(() => expect(target.followed).toEqual([WATCHED]), { timeout: 10_000 });

    const before = target.pid!;
    process.kill(before, "SIGKILL");
    await vi.waitFor(() => expect(target.pid).not.toBe(before), { timeout: 20_000 });
    await vi.waitFor(() => expect(target.state).toBe("ready"), { timeout: 20_000 });
    await vi.waitFor(() => expect(target.followed).toEqual([WATCHED]), { timeout: 10_000 });

    // The restarted child announces through the gateway's own connection to it.
    await announce(c, `${upstream}__announce_change`, WATCHED);
    await got.until(UPDATED, exposed, 10_000);
    await stop();
  });
});
