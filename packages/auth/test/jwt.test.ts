import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createJwtAuthenticator,
  type AuthFailure,
  type AuthOutcome,
  type JwtAuthenticatorOptions,
} from "../src/index.js";
import { startJwksServer, type JwksServer } from "./helpers/jwks-server.js";
import { unusedPort } from "./helpers/net.js";
import { AUDIENCE, bearer, ISSUER, makeKey, sign, type TestKey } from "./helpers/tokens.js";

function failure(outcome: AuthOutcome | undefined): AuthFailure {
  expect(outcome).toBeDefined();
  expect(outcome!.ok).toBe(false);
  return outcome as AuthFailure;
}

function principalOf(outcome: AuthOutcome | undefined) {
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
  return (outcome as Extract<AuthOutcome, { ok: true }>).principal;
}

describe("createJwtAuthenticator against a JWKS URL", () => {
  let k1: TestKey;
  let k2: TestKey;
  let stranger: TestKey;
  let jwks: JwksServer;
  const servers: JwksServer[] = [];

  const auth = (extra: Partial<JwtAuthenticatorOptions> = {}) =>
    createJwtAuthenticator({ jwksUrl: jwks.jwksUrl, issuer: ISSUER, audience: AUDIENCE, ...extra });

  beforeAll(async () => {
    [k1, k2, stranger] = await Promise.all([makeKey("k1"), makeKey("k2", "RS256"), makeKey("k1")]);
    jwks = await startJwksServer([k1.publicJwk]);
    servers.push(jwks);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it("returns undefined when there is no bearer token", async () => {
    const a = auth();
    expect(await a.authenticate({})).toBeUndefined();
    expect(await a.authenticate({ authorization: "Basic dXNlcjpwYXNz" })).toBeUndefined();
    expect(await a.authenticate({ "x-api-key": "tsk_abc" })).toBeUndefined();
  });

  it("accepts a valid token: sub, scope string, exp and claims", async () => {
    const token = await sign(k1, { scope: "analytics:read github:read", tenant: "acme" });
    const outcome = await auth().authenticate(bearer(token));
    const principal = principalOf(outcome);
    expect(principal.id).toBe("user-1");
    expect(principal.scopes).toEqual(["analytics:read", "github:read"]);
    expect(principal.claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, tenant: "acme", sub: "user-1" });
    expect((outcome as { expiresAt?: number }).expiresAt).toBe(principal.claims!.exp);
    expect(Object.isFrozen(principal.claims)).toBe(true);
  });

  it("reads scopes from an scp array, and from only the named claim when scopeClaim is set", async () => {
    const token = await sign(k1, { scp: ["a", "b"], scope: "c" });
    expect(principalOf(await auth().authenticate(bearer(token))).scopes).toEqual(["c", "a", "b"]);
    expect(principalOf(await auth({ scopeClaim: "scp" }).authenticate(bearer(token))).scopes).toEqual([
      "a",
      "b",
    ]);
    expect(principalOf(await auth({ scopeClaim: "scope" }).authenticate(bearer(token))).scopes).toEqual([
      "c",
    ]);
    const scpOnly = await sign(k1, { scp: ["x:read"] });
    expect(principalOf(await auth().authenticate(bearer(scpOnly))).scopes).toEqual(["x:read"]);
  });

  it("takes client_id as the id of a token without sub, and refuses one with neither", async () => {
    const clientToken = await sign(k1, { client_id: "svc-7" }, { sub: null });
    expect(principalOf(await auth().authenticate(bearer(clientToken))).id).toBe("svc-7");
    const anonymous = await sign(k1, {}, { sub: null });
    expect(failure(await auth().authenticate(bearer(anonymous))).description).toMatch(
      /neither a 'sub' nor a 'client_id'/,
    );
  });

  it("refuses an empty or malformed bearer token", async () => {
    const a = auth();
    expect(failure(await a.authenticate({ authorization: "Bearer " }))).toMatchObject({
      status: 401,
      error: "invalid_request",
    });
    const notJwt = failure(await a.authenticate(bearer("not-a-jwt")));
    expect(notJwt).toMatchObject({ status: 401, error: "invalid_token" });
    expect(notJwt.description).toMatch(/^the bearer token is not a JWT/);
    const garbage = failure(await a.authenticate(bearer("aaaa.bbbb.cccc")));
    expect(garbage).toMatchObject({ status: 401, error: "invalid_token" });
    expect(garbage.description).toMatch(/not a valid JWT/);
    const quoted = failure(await a.authenticate({ authorization: 'Bearer "abc.def.ghi"' }));
    expect(quoted).toMatchObject({ status: 401, error: "invalid_token" });
    expect(failure(await a.authenticate({ authorization: ["Bearer a.b.c", "Bearer d.e.f"] }))).toMatchObject({
      error: "invalid_request",
    });
  });

  it("refuses a token signed by another key under a known kid", async () => {
    const forged = await sign(stranger, { scope: "admin" });
    const out = failure(await auth().authenticate(bearer(forged)));
    expect(out).toMatchObject({ status: 401, error: "invalid_token" });
    expect(out.description).toBe(
      `token signature is invalid: it was not signed by a key of ${ISSUER}, or it was altered`,
    );
  });

  it("refuses a token whose kid is in no key set", async () => {
    const forged = await sign(stranger, {}, { kid: "unknown-kid" });
    const out = failure(await auth({ jwksCooldownMs: 0 }).authenticate(bearer(forged)));
    expect(out.error).toBe("invalid_token");
    expect(out.description).toMatch(
      /^no key of http:\/\/127\.0\.0\.1:\d+\/jwks\.json matches the token's key id/,
    );
    expect(out.retryable).toBeUndefined();
  });

  it("refuses an expired token, but not one within the clock tolerance", async () => {
    const expired = await sign(k1, {}, { expIn: -120 });
    const out = failure(await auth().authenticate(bearer(expired)));
    expect(out).toMatchObject({ status: 401, error: "invalid_token" });
    expect(out.description).toBe(`token expired; obtain a new access token from ${ISSUER}`);
    const justExpired = await sign(k1, {}, { expIn: -10 });
    expect((await auth().authenticate(bearer(justExpired)))?.ok).toBe(true);
    expect(
      failure(await auth({ clockToleranceSec: 0 }).authenticate(bearer(justExpired))).description,
    ).toMatch(/^token expired/);
  });

  it("refuses a token without exp", async () => {
    const forever = await sign(k1, {}, { expIn: null });
    expect(failure(await auth().authenticate(bearer(forever))).description).toBe(
      "token has no 'exp' claim; this server only accepts tokens that expire",
    );
  });

  it("refuses a token that is not valid yet", async () => {
    const early = await sign(k1, {}, { nbfIn: 300 });
    const out = failure(await auth().authenticate(bearer(early)));
    expect(out).toMatchObject({ status: 401, error: "invalid_token" });
    expect(out.description).toMatch(/^token not valid yet: its 'nbf' is in the future/);
  });

  it("says which claim is wrong: issuer, audience", async () => {
    const wrongIssuer = await sign(k1, {}, { iss: "https://evil.test" });
    const iss = failure(await auth().authenticate(bearer(wrongIssuer)));
    expect(iss.description).toBe(
      `token issuer is not the expected '${ISSUER}'; request a token from that issuer`,
    );
    expect(iss.description).not.toContain("evil");

    const wrongAudience = await sign(k1, {}, { aud: "https://other.test" });
    const aud = failure(await auth({ audience: [AUDIENCE, "toolshed"] }).authenticate(bearer(wrongAudience)));
    expect(aud.description).toBe(
      `token audience does not include '${AUDIENCE}' or 'toolshed'; request a token for this server`,
    );
  });

  it("checks the RFC 8707 resource in aud or in the resource claim", async () => {
    const resource = "https://tools.test/mcp";
    const a = auth({ audience: "toolshed", resource });
    const elsewhere = await sign(k1, { resource: "https://other.test/mcp" }, { aud: "toolshed" });
    const out = failure(await a.authenticate(bearer(elsewhere)));
    expect(out).toMatchObject({ status: 401, error: "invalid_token" });
    expect(out.description).toBe(
      `token is not meant for this resource: neither its 'aud' nor its 'resource' claim names '${resource}'; ` +
        `request a token with resource=${resource} (RFC 8707)`,
    );
    const noResource = await sign(k1, {}, { aud: "toolshed" });
    expect((await a.authenticate(bearer(noResource)))?.ok).toBe(false);

    const viaClaim = await sign(k1, { resource }, { aud: "toolshed" });
    expect((await a.authenticate(bearer(viaClaim)))?.ok).toBe(true);
    const viaAud = await sign(k1, {}, { aud: ["toolshed", `${resource}/`] });
    expect((await a.authenticate(bearer(viaAud)))?.ok).toBe(true);
  });

  it("refuses algorithms outside the allow-list: HS256 and none", async () => {
    const secret = new TextEncoder().encode("a-shared-secret-that-must-not-work-32b");
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("user-1")
      .setExpirationTime("5m")
      .sign(secret);
    expect(failure(await auth().authenticate(bearer(hs))).description).toMatch(
      /^token signing algorithm is not accepted/,
    );
    const none = new UnsecuredJWT({ sub: "user-1" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .encode();
    expect(failure(await auth().authenticate(bearer(none)))).toMatchObject({
      status: 401,
      error: "invalid_token",
    });
    const es = await sign(k1);
    expect(failure(await auth({ algorithms: ["RS256"] }).authenticate(bearer(es))).description).toBe(
      "token signing algorithm is not accepted; this server accepts RS256",
    );
  });

  it("refetches the key set when a new kid appears (key rotation)", async () => {
    const rotating = await startJwksServer([k1.publicJwk]);
    servers.push(rotating);
    const a = createJwtAuthenticator({
      jwksUrl: rotating.jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksCooldownMs: 0,
    });
    expect((await a.authenticate(bearer(await sign(k1))))?.ok).toBe(true);
    expect(rotating.requests).toBe(1);
    const beforeRotation = failure(await a.authenticate(bearer(await sign(k2))));
    expect(beforeRotation.description).toMatch(/^no key of/);
    expect(rotating.requests).toBe(2);

    rotating.setKeys([k1.publicJwk, k2.publicJwk]);
    expect(principalOf(await a.authenticate(bearer(await sign(k2, { scope: "new" })))).scopes).toEqual([
      "new",
    ]);
    expect(rotating.requests).toBe(3);
    expect((await a.authenticate(bearer(await sign(k1))))?.ok).toBe(true);
    expect(rotating.requests).toBe(3); // cached: known kids do not refetch
  });

  it("answers a retryable 401 when the key set is unreachable (nothing listening)", async () => {
    const port = await unusedPort();
    const a = createJwtAuthenticator({
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const out = failure(await a.authenticate(bearer(await sign(k1))));
    expect(out).toEqual({
      ok: false,
      status: 401,
      error: "invalid_token",
      description: `cannot verify the token now: the key set at http://127.0.0.1:${port}/jwks.json is unreachable; retry later`,
      retryable: true,
    });
  });

  it("bounds a hanging key set by jwksTimeoutMs, and treats HTTP 500 as unreachable", async () => {
    const hanging = await startJwksServer([k1.publicJwk]);
    servers.push(hanging);
    hanging.setMode("hang");
    const a = createJwtAuthenticator({
      jwksUrl: hanging.jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksTimeoutMs: 300,
    });
    const started = Date.now();
    const out = failure(await a.authenticate(bearer(await sign(k1))));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(out.retryable).toBe(true);
    expect(out.description).toMatch(/is unreachable; retry later$/);

    hanging.setMode("error");
    expect(failure(await a.authenticate(bearer(await sign(k1)))).retryable).toBe(true);
    hanging.setMode("ok");
    expect((await a.authenticate(bearer(await sign(k1))))?.ok).toBe(true);
  });

  it("keeps verifying with the last good key set while the URL fails, but not new kids", async () => {
    const flaky = await startJwksServer([k1.publicJwk]);
    servers.push(flaky);
    const a = createJwtAuthenticator({
      jwksUrl: flaky.jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksCacheMaxAgeMs: 0,
      jwksCooldownMs: 0,
    });
    expect((await a.authenticate(bearer(await sign(k1))))?.ok).toBe(true);
    flaky.setMode("error");
    expect((await a.authenticate(bearer(await sign(k1))))?.ok).toBe(true);
    expect(flaky.requests).toBe(2); // it did try the URL again
    const rotated = failure(await a.authenticate(bearer(await sign(k2))));
    expect(rotated.retryable).toBe(true);
  });

  it("keeps credentials and query strings of the JWKS URL out of descriptions", async () => {
    const port = await unusedPort();
    const a = createJwtAuthenticator({
      jwksUrl: `http://ops:p4ssw0rd@127.0.0.1:${port}/keys?access_token=s3cr3t`,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const out = failure(await a.authenticate(bearer(await sign(k1))));
    expect(out.description).toContain(`http://127.0.0.1:${port}/keys`);
    expect(out.description).not.toMatch(/p4ssw0rd|s3cr3t|ops/);
  });
});

describe("createJwtAuthenticator with a configured public key", () => {
  let key: TestKey;
  beforeAll(async () => {
    key = await makeKey("static-1", "RS256");
  });

  it("verifies with a PEM public key", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES384", { extractable: true });
    const pem = await exportSPKI(publicKey);
    const a = createJwtAuthenticator({ publicKey: pem, issuer: ISSUER, audience: AUDIENCE });
    const token = await sign({ kid: "whatever", alg: "ES384", privateKey, publicJwk: {} }, { scope: "s" });
    expect(principalOf(await a.authenticate(bearer(token))).scopes).toEqual(["s"]);
    expect((await a.authenticate(bearer(await sign(key))))?.ok).toBe(false);
  });

  it("verifies with one JWK (its kid need not match) and with a JWKS document", async () => {
    const { kid: _kid, ...jwkWithoutKid } = key.publicJwk;
    const single = createJwtAuthenticator({
      publicKey: JSON.stringify(jwkWithoutKid),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect((await single.authenticate(bearer(await sign(key))))?.ok).toBe(true);
    const set = createJwtAuthenticator({
      publicKey: JSON.stringify({ keys: [key.publicJwk] }),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect((await set.authenticate(bearer(await sign(key))))?.ok).toBe(true);
    const other = await makeKey("static-1", "RS256");
    expect(failure(await set.authenticate(bearer(await sign(other)))).description).toMatch(
      /signature is invalid/,
    );
  });

  it("refuses bad configuration with messages that do not echo key material", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const base = { issuer: ISSUER, audience: AUDIENCE };
    const attempts: [Partial<JwtAuthenticatorOptions>, RegExp][] = [
      [{}, /exactly one of jwksUrl and publicKey/],
      [{ jwksUrl: "https://a.test/jwks", publicKey: JSON.stringify(key.publicJwk) }, /exactly one/],
      [{ publicKey: JSON.stringify(privateJwk) }, /private or symmetric key/],
      [
        { publicKey: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----" },
        /holds a private key/,
      ],
      [{ publicKey: "not a key" }, /neither a PEM public key nor JWK/],
      [{ publicKey: JSON.stringify({ keys: [key.publicJwk, "kid-1"] }) }, /keys are not all JWK objects/],
      [{ jwksUrl: "ftp://a.test/jwks" }, /http\(s\) URL/],
      [{ jwksUrl: "https://a.test/jwks", algorithms: ["HS256"] }, /asymmetric/],
      [{ jwksUrl: "https://a.test/jwks", audience: [] }, /audience is required/],
      [{ jwksUrl: "https://a.test/jwks", issuer: "" }, /issuer is required/],
    ];
    for (const [options, message] of attempts) {
      let thrown: unknown;
      try {
        createJwtAuthenticator({ ...base, ...options });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(options)).toMatchObject({ name: "ToolshedError", code: "invalid_input" });
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain(String(privateJwk.d));
      expect((thrown as Error).message).not.toContain("MIIEvQIBADANBg");
    }
  });
});
