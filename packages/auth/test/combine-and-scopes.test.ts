import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUTHENTICATION_REQUIRED,
  combineAuthenticators,
  createApiKeyAuthenticator,
  createJwtAuthenticator,
  hashApiKey,
  missingScopes,
  type Authenticator,
} from "../src/index.js";
import { startJwksServer, type JwksServer } from "./helpers/jwks-server.js";
import { AUDIENCE, bearer, ISSUER, makeKey, sign, type TestKey } from "./helpers/tokens.js";

const KEY = "tsk_combined_0123456789abcdefghijklmnopqrstuv";

describe("combineAuthenticators", () => {
  let key: TestKey;
  let jwks: JwksServer;
  let combined: ReturnType<typeof combineAuthenticators>;

  beforeAll(async () => {
    key = await makeKey("c1");
    jwks = await startJwksServer([key.publicJwk]);
    combined = combineAuthenticators([
      createApiKeyAuthenticator({ keys: [{ id: "ops", hash: hashApiKey(KEY), scopes: ["admin"] }] }),
      createJwtAuthenticator({ jwksUrl: jwks.jwksUrl, issuer: ISSUER, audience: AUDIENCE }),
    ]);
  });
  afterAll(async () => {
    await jwks.close();
  });

  it("answers authentication required, marked missing, when nothing understood the request", async () => {
    const outcome = await combined.authenticate({ authorization: "Basic dXNlcjpwYXNz" });
    expect(outcome).toEqual({
      ok: false,
      status: 401,
      error: "invalid_request",
      description: "authentication required: send Authorization: Bearer <token> or X-API-Key",
      missing: true,
    });
    expect(outcome).toEqual(AUTHENTICATION_REQUIRED);
    expect(await combineAuthenticators([]).authenticate({})).toEqual(AUTHENTICATION_REQUIRED);
  });

  it("routes API keys (header or prefixed bearer) and JWTs to the right authenticator", async () => {
    expect(await combined.authenticate({ "x-api-key": KEY })).toMatchObject({
      ok: true,
      principal: { id: "ops" },
    });
    expect(await combined.authenticate(bearer(KEY))).toMatchObject({ ok: true, principal: { id: "ops" } });
    expect(await combined.authenticate(bearer(await sign(key)))).toMatchObject({
      ok: true,
      principal: { id: "user-1" },
    });
    const badJwt = await combined.authenticate(bearer("not-a-jwt"));
    expect(badJwt).toMatchObject({ ok: false, error: "invalid_token" });
  });

  it("lets the first authenticator with an outcome win, even a refusal", async () => {
    const calls: string[] = [];
    const fixed = (
      name: string,
      result: Awaited<ReturnType<Authenticator["authenticate"]>>,
    ): Authenticator => ({
      authenticate: () => {
        calls.push(name);
        return Promise.resolve(result);
      },
    });
    const chain = combineAuthenticators([
      fixed("a", undefined),
      fixed("b", { ok: false, status: 401, error: "invalid_token", description: "no" }),
      fixed("c", { ok: true, principal: { id: "c", scopes: [] } }),
    ]);
    expect(await chain.authenticate({})).toMatchObject({ ok: false, description: "no" });
    expect(calls).toEqual(["a", "b"]);
  });
});

describe("missingScopes", () => {
  it("lists the required scopes the principal lacks, once each, in order", () => {
    const principal = { id: "p", scopes: ["a", "b"] };
    expect(missingScopes(principal, [])).toEqual([]);
    expect(missingScopes(principal, ["a"])).toEqual([]);
    expect(missingScopes(principal, ["c", "a", "d", "c"])).toEqual(["c", "d"]);
    expect(missingScopes({ id: "q", scopes: [] }, ["a"])).toEqual(["a"]);
  });

  it("takes * as every scope and <prefix>:* as every scope under <prefix>:", () => {
    expect(missingScopes({ id: "all", scopes: ["*"] }, ["github:write", "x"])).toEqual([]);
    const gh = { id: "gh", scopes: ["github:*"] };
    expect(missingScopes(gh, ["github:read", "github:write"])).toEqual([]);
    expect(missingScopes(gh, ["vector-search:read", "github", "githubx:read"])).toEqual([
      "vector-search:read",
      "github",
      "githubx:read",
    ]);
    // A literal scope ending in * grants nothing beyond itself.
    expect(missingScopes({ id: "p", scopes: ["repo*"] }, ["repo:read"])).toEqual(["repo:read"]);
  });
});
