// The runtime on its own, without the generator: a tool written as a generated one would be
// (operationTool with a hand-made spec), served by the kit to the real SDK client, calling a real
// loopback HTTP server; and src/overrides.ts mistakes refused at startup. The generator's tests
// (packages/openapi/test) drive the same runtime through generated servers.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  applyOverrides,
  createApiDeps,
  fillTemplate,
  operationTool,
  OverrideError,
  overriddenNames,
  withSettings,
  type ApiDeps,
  type ApiInfo,
} from "../src/index.js";
import { defineServer, z } from "@toolshed/server";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

const seen: { method: string; url: string; auth?: string }[] = [];
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push({
      method: req.method!,
      url: req.url!,
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    });
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ id: "a b", n: 1, more: true }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

const api: ApiInfo = {
  name: "things",
  baseUrlEnv: "THINGS_BASE_URL",
  privateNetworkEnv: "THINGS_ALLOW_PRIVATE_NETWORK",
  credentials: [{ scheme: "bearer", kind: "bearer", keys: ["token"], env: ["THINGS_TOKEN"] }],
};

const configSchema = z.object({
  baseUrl: z.string(),
  allowPrivateNetwork: z.boolean().default(true),
  timeoutMs: z.number().default(5000),
  token: z.string().optional(),
});

const thing = z.looseObject({ id: z.string(), n: z.number() });
const getThing = operationTool({
  name: "get_thing",
  title: "Get a thing",
  description: "Get a thing (GET /things/{id})",
  method: "GET",
  path: "/things/{id}",
  params: { id: { in: "path", name: "id" }, tags: { in: "query", name: "tag" } },
  security: [["bearer"]],
  wrap: "none",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  input: z.object({
    id: z.string().describe("The thing's id."),
    tags: z.array(z.string()).optional().describe("Only things with these tags."),
  }),
  output: thing.partial(),
  answer: thing,
});

function serve(overrides: Parameters<typeof applyOverrides>[1] = {}): Promise<TestClient> {
  const settings = withSettings(configSchema, overrides);
  const server = defineServer({
    name: "things",
    version: "0.0.0",
    config: settings,
    setup: ({ config, metrics }): ApiDeps => createApiDeps(config, api, metrics, overrides),
    teardown: (deps) => deps.http.close(),
    tools: applyOverrides([getThing], overrides),
  });
  return createTestClient(server, { config: settings.parse({ baseUrl: base, token: "t0k" }) });
}

type Result = { isError?: boolean; structuredContent?: unknown; content: { text?: string }[] };

describe("an operation tool", () => {
  let t: TestClient;
  beforeAll(async () => {
    t = await serve({ tools: { get_thing: { name: "fetch_thing" } } });
  });
  afterAll(() => t?.close());

  it("encodes the path, repeats array query values, sends the credential and returns the answer", async () => {
    seen.length = 0;
    const r = (await t.client.callTool({
      name: "fetch_thing",
      arguments: { id: "a b/c", tags: ["x", "y"] },
    })) as unknown as Result;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ id: "a b", n: 1, more: true });
    expect(seen).toEqual([{ method: "GET", url: "/things/a%20b%2Fc?tag=x&tag=y", auth: "Bearer t0k" }]);
  });

  it("refuses '.' and '..' (also encoded) as a path value before any request", async () => {
    seen.length = 0;
    for (const id of ["..", ".", "%2e%2E"]) {
      const r = (await t.client.callTool({ name: "fetch_thing", arguments: { id } })) as unknown as Result;
      expect(r.isError, id).toBe(true);
      expect(r.content[0]?.text).toMatch(/'id' cannot be/);
    }
    expect(seen).toEqual([]);
  });
});

describe("overrides", () => {
  it("fills templates from settings, or gives undefined while one is unset", () => {
    expect(fillTemplate("Bearer {token}", { token: "abc" })).toBe("Bearer abc");
    expect(fillTemplate("Bearer {token}", { token: "" })).toBeUndefined();
  });

  it("renames tools for the contract test and refuses mistakes with an OverrideError", () => {
    expect(overriddenNames(["get_thing"], { tools: { get_thing: { name: "fetch_thing" } } })).toEqual([
      "fetch_thing",
    ]);
    expect(() => applyOverrides([getThing], { tools: { nope: { title: "x" } } })).toThrow(OverrideError);
    expect(() => withSettings(configSchema, { headers: { "x-key": "{missing}" } })).toThrow(
      /headers\.x-key uses '\{missing\}', which is no setting/,
    );
    expect(() => applyOverrides([getThing], { tool: {} } as never)).toThrow(/unknown key 'tool'/);
  });
});
