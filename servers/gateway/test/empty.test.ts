// A gateway with no upstreams: started without a config file, or on a file that lists none. It starts
// (HTTP and stdio), lists nothing, answers /readyz 503 saying how to add an upstream, and takes the
// upstreams a reload of its file brings. The built bin, as a process of its own.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  connectHttpClient,
  eventually,
  recordChanges,
  spawnStdioServer,
  startServerProcess,
  type ServerProcess,
} from "@toolshed/testing";
import { afterEach, expect, it, vi } from "vitest";
import { FIXTURE_BIN } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(args: string[] = []): Promise<ServerProcess> {
  // A clean environment: no TOOLSHED_GATEWAY_CONFIG of the machine's leaks in.
  const gw = await startServerProcess(BIN, { args, cleanEnv: true });
  cleanups.push(() => gw.stop());
  return gw;
}

async function readyz(gw: ServerProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${gw.origin}/readyz`);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function toolNames(gw: ServerProcess): Promise<string[]> {
  const client = await connectHttpClient(gw.url, {}, undefined, "modern");
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

it("starts without a config file: lists no tools, /healthz ok, /readyz 503 saying how to add upstreams", async () => {
  const gw = await start();
  expect((await fetch(`${gw.origin}/healthz`)).status).toBe(200);
  expect(await readyz(gw)).toEqual({
    status: 503,
    body: {
      status: "not ready",
      reason:
        "no upstreams configured: no config file was given; restart with --config gateway.yaml (or TOOLSHED_GATEWAY_CONFIG) listing upstreams",
    },
  });
  expect(await toolNames(gw)).toEqual([]);
  // 2025 clients too; and the log says the same.
  const legacy = await connectHttpClient(gw.url);
  cleanups.push(() => legacy.close());
  expect((await legacy.listTools()).tools).toEqual([]);
  expect((await legacy.listPrompts()).prompts).toEqual([]);
  expect((await legacy.listResources()).resources).toEqual([]);
  await eventually(() => expect(gw.stderr()).toMatch(/no gateway config given: the gateway serves nothing/));
});

it("starts without a config file over stdio, stdout protocol only", async () => {
  const gw = await spawnStdioServer(process.execPath, [BIN], {
    env: { TOOLSHED_GATEWAY_CONFIG: "", TOOLSHED_CONFIG: "" },
  });
  cleanups.push(() => gw.close());
  expect((await gw.client.listTools()).tools).toEqual([]);
  expect(gw.nonProtocolLines()).toEqual([]);
  // The warning is written while set-up runs beside the transport, so it may trail the first answer.
  await eventually(() => expect(gw.stderr()).toMatch(/no gateway config given/));
});

it("refuses a config file it cannot read, in one line naming it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gateway-empty-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, "nope.yaml");
  await expect(startServerProcess(BIN, { args: ["--config", missing], cleanEnv: true })).rejects.toThrow(
    /toolshed-gateway: cannot read the gateway config '.*nope\.yaml' \(ENOENT\); check --config/,
  );
});

it("starts on a file with no upstreams and takes those a reload adds, telling listening clients", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gateway-empty-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, "gateway.yaml");
  writeFileSync(config, "# nothing yet\nupstreams:\n");
  const gw = await start(["--config", config]);
  expect(await readyz(gw)).toEqual({
    status: 503,
    body: {
      status: "not ready",
      reason:
        "no upstreams configured: add one under 'upstreams:' in the gateway config file; it is reloaded on save or SIGHUP",
    },
  });
  expect(await toolNames(gw)).toEqual([]);
  expect(gw.stderr()).toMatch(/the gateway config lists no upstreams/);

  const listener = await connectHttpClient(gw.url, {}, undefined, "modern");
  cleanups.push(() => listener.close());
  const changes = recordChanges(listener);
  const sub = await listener.listen({ toolsListChanged: true });
  cleanups.push(() => sub.close());

  writeFileSync(
    config,
    `upstreams:\n  fx:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(FIXTURE_BIN)}]\n`,
  );
  await eventually(async () => expect((await readyz(gw)).status).toBe(200), 30_000);
  expect(await readyz(gw)).toEqual({ status: 200, body: { status: "ready" } });
  expect(await toolNames(gw)).toContain("fx__echo");
  await changes.until("notifications/tools/list_changed", undefined, 10_000);

  // Emptied again (here by SIGHUP after the write): not ready once more, nothing listed.
  writeFileSync(config, "upstreams: {}\n");
  gw.child.kill("SIGHUP");
  await eventually(async () => expect((await readyz(gw)).status).toBe(503), 30_000);
  expect((await readyz(gw)).body.reason).toMatch(/^no upstreams configured: add one under 'upstreams:'/);
  expect(await toolNames(gw)).toEqual([]);
});
