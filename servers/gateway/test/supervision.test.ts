// Upstream life: a stdio upstream killed and restarted by the supervisor, an HTTP upstream that goes
// away failing fast with an error naming it (and /readyz saying so), config reloads on change and on
// SIGHUP that keep calls in flight, and config errors that say which field is wrong.
import { writeFileSync } from "node:fs";
import everything from "@toolshed/fixture-everything";
import { startHttpServer } from "@toolshed/server";
import { connectHttpClient, recordChanges } from "@toolshed/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseGatewayFile } from "../src/config.js";
import { FIXTURE_BIN, startGateway, textOf, type TestGateway, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const TOOLS_CHANGED = "notifications/tools/list_changed";

const stdioUpstream = (name: string) => `  ${name}:
    command: ${process.execPath}
    args: [${JSON.stringify(FIXTURE_BIN)}]
`;

let gw: TestGateway | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  for (const close of closers.splice(0)) await close();
});

async function call(name: string, args: Record<string, unknown> = {}): Promise<ToolResultShape> {
  const client = await connectHttpClient(gw!.url, {}, undefined, "modern");
  try {
    return (await client.callTool({ name, arguments: args })) as ToolResultShape;
  } finally {
    await client.close();
  }
}

it("restarts a stdio upstream that was killed, and serves its tools again", async () => {
  gw = await startGateway(`upstreams:\n${stdioUpstream("fx")}`);
  const { gateway } = await gw.deps();
  const upstream = gateway.upstreams.get("fx")!;
  expect(upstream.state).toBe("ready");
  const before = upstream.pid!;
  expect(before).toBeGreaterThan(0);
  expect((await call("fx__echo", { message: "one" })).isError).toBeFalsy();

  process.kill(before, "SIGKILL");
  await vi.waitFor(() => expect(upstream.state).not.toBe("ready"), { timeout: 10_000 });
  await vi.waitFor(() => expect(upstream.state).toBe("ready"), { timeout: 20_000 });
  expect(upstream.pid).not.toBe(before);
  expect(upstream.restarts).toBeGreaterThanOrEqual(1);
  const again = await call("fx__echo", { message: "three" });
  expect(again.isError, textOf(again)).toBeFalsy();
  expect(textOf(again)).toContain("three");
});

it("fails an unreachable upstream's tools fast, naming it, and /readyz says which", async () => {
  const fixture = await startHttpServer(everything, {}, { logLevel: "silent" });
  let fixtureOpen = true;
  closers.push(async () => {
    if (fixtureOpen) await fixture.close();
  });
  gw = await startGateway(`upstreams:\n  fx:\n    url: ${fixture.url}\n`);
  expect((await fetch(new URL("/readyz", gw.url))).status).toBe(200);
  expect((await call("fx__echo", { message: "up" })).isError).toBeFalsy();

  await fixture.close();
  fixtureOpen = false;
  const first = await call("fx__echo", { message: "down" });
  expect(first.isError).toBe(true);
  expect(textOf(first)).toMatch(/upstream_unavailable: upstream 'fx' is unavailable/);
  const started = Date.now();
  const second = await call("fx__echo", { message: "down again" });
  expect(second.isError).toBe(true);
  expect(textOf(second)).toMatch(/upstream 'fx'/);
  // Fast: refused at once while the upstream is down, not after a connect or call timeout (20 s and
  // 60 s by default). The bound is loose because the suite's machine is shared and loaded.
  expect(Date.now() - started).toBeLessThan(5_000);

  const ready = await fetch(new URL("/readyz", gw.url));
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ reason: "upstreams not ready: fx" });
});

it("calls a never-reached upstream's tools with an error naming it", async () => {
  gw = await startGateway(`upstreams:\n  gone:\n    url: http://127.0.0.1:9/mcp\n`);
  const r = await call("gone__anything");
  expect(r.isError).toBe(true);
  expect(textOf(r)).toMatch(/upstream 'gone' is unavailable/);
});

describe("reloading the config", () => {
  it("adds and removes upstreams on file change, letting a call in flight finish, and tells clients", async () => {
    gw = await startGateway(`upstreams:\n${stdioUpstream("one")}`);
    const { gateway } = await gw.deps();
    const client = await connectHttpClient(gw.url, {}, undefined, "legacy");
    closers.push(() => client.close());
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("one__echo");
    // A 2026-07-28 client listening for tool list changes learns of each reload that changes them.
    const listener = await connectHttpClient(gw.url, {}, undefined, "modern");
    closers.push(() => listener.close());
    const changes = recordChanges(listener);
    const sub = await listener.listen({ toolsListChanged: true });
    closers.push(() => sub.close());

    writeFileSync(gw.configPath, `upstreams:\n${stdioUpstream("one")}${stdioUpstream("two")}`);
    await vi.waitFor(() => expect(gateway.upstreams.get("two")?.state).toBe("ready"), { timeout: 20_000 });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("two__echo");
    await changes.until(TOOLS_CHANGED);
    expect(changes.seen).toEqual([{ method: TOOLS_CHANGED }]);

    // A slow call on 'one' is in flight while 'one' leaves the config: it still completes.
    const inflight = client.callTool({ name: "one__slow", arguments: { ms: 1_500 } });
    await vi.waitFor(() => expect(gateway.upstreams.get("one")!.inflight).toBe(1), { timeout: 5_000 });
    const retiring = gateway.upstreams.get("one")!;
    writeFileSync(gw.configPath, `upstreams:\n${stdioUpstream("two")}`);
    await vi.waitFor(() => expect(gateway.upstreams.has("one")).toBe(false), { timeout: 10_000 });
    const done = (await inflight) as ToolResultShape;
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ steps: 10 });
    await vi.waitFor(() => expect(retiring.state).toBe("closed"));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain("one__echo");
    expect(names).toContain("two__echo");
    await vi.waitFor(() => expect(changes.seen).toHaveLength(2), { timeout: 5_000 });
  });

  it("keeps the running config when the new file is invalid, and reloads on SIGHUP", async () => {
    gw = await startGateway(`upstreams:\n${stdioUpstream("one")}`);
    const { gateway } = await gw.deps();
    writeFileSync(gw.configPath, `upstreams:\n  one:\n    url: not a url\n`);
    expect(await gateway.reload()).toBe(false);
    expect(gw.logs()).toMatch(/gateway config reload refused/);
    expect(gateway.upstreams.get("one")!.state).toBe("ready");

    const reloads = gateway.reloads;
    writeFileSync(gw.configPath, `upstreams:\n${stdioUpstream("one")}${stdioUpstream("three")}`);
    process.kill(process.pid, "SIGHUP");
    await vi.waitFor(() => expect(gateway.reloads).toBeGreaterThan(reloads), { timeout: 10_000 });
    await vi.waitFor(() => expect(gateway.upstreams.get("three")?.state).toBe("ready"), { timeout: 20_000 });
  });
});

describe("config validation", () => {
  const bad = (text: string) => {
    try {
      parseGatewayFile(text, "gateway.yaml");
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("expected the config to be refused");
  };

  it("names the field and what to write", () => {
    expect(bad(`upstreams:\n  GitHub:\n    url: http://x/mcp\n`)).toMatch(
      /upstreams.GitHub: the name must be lowercase letters/,
    );
    expect(bad(`upstreams:\n  gh:\n    url: ftp://x\n`)).toMatch(
      /upstreams.gh.url: an http\(s\) URL such as/,
    );
    expect(bad(`upstreams:\n  gh:\n    url: http://x/mcp\n    bearer: "literal-secret"\n`)).toMatch(
      /upstreams.gh.bearer: a secret reference, \{ env: NAME \}/,
    );
    expect(bad(`upstreams:\n  gh:\n    url: http://x/mcp\n    args: [a]\n`)).toMatch(
      /upstreams.gh.args: only for `command`/,
    );
    expect(bad(`upstreams:\n  gh: {}\n`)).toMatch(/upstreams.gh: give either `url`/);
    expect(bad(`upstreams: {}\nprincipals:\n  alice: nowhere\n`)).toMatch(
      /principals.alice: names virtual server 'nowhere'.*define it under virtualServers/,
    );
    expect(
      bad(`upstreams:\n  a:\n    url: http://x/mcp\n  b:\n    url: http://y/mcp\n    namespace: a\n`),
    ).toMatch(/upstreams.b.namespace: namespace 'a' is already used/);
    expect(bad(`upstreams: [`)).toMatch(/gateway.yaml is not valid YAML/);
  });

  it("accepts JSON by extension", () => {
    const file = parseGatewayFile(
      JSON.stringify({ upstreams: { a: { url: "http://127.0.0.1:1/mcp" } } }),
      "g.json",
    );
    expect(file.upstreams.a).toMatchObject({ url: "http://127.0.0.1:1/mcp" });
    expect(file.defaultAccess).toBe("all");
  });
});
