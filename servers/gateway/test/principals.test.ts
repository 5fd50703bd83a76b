// Principals and virtual servers: the kit's API keys identify the caller, the gateway config maps each
// principal to a named subset of the tools; a principal sees, and can call, only its subset.
import everything from "@toolshed/fixture-everything";
import { createLogger } from "@toolshed/logging";
import { authFromSettings, startHttpServer } from "@toolshed/server";
import { connectHttpClient } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { FIXTURE_BIN, sha, startGateway, textOf, type TestGateway, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const KEYS = {
  alice: "tsk_alice_gateway_0123456789",
  bob: "tsk_bob_gateway_0123456789",
  carol: "tsk_carol_0123456789",
};

let gw: TestGateway;
let http: Awaited<ReturnType<typeof startHttpServer>>;
beforeAll(async () => {
  http = await startHttpServer(everything, {}, { logLevel: "silent" });
  const auth = authFromSettings(
    {
      apiKeys: Object.entries(KEYS)
        .map(([id, key]) => `${id}:${sha(key)}:*`)
        .join(";"),
      serverName: "gateway",
      authFailureLimit: "off",
    },
    "http://127.0.0.1/mcp",
    createLogger({ name: "gateway", level: "silent" }),
  );
  gw = await startGateway(
    `upstreams:
  web:
    url: ${http.url}
  local:
    command: ${process.execPath}
    args: [${JSON.stringify(FIXTURE_BIN)}]
virtualServers:
  echoes:
    tools: ["*__echo"]
  local-only:
    tools: ["local__*"]
principals:
  alice: echoes
  bob: local-only
defaultAccess: none
`,
    { http: { auth: auth! } },
  );
  await gw.deps();
});
afterAll(async () => {
  await gw?.close();
  await http?.close();
});

async function as(who: keyof typeof KEYS) {
  return connectHttpClient(gw.url, {}, { authorization: `Bearer ${KEYS[who]}` }, "modern");
}

it("shows each principal only its virtual server's tools", async () => {
  const alice = await as("alice");
  const bob = await as("bob");
  const carol = await as("carol");
  try {
    const names = async (c: typeof alice) => (await c.listTools()).tools.map((t) => t.name);
    expect(await names(alice)).toEqual(["local__echo", "read_result", "web__echo"]);
    const bobs = await names(bob);
    expect(bobs.length).toBeGreaterThan(2);
    expect(bobs.every((n) => n.startsWith("local__") || n === "read_result")).toBe(true);
    expect(await names(carol)).toEqual([]);
  } finally {
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  }
});

it("lets a principal call only its subset", async () => {
  const alice = await as("alice");
  const bob = await as("bob");
  try {
    const ok = (await alice.callTool({ name: "web__echo", arguments: { message: "hi" } })) as ToolResultShape;
    expect(textOf(ok)).toBe("hi");
    await expect(alice.callTool({ name: "web__slow", arguments: { ms: 10 } })).rejects.toThrow(
      /unknown tool 'web__slow'/,
    );
    await expect(bob.callTool({ name: "web__echo", arguments: { message: "hi" } })).rejects.toThrow(
      /unknown tool/,
    );
    const mine = (await bob.callTool({
      name: "local__echo",
      arguments: { message: "bob" },
    })) as ToolResultShape;
    expect(textOf(mine)).toBe("bob");
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
});

it("shows resources and prompts only of the upstreams a principal can use", async () => {
  const bob = await as("bob");
  try {
    const { resources } = await bob.listResources();
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.every((r) => r.uri.startsWith("local+"))).toBe(true);
    const { prompts } = await bob.listPrompts();
    expect(prompts.every((p) => p.name.startsWith("local__"))).toBe(true);
    const web = resources[0]!.uri.replace(/^local\+/, "web+");
    await expect(bob.readResource({ uri: web })).rejects.toThrow(/not found/);
  } finally {
    await bob.close();
  }
});

it("refuses a caller without a key", async () => {
  const res = await fetch(gw.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  });
  expect(res.status).toBe(401);
});
