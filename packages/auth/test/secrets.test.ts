import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  combineAuthenticators,
  createApiKeyAuthenticator,
  createJwtAuthenticator,
  hashApiKey,
  wwwAuthenticate,
  type AuthOutcome,
  type RequestHeaders,
} from "../src/index.js";
import { startJwksServer, type JwksServer } from "./helpers/jwks-server.js";
import { unusedPort } from "./helpers/net.js";
import { AUDIENCE, ISSUER, makeKey, sign } from "./helpers/tokens.js";

// Credentials a careless description or challenge might echo.
const REVOKED_KEY = "tsk_revokedSECRETrevokedSECRETrevokedSECRET00";
const UNKNOWN_KEY = "tsk_unknownSECRETunknownSECRETunknownSECRET0";
const PLAIN_SECRET = "hunter2-hunter2-hunter2";

/** The credential and every meaningful piece of it (JWT segments). */
function fragments(secret: string): string[] {
  return [secret, ...secret.split(".").filter((part) => part.length >= 8)];
}

describe("no outcome or challenge ever contains the presented credential", () => {
  let jwks: JwksServer;
  const cases: { name: string; headers: RequestHeaders; secret: string }[] = [];
  let auth: ReturnType<typeof combineAuthenticators>;
  let unreachable: ReturnType<typeof combineAuthenticators>;

  beforeAll(async () => {
    const [good, stranger] = await Promise.all([makeKey("s1"), makeKey("s1")]);
    jwks = await startJwksServer([good.publicJwk]);
    const secretClaims = { note: PLAIN_SECRET, scope: "x" };
    const tokens = {
      forged: await sign(stranger, secretClaims),
      expired: await sign(good, secretClaims, { expIn: -3600 }),
      early: await sign(good, secretClaims, { nbfIn: 3600 }),
      wrongIssuer: await sign(good, secretClaims, { iss: `https://${PLAIN_SECRET}.test` }),
      wrongAudience: await sign(good, secretClaims, { aud: PLAIN_SECRET }),
      unknownKid: await sign(stranger, secretClaims, { kid: "nobody" }),
    };
    for (const [name, token] of Object.entries(tokens)) {
      cases.push({ name: `jwt ${name}`, headers: { authorization: `Bearer ${token}` }, secret: token });
    }
    cases.push(
      {
        name: "malformed jwt",
        headers: { authorization: `Bearer ${PLAIN_SECRET}.abc` },
        secret: PLAIN_SECRET,
      },
      {
        name: "three garbage parts",
        headers: { authorization: `Bearer ${PLAIN_SECRET}.${PLAIN_SECRET}.x` },
        secret: PLAIN_SECRET,
      },
      {
        name: "non-b64 bearer",
        headers: { authorization: `Bearer "${PLAIN_SECRET}"` },
        secret: PLAIN_SECRET,
      },
      { name: "unknown api key", headers: { "x-api-key": UNKNOWN_KEY }, secret: UNKNOWN_KEY },
      {
        name: "unknown bearer api key",
        headers: { authorization: `Bearer ${UNKNOWN_KEY}` },
        secret: UNKNOWN_KEY,
      },
      { name: "revoked api key", headers: { "x-api-key": REVOKED_KEY }, secret: REVOKED_KEY },
      { name: "api key with a space", headers: { "x-api-key": `${PLAIN_SECRET} x` }, secret: PLAIN_SECRET },
      { name: "two api keys", headers: { "x-api-key": [UNKNOWN_KEY, REVOKED_KEY] }, secret: UNKNOWN_KEY },
    );
    auth = combineAuthenticators([
      createApiKeyAuthenticator({
        keys: [{ id: "old", hash: hashApiKey(REVOKED_KEY), scopes: [], revoked: true }],
      }),
      createJwtAuthenticator({
        jwksUrl: jwks.jwksUrl,
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksCooldownMs: 0,
      }),
    ]);
    const port = await unusedPort();
    unreachable = combineAuthenticators([
      createJwtAuthenticator({
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    ]);
  });
  afterAll(async () => {
    await jwks.close();
  });

  const assertClean = (outcome: AuthOutcome, secret: string, name: string) => {
    expect(outcome.ok, name).toBe(false);
    const rendered = [
      JSON.stringify(outcome),
      wwwAuthenticate({
        outcome,
        resourceMetadataUrl: "https://t.test/.well-known/oauth-protected-resource",
      }),
    ];
    for (const text of rendered) {
      for (const piece of [...fragments(secret), PLAIN_SECRET]) expect(text, name).not.toContain(piece);
    }
  };

  it("for every refused credential", async () => {
    expect(cases.length).toBeGreaterThanOrEqual(14);
    for (const { name, headers, secret } of cases)
      assertClean(await auth.authenticate(headers), secret, name);
  });

  it("when the key set is unreachable", async () => {
    for (const { name, headers, secret } of cases.filter((c) => c.name.startsWith("jwt"))) {
      const outcome = await unreachable.authenticate(headers);
      assertClean(outcome, secret, `${name} (unreachable)`);
    }
  });
});
