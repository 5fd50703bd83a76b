// All four domain servers behind one gateway on real HTTP, reached by the real SDK v2 client on both
// protocol eras: one real call to each, namespacing, resources, progress, the upstream credential
// kept from clients and logs, and /readyz following upstream health.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectHttpClient, type Era } from "@toolshed/testing";
import {
  EXAMPLE_MCP_KEY,
  FIXTURE_BIN,
  startStackGateway,
  textOf,
  type TestGateway,
  type ToolResultShape,
} from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

let gw: TestGateway;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ gw, close } = await startStackGateway(
    `  everything:
    command: ${process.execPath}
    args: [${JSON.stringify(FIXTURE_BIN)}]
`,
  ));
});
afterAll(async () => {
  await close?.();
});

const ERAS: Era[] = ["legacy", "modern"];

describe.each(ERAS)("through the gateway, %s client", (era) => {
  it("lists every upstream's tools under its namespace, in a stable order", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      for (const name of [
        "data-analytics__query",
        "vector-search__search",
        "example-api__create_resource",
        "github__get_me",
        "everything__echo",
      ]) {
        expect(names).toContain(name);
      }
      expect(names).toEqual([...names].sort());
      // Every exposed name fits the strictest client rules (Anthropic/OpenAI function names).
      for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    } finally {
      await client.close();
    }
  });

  it("makes one real call to each domain server", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    try {
      const call = async (name: string, args: Record<string, unknown> = {}) =>
        (await client.callTool({ name, arguments: args })) as ToolResultShape;
      const datasets = await call("data-analytics__list_datasets");
      expect(datasets.isError, textOf(datasets)).toBeFalsy();
      expect(datasets.structuredContent).toHaveProperty("datasets");

      const collections = await call("vector-search__list_collections");
      expect(collections.isError, textOf(collections)).toBeFalsy();
      expect(collections.structuredContent).toHaveProperty("collections");

      const created = await call("example-api__create_resource", { name: `via gateway ${era}` });
      expect(created.isError, textOf(created)).toBeFalsy();
      const id = (created.structuredContent as { id: string }).id;
      const got = await call("example-api__get_resource", { id });
      expect((got.structuredContent as { name: string }).name).toBe(`via gateway ${era}`);

      const me = await call("github__get_me");
      expect(me.isError, textOf(me)).toBeFalsy();
      // The gateway answers as itself: the upstream's serverInfo does not ride along in the result.
      const info = (me as { _meta?: Record<string, { name?: string }> })._meta?.[
        "io.modelcontextprotocol/serverInfo"
      ];
      expect([undefined, "gateway"]).toContain(info?.name);
      expect(JSON.stringify(me.structuredContent)).toContain("login");
    } finally {
      await client.close();
    }
  });

  it("passes progress through and answers an upstream's tool error as that upstream's", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    try {
      const seen: number[] = [];
      const r = (await client.callTool(
        { name: "everything__slow", arguments: { ms: 200 } },
        { onprogress: (p) => seen.push(p.progress) },
      )) as ToolResultShape;
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ steps: 10 });
      expect(seen.length).toBeGreaterThanOrEqual(5);
      const bad = (await client.callTool({
        name: "example-api__get_resource",
        arguments: { id: "does-not-exist" },
      })) as ToolResultShape;
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toMatch(/not_found/);
    } finally {
      await client.close();
    }
  });

  it("rewrites resource URIs reversibly and reads through them", async () => {
    const client = await connectHttpClient(gw.url, {}, undefined, era);
    try {
      const { resources } = await client.listResources();
      const { resourceTemplates } = await client.listResourceTemplates();
      const uris = resources.map((r) => r.uri);
      expect([...uris, ...resourceTemplates.map((t) => t.uriTemplate)].length).toBeGreaterThan(0);
      for (const uri of uris) expect(uri).toMatch(/^[a-z][a-z0-9-]*\+[a-z][a-z0-9+.-]*:/);
      const first = resources[0]!;
      const read = await client.readResource({ uri: first.uri });
      expect(read.contents[0]!.uri.startsWith(first.uri.split("+")[0]! + "+")).toBe(true);
    } finally {
      await client.close();
    }
  });
});

it("cancels a forwarded call when the client cancels", async () => {
  const client = await connectHttpClient(gw.url, {}, undefined, "legacy");
  try {
    const controller = new AbortController();
    const started = Date.now();
    const pending = client.callTool(
      { name: "everything__slow", arguments: { ms: 20_000 } },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 300);
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    // The upstream finished (cancelled) its call: nothing stays in flight on the gateway's side.
    const { gateway } = await gw.deps();
    await vi.waitFor(() => expect(gateway.upstreams.get("everything")!.inflight).toBe(0), { timeout: 5_000 });
  } finally {
    await client.close();
  }
});

it("keeps the upstream credential from clients and logs", async () => {
  const client = await connectHttpClient(gw.url, {}, undefined, "modern");
  try {
    const seen: string[] = [];
    seen.push(JSON.stringify(await client.listTools()));
    seen.push(JSON.stringify(await client.callTool({ name: "example-api__list_resources", arguments: {} })));
    seen.push(
      JSON.stringify(await client.callTool({ name: "example-api__get_resource", arguments: { id: "x" } })),
    );
    seen.push(JSON.stringify(await client.listResources()));
    for (const text of seen) expect(text).not.toContain(EXAMPLE_MCP_KEY);
    expect(gw.logs().length).toBeGreaterThan(0);
    expect(gw.logs()).not.toContain(EXAMPLE_MCP_KEY);
  } finally {
    await client.close();
  }
});

it("reports upstream health on /readyz", async () => {
  const ready = await fetch(new URL("/readyz", gw.url));
  expect(ready.status, await ready.text()).toBe(200);
});
