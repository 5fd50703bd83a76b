// Generated tools driven by the real SDK client against a real loopback HTTP server that records
// each request: where every input goes (path, query, header, body), credentials per security
// scheme, and how answers become outputs or errors.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generate } from "../src/generate.js";
import { fixtures, tempServerDir } from "./helpers.js";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

const seen: Seen[] = [];
let reply: (req: Seen) => { status: number; body?: unknown } = () => ({ status: 204 });
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      const r = reply(s);
      if (r.body === undefined) res.writeHead(r.status).end();
      else res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

async function serverFor(fixture: string, name: string, dir: string, config: Record<string, unknown>) {
  await generate({ document: join(fixtures, fixture), outDir: dir, name });
  return clientFor(dir, config);
}

async function clientFor(dir: string, config: Record<string, unknown>) {
  const def = (
    (await import(join(dir, "src/server.ts"))) as { default: Parameters<typeof createTestClient>[0] }
  ).default;
  const { configSchema } = (await import(join(dir, "src/generated/config.ts"))) as {
    configSchema: { parse(v: unknown): unknown };
  };
  return createTestClient(def, { config: configSchema.parse({ allowPrivateNetwork: true, ...config }) });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- results are read by the assertions
type Result = { isError?: boolean; structuredContent?: any; content: { text?: string }[] };
const callTool = async (t: TestClient, name: string, args: Record<string, unknown>) =>
  (await t.client.callTool({ name, arguments: args })) as unknown as Result;

describe("a generated server's requests", () => {
  const tmp = tempServerDir("runtime");
  let t: TestClient;
  beforeAll(async () => {
    t = await serverFor("features.json", "features", tmp.dir, {
      baseUrl: `${base}/v2`,
      featuresToken: "s3cret-token",
    });
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });

  it("puts path, query and header inputs where the document says, with the bearer token", async () => {
    reply = () => ({ status: 200, body: { id: "t1", name: "abc", extra: 1 } });
    seen.length = 0;
    const id = "0b6b5d9e-8a8f-4c35-9a55-4a3c6f1f2d10";
    const r = await callTool(t, "get_thing_by_id", { thingId: id, x_request_id: "req-1", verbose: true });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ id: "t1", name: "abc", extra: 1 });
    expect(seen[0]).toMatchObject({ method: "GET", url: `/v2/things/${id}?verbose=true` });
    expect(seen[0]!.headers).toMatchObject({ "x-request-id": "req-1", authorization: "Bearer s3cret-token" });
  });

  it("sends a flat body without filling in defaults, asks for JSON, repeats array query values, honours security: []", async () => {
    reply = () => ({ status: 200, body: { id: "t1", name: "abc" } });
    seen.length = 0;
    await callTool(t, "replace_thing", { thingId: "0b6b5d9e-8a8f-4c35-9a55-4a3c6f1f2d10", name: "abc" });
    expect(seen[0]!.method).toBe("PUT");
    // color's default (red) is the API's to apply: only what the model chose is sent.
    expect(JSON.parse(seen[0]!.body)).toEqual({ name: "abc" });
    expect(seen[0]!.headers.accept).toBe("application/json");
    reply = () => ({ status: 200, body: [{ id: "1", name: "x" }] });
    const list = await callTool(t, "list_things", { kind: "a", ids: [1, 2] });
    expect(seen[1]!.url).toBe("/v2/things?kind=a&ids=1&ids=2");
    expect(seen[1]!.headers.authorization).toBeUndefined();
    expect(list.structuredContent).toEqual({ items: [{ id: "1", name: "x" }] });
  });

  it("sends a whole body, and reports an empty answer by its status", async () => {
    reply = () => ({ status: 201, body: "created" });
    seen.length = 0;
    const upload = (await t.client.listTools()).tools.find((x) => x.name.startsWith("a_very"))!.name;
    const r = await callTool(t, upload, { body: ["a", "b"] });
    expect(JSON.parse(seen[0]!.body)).toEqual(["a", "b"]);
    expect(r.structuredContent).toEqual({ result: "created" });
    reply = () => ({ status: 204 });
    expect(
      (await callTool(t, "delete_thing", { thingId: "0b6b5d9e-8a8f-4c35-9a55-4a3c6f1f2d10" }))
        .structuredContent,
    ).toEqual({
      status: 204,
    });
  });

  it("turns an answer that breaks the document into an upstream_error naming the field", async () => {
    reply = () => ({ status: 200, body: { name: 5 } });
    const r = await callTool(t, "get_tree", {});
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toMatch(/upstream_error/);
    expect(r.content[0]!.text).toContain("name");
  });

  it("passes on an answer missing a required field, warning with the tool and the first issue", async () => {
    const warnings: unknown[] = [];
    t.client.setNotificationHandler("notifications/message", (n) => {
      if (n.params.level === "warning") warnings.push(n.params.data);
    });
    reply = () => ({ status: 200, body: { name: "abc", note: "n" } }); // the document requires id
    const id = "0b6b5d9e-8a8f-4c35-9a55-4a3c6f1f2d10";
    const r = await callTool(t, "get_thing_by_id", { thingId: id });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent).toEqual({ name: "abc", note: "n" });
    await vi.waitFor(() => expect(warnings).toHaveLength(1));
    expect(JSON.stringify(warnings[0])).toMatch(/get_thing_by_id.*id: /);
  });

  it("refuses the same answer when strict answers are on", async () => {
    const strict = await clientFor(tmp.dir, {
      baseUrl: `${base}/v2`,
      featuresToken: "x",
      strictAnswers: true,
    });
    try {
      reply = () => ({ status: 200, body: { name: "abc" } });
      const r = await callTool(strict, "get_thing_by_id", {
        thingId: "0b6b5d9e-8a8f-4c35-9a55-4a3c6f1f2d10",
      });
      expect(r.isError).toBe(true);
      expect(r.content[0]!.text).toMatch(
        /upstream_error.*does not match the document at id: .*strict answers are on/,
      );
    } finally {
      await strict.close();
    }
  });
});

describe("credentials by security scheme", () => {
  const tmp = tempServerDir("creds");
  let t: TestClient;
  beforeAll(async () => {
    t = await serverFor("credentials.yaml", "creds", tmp.dir, {
      baseUrl: `${base}/api`,
      credsBasicUsername: "ann",
      credsBasicPassword: "pw",
      credsQueryKey: "qk-1",
      credsSessionKey: "sess=1",
    });
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });

  it("sends basic auth, a query key, and the first fully configured alternative", async () => {
    reply = () => ({ status: 204 });
    seen.length = 0;
    await callTool(t, "with_basic", {});
    await callTool(t, "with_query_key", {});
    await callTool(t, "with_cookie_or_both", {});
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from("ann:pw").toString("base64")}`);
    expect(seen[1]!.url).toBe("/api/query?api_key=qk-1");
    expect(seen[2]!.url).toBe("/api/either?api_key=qk-1");
    expect(seen[2]!.headers.authorization).toMatch(/^Basic /);
    expect(seen[2]!.headers.cookie).toBeUndefined();
  });

  it("falls back to the next alternative (the cookie) when the first is not configured", async () => {
    const dir = tempServerDir("creds2");
    const c = await serverFor("credentials.yaml", "creds", dir.dir, {
      baseUrl: `${base}/api`,
      credsSessionKey: "sess=1",
    });
    try {
      reply = () => ({ status: 204 });
      seen.length = 0;
      await callTool(c, "with_cookie_or_both", {});
      expect(seen[0]!.headers.cookie).toBe("SESSION=sess%3D1");
      expect(seen[0]!.headers.authorization).toBeUndefined();
      reply = () => ({ status: 401, body: { message: "who are you" } });
      const r = await callTool(c, "with_basic", {});
      expect(r.isError).toBe(true);
      expect(r.content[0]!.text).toContain(
        "Set CREDS_BASIC_USERNAME and CREDS_BASIC_PASSWORD or CREDS_QUERY_KEY or CREDS_SESSION_KEY",
      );
    } finally {
      await c.close();
      dir.cleanup();
    }
  });
});
