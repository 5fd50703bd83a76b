import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { createLogger } from "@toolshed/logging";
import { authFromSettings, defineServer, defineTool, z } from "@toolshed/server";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHttpServer, textOf, type TestHttpServer } from "../src/index.js";
import { INITIALIZE, MCP_HEADERS } from "./sse.js";

const ISSUER = "https://issuer.toolshed.test";
const AUDIENCE = "https://tools.toolshed.test/mcp";
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const tool = (name: string, scopes?: string[]) =>
  defineTool({
    name,
    title: name,
    description: `Test tool ${name}; answers with its own name.`,
    input: z.object({}),
    output: z.object({ tool: z.string() }),
    annotations: hints,
    ...(scopes ? { scopes } : {}),
    render: ({ tool: t }) => t,
    handler: () => ({ tool: name }),
  });
const server = defineServer({
  name: "auth-test",
  version: "1.0.0",
  tools: [tool("public_echo"), tool("read_thing", ["things:read"]), tool("write_thing", ["things:write"])],
});

let signingKey: CryptoKey;
let otherKey: CryptoKey;
let jwks: Server;
let jwksUrl: string;
const apiKey = generateApiKey();
const revokedKey = generateApiKey();
const logLines: string[] = [];
const secrets: string[] = [apiKey, revokedKey];

async function token(
  claims: Record<string, unknown> = {},
  options: { key?: CryptoKey; expiresIn?: string } = {},
) {
  const jwt = await new SignJWT({ scope: "things:read", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer((claims.iss as string | undefined) ?? ISSUER)
    .setAudience((claims.aud as string | undefined) ?? AUDIENCE)
    .setSubject("user-42")
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m")
    .sign(options.key ?? signingKey);
  secrets.push(jwt);
  return jwt;
}

async function post(url: string, headers: Record<string, string>, body: unknown = INITIALIZE) {
  const res = await fetch(url, {
    method: "POST",
    headers: { ...MCP_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    challenge: res.headers.get("www-authenticate") ?? "",
    body: await res.text(),
    res,
  };
}

describe("auth over real HTTP", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    const pair = await generateKeyPair("ES256");
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair("ES256")).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    jwks = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    const logger = createLogger({
      name: "auth-test",
      level: "debug",
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          logLines.push(...chunk.toString().split("\n").filter(Boolean));
          cb();
        },
      }),
    });
    const auth = authFromSettings(
      {
        serverName: "auth-test",
        apiKeys: `ci:${hashApiKey(apiKey)}:things:read things:write auth-test:read;!old:${hashApiKey(revokedKey)}:things:read`,
        jwtIssuer: ISSUER,
        jwtAudience: [AUDIENCE],
        jwksUrl,
        publicUrl: AUDIENCE,
      },
      "http://127.0.0.1/mcp",
      logger,
    );
    srv = await startTestHttpServer(server, { auth: auth! }, { logger });
  });
  afterAll(async () => {
    await srv.close(500);
    jwks.close();
  });

  it("challenges a request without credentials (no error code, RFC 6750 §3.1)", async () => {
    const r = await post(srv.url, {});
    expect(r.status).toBe(401);
    expect(r.challenge).toMatch(/^Bearer /);
    expect(r.challenge).toContain(
      'resource_metadata="https://tools.toolshed.test/.well-known/oauth-protected-resource/mcp"',
    );
    expect(r.challenge).not.toContain("error=");
  });

  it.each([
    ["a malformed token", () => Promise.resolve("not.a.jwt"), /not a valid JWT|not a JWT/],
    ["a token signed by another key", () => token({}, { key: otherKey }), /signature is invalid/],
    ["an expired token", () => token({}, { expiresIn: "-10m" }), /token expired/],
    ["a token from another issuer", () => token({ iss: "https://evil.test" }), /issuer is not the expected/],
    [
      "a token for another audience",
      () => token({ aud: "https://other.test/mcp" }),
      /audience does not include/,
    ],
  ])("refuses %s with 401 invalid_token", async (_name, make, why) => {
    const r = await post(srv.url, { authorization: `Bearer ${await make()}` });
    expect(r.status).toBe(401);
    expect(r.challenge).toContain('error="invalid_token"');
    expect(JSON.parse(r.body)).toMatchObject({ error: { message: expect.stringMatching(why) as unknown } });
  });

  it("refuses a token not issued for this resource (RFC 8707) when the audience alone would pass", async () => {
    const logger = createLogger({ name: "rfc8707", level: "silent" });
    const auth = authFromSettings(
      {
        serverName: "rfc8707",
        jwtIssuer: ISSUER,
        jwtAudience: ["api://toolshed"],
        jwksUrl,
        publicUrl: AUDIENCE,
      },
      "http://127.0.0.1/mcp",
      logger,
    )!;
    const other = await startTestHttpServer(server, { auth }, { logger });
    try {
      const wrong = await post(other.url, {
        authorization: `Bearer ${await token({ aud: "api://toolshed" })}`,
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatch(/not meant for this resource/);
      const right = await post(other.url, {
        authorization: `Bearer ${await token({ aud: "api://toolshed", resource: AUDIENCE })}`,
      });
      expect(right.status).toBe(200);
    } finally {
      await other.close(500);
    }
  });

  it("refuses a revoked or unknown API key", async () => {
    const revoked = await post(srv.url, { "x-api-key": revokedKey });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatch(/revoked/);
    const unknown = await post(srv.url, { "x-api-key": generateApiKey() });
    expect(unknown.status).toBe(401);
  });

  it("lets a valid token in, listing only the tools its scopes allow", async () => {
    const client = await srv.connect({}, { authorization: `Bearer ${await token()}` });
    const { tools } = await client.listTools();
    // public_echo declares no scopes: as a read-only tool it needs the default auth-test:read.
    expect(tools.map((t) => t.name).sort()).toEqual(["read_thing"]);
    expect(textOf(await client.callTool({ name: "read_thing", arguments: {} }))).toBe("read_thing");
    await expect(client.callTool({ name: "public_echo", arguments: {} })).rejects.toThrow(/auth-test:read/);
    await client.close();
  });

  it("answers a call to a tool beyond the token's scopes with 403 insufficient_scope naming the scope", async () => {
    const jwt = await token();
    const client = await srv.connect({}, { authorization: `Bearer ${jwt}` });
    await expect(client.callTool({ name: "write_thing", arguments: {} })).rejects.toThrow(/things:write/);
    await client.close();
    // The same over raw HTTP, to see the challenge.
    const init = await post(srv.url, { authorization: `Bearer ${jwt}` });
    const sid = init.res.headers.get("mcp-session-id")!;
    const r = await post(
      srv.url,
      { authorization: `Bearer ${jwt}`, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" },
      { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "write_thing", arguments: {} } },
    );
    expect(r.status).toBe(403);
    expect(r.challenge).toContain('error="insufficient_scope"');
    expect(r.challenge).toContain('scope="things:write"');
  });

  it("lets a valid API key in with its own scopes", async () => {
    const client = await srv.connect({}, { "x-api-key": apiKey });
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(3);
    expect(textOf(await client.callTool({ name: "write_thing", arguments: {} }))).toBe("write_thing");
    await client.close();
  });

  it("keeps a session to the principal that opened it", async () => {
    const init = await post(srv.url, { authorization: `Bearer ${await token()}` });
    const sid = init.res.headers.get("mcp-session-id")!;
    expect(sid).toBeTruthy();
    const hijack = await post(
      srv.url,
      { "x-api-key": apiKey, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" },
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
    );
    expect(hijack.status).toBe(404);
  });

  it("serves RFC 9728 protected-resource metadata", async () => {
    for (const path of [
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-protected-resource/mcp",
    ]) {
      const res = await fetch(srv.url.replace("/mcp", path));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        resource: AUDIENCE,
        authorization_servers: [ISSUER],
        resource_name: "toolshed-auth-test",
      });
    }
  });

  it("never writes a credential to the log", () => {
    expect(logLines.length).toBeGreaterThan(5);
    const log = logLines.join("\n");
    expect(log).toContain("request refused by auth");
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});

describe("rate limits per principal and tool", () => {
  it("refuses the call over a tool's limit with rate_limited, leaving other tools alone", async () => {
    const key = generateApiKey();
    const logger = createLogger({ name: "rl", level: "silent" });
    const auth = authFromSettings(
      {
        serverName: "rl-tool",
        apiKeys: `a:${hashApiKey(key)}:things:read auth-test:*`,
        toolRateLimit: "2,0.01",
      },
      "http://127.0.0.1/mcp",
      logger,
    )!;
    const srv = await startTestHttpServer(server, { auth }, { logger });
    try {
      const client = await srv.connect({}, { "x-api-key": key });
      const calls = [];
      for (let i = 0; i < 3; i++) calls.push(await client.callTool({ name: "public_echo", arguments: {} }));
      expect(calls.map((c) => c.isError ?? false)).toEqual([false, false, true]);
      expect(textOf(calls[2])).toMatch(
        /^rate_limited: rate limit for tool 'public_echo' reached; retry in \d+s/,
      );
      expect(textOf(await client.callTool({ name: "read_thing", arguments: {} }))).toBe("read_thing");
      await client.close();
    } finally {
      await srv.close(500);
    }
  });

  it("answers 429 with Retry-After once the bucket is empty", async () => {
    const key = generateApiKey();
    const logger = createLogger({ name: "rl", level: "silent" });
    const auth = authFromSettings(
      { serverName: "rl-test", apiKeys: `a:${hashApiKey(key)}:`, rateLimit: "3,0.01" },
      "http://127.0.0.1/mcp",
      logger,
    )!;
    const srv = await startTestHttpServer(server, { auth }, { logger });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const r = await post(srv.url, { "x-api-key": key });
        statuses.push(r.status);
        retryAfter = r.res.headers.get("retry-after");
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await srv.close(500);
    }
  });
});
