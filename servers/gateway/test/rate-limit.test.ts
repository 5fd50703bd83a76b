// Rate limits per upstream (`rateLimit: { perMinute }`): the gateway sends an upstream at most that
// many requests a minute, all callers together; past it a call is refused with rate_limited naming
// the upstream and when to retry, and the upstream never sees it. Other upstreams are not affected.
import everything from "@toolshed/fixture-everything";
import { startHttpServer } from "@toolshed/server";
import { connectHttpClient } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { parseGatewayFile } from "../src/config.js";
import { startGateway, textOf, type TestGateway, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let fixture: { url: string; close(): Promise<void> };
let gw: TestGateway;

beforeAll(async () => {
  fixture = await startHttpServer(everything, {}, { logLevel: "silent" });
  gw = await startGateway(
    `upstreams:
  limited:
    url: ${fixture.url}
    rateLimit: { perMinute: 2 }
  open:
    url: ${fixture.url}
`,
  );
  const { gateway } = await gw.deps();
  expect(gateway.down()).toEqual([]);
});

afterAll(async () => {
  await gw?.close();
  await fixture?.close();
});

it("refuses the request past the limit with rate_limited, naming the upstream and the retry time", async () => {
  // Two callers share the upstream's limit.
  const one = await connectHttpClient(gw.url, {}, undefined, "modern");
  const two = await connectHttpClient(gw.url);
  try {
    const inflight = () => gw.deps().then((d) => d.gateway.upstreams.get("limited")!.inflight);
    const first = (await one.callTool({
      name: "limited__echo",
      arguments: { message: "a" },
    })) as ToolResultShape;
    expect(first.isError, textOf(first)).toBeFalsy();
    const second = (await two.callTool({
      name: "limited__echo",
      arguments: { message: "b" },
    })) as ToolResultShape;
    expect(second.isError, textOf(second)).toBeFalsy();

    const refused = (await one.callTool({
      name: "limited__echo",
      arguments: { message: "c" },
    })) as ToolResultShape & { _meta?: Record<string, { code?: string; retryAfterMs?: number }> };
    expect(refused.isError).toBe(true);
    const m =
      /^rate_limited: upstream 'limited' rate limit reached \(2 requests per minute through this gateway\); retry in (\d+)s/.exec(
        textOf(refused),
      );
    expect(m, textOf(refused)).not.toBeNull();
    // One request comes back every 30 s.
    expect(Number(m![1])).toBeGreaterThanOrEqual(1);
    expect(Number(m![1])).toBeLessThanOrEqual(30);
    const error = refused._meta?.["toolshed/error"];
    expect(error?.code).toBe("rate_limited");
    expect(error?.retryAfterMs).toBeGreaterThan(0);
    expect(error?.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(await inflight()).toBe(0);

    // resources/read and prompts/get count too: refused as JSON-RPC errors saying the same.
    await expect(two.readResource({ uri: "limited+test://static-text" })).rejects.toThrow(
      /upstream 'limited' rate limit reached .*; retry in \d+s/,
    );
    await expect(two.getPrompt({ name: "limited__test_simple_prompt", arguments: {} })).rejects.toThrow(
      /upstream 'limited' rate limit reached/,
    );

    // Another upstream, the same server behind it, is not limited.
    for (const message of ["x", "y", "z"]) {
      const r = (await two.callTool({ name: "open__echo", arguments: { message } })) as ToolResultShape;
      expect(r.isError, textOf(r)).toBeFalsy();
    }
    expect((await two.readResource({ uri: "open+test://static-text" })).contents).toHaveLength(1);
  } finally {
    await one.close();
    await two.close();
  }
});

it("checks the setting: a whole, positive number per minute", () => {
  const bad = (value: string) => () =>
    parseGatewayFile(
      `upstreams:\n  a:\n    url: http://127.0.0.1:1/mcp\n    rateLimit: ${value}\n`,
      "g.yaml",
    );
  expect(bad("{ perMinute: 0 }")).toThrow(
    /upstreams.a.rateLimit.perMinute: a whole number of requests per minute/,
  );
  expect(bad("{ perMinute: 1.5 }")).toThrow(/upstreams.a.rateLimit.perMinute: a whole number/);
  expect(bad("{ perSecond: 5 }")).toThrow(/upstreams.a.rateLimit/);
  expect(
    parseGatewayFile(
      `upstreams:\n  a:\n    url: http://127.0.0.1:1/mcp\n    rateLimit: { perMinute: 60 }\n`,
      "g.yaml",
    ).upstreams.a?.rateLimit,
  ).toEqual({ perMinute: 60 });
});
