import { describe, expect, it } from "vitest";
import {
  createApiKeyAuthenticator,
  generateApiKey,
  hashApiKey,
  parseApiKeys,
  type ApiKeyEntry,
  type AuthFailure,
  type AuthOutcome,
} from "../src/index.js";

const CI_KEY = "tsk_ci_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
const OLD_KEY = "tsk_old_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvu";
const PLAIN_KEY = "plain-key-without-prefix-0123456789";

const keys: ApiKeyEntry[] = [
  { id: "ci", hash: hashApiKey(CI_KEY), scopes: ["analytics:read", "github:read"] },
  { id: "old", hash: hashApiKey(OLD_KEY), scopes: ["analytics:read"], revoked: true },
  { id: "plain", hash: hashApiKey(PLAIN_KEY), scopes: [] },
];

function failure(outcome: AuthOutcome | undefined): AuthFailure {
  expect(outcome?.ok).toBe(false);
  return outcome as AuthFailure;
}

describe("hashApiKey and generateApiKey", () => {
  it("hashes with SHA-256 to lower-case hex", () => {
    expect(hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("generates prefixed 256-bit base64url keys, each different", () => {
    const a = generateApiKey();
    const b = generateApiKey("acme_");
    expect(a).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/);
    expect(b).toMatch(/^acme_[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 50 }, () => generateApiKey())).size).toBe(50);
    expect(() => generateApiKey("bad prefix:")).toThrow(/prefix/);
  });
});

describe("createApiKeyAuthenticator", () => {
  const auth = createApiKeyAuthenticator({ keys });

  it("accepts a valid key in X-API-Key, in any header casing", async () => {
    expect(await auth.authenticate({ "x-api-key": CI_KEY })).toEqual({
      ok: true,
      principal: { id: "ci", scopes: ["analytics:read", "github:read"] },
    });
    expect((await auth.authenticate({ "X-Api-Key": ` ${CI_KEY} ` }))?.ok).toBe(true);
    expect((await auth.authenticate({ "x-api-key": PLAIN_KEY }))?.ok).toBe(true);
  });

  it("accepts a prefixed key as Authorization: Bearer, and leaves other bearer tokens alone", async () => {
    const outcome = await auth.authenticate({ authorization: `Bearer ${CI_KEY}` });
    expect(outcome).toMatchObject({ ok: true, principal: { id: "ci" } });
    expect(await auth.authenticate({ authorization: `Bearer ${PLAIN_KEY}` })).toBeUndefined();
    expect(await auth.authenticate({ authorization: "Bearer eyJhbGciOi.eyJzdWIi.c2ln" })).toBeUndefined();
    expect(await auth.authenticate({ authorization: "Basic dXNlcjpwYXNz" })).toBeUndefined();
    expect(await auth.authenticate({})).toBeUndefined();
  });

  it("turns the Bearer route off with an empty prefix, and reads a custom header", async () => {
    const custom = createApiKeyAuthenticator({ keys, header: "X-Toolshed-Key", prefix: "" });
    expect(await custom.authenticate({ authorization: `Bearer ${CI_KEY}` })).toBeUndefined();
    expect(await custom.authenticate({ "x-api-key": CI_KEY })).toBeUndefined();
    expect((await custom.authenticate({ "x-toolshed-key": CI_KEY }))?.ok).toBe(true);
    expect(failure(await custom.authenticate({ "x-toolshed-key": "" })).description).toBe(
      "the X-Toolshed-Key header is empty",
    );
  });

  it("refuses an unknown key", async () => {
    expect(await auth.authenticate({ "x-api-key": "tsk_not_a_key_we_issued" })).toEqual({
      ok: false,
      status: 401,
      error: "invalid_token",
      description: "unknown API key; check the key, or ask the server's operator for one",
    });
    expect(failure(await auth.authenticate({ authorization: "Bearer tsk_unknown" })).error).toBe(
      "invalid_token",
    );
  });

  it("refuses a revoked key as revoked", async () => {
    expect(await auth.authenticate({ "x-api-key": OLD_KEY })).toEqual({
      ok: false,
      status: 401,
      error: "invalid_token",
      description: "API key revoked; ask the server's operator for a new key",
    });
  });

  it("refuses empty, repeated and malformed keys", async () => {
    expect(await auth.authenticate({ "x-api-key": "  " })).toMatchObject({
      status: 401,
      error: "invalid_request",
    });
    expect(await auth.authenticate({ "x-api-key": [CI_KEY, OLD_KEY] })).toMatchObject({
      error: "invalid_request",
      description: "the request has several X-API-Key headers; send exactly one",
    });
    expect(failure(await auth.authenticate({ "x-api-key": "tsk key with spaces" })).description).toMatch(
      /characters an API key cannot have/,
    );
    expect(failure(await auth.authenticate({ "x-api-key": "ключ" })).error).toBe("invalid_token");
    expect(failure(await auth.authenticate({ "x-api-key": "k".repeat(9000) })).description).toMatch(
      /longer than/,
    );
  });

  it("refuses a configuration with a raw key for a hash, or repeated ids", () => {
    expect(() => createApiKeyAuthenticator({ keys: [{ id: "ci", hash: CI_KEY, scopes: [] }] })).toThrow(
      /key 1 \(id 'ci'\) has no valid hash/,
    );
    try {
      createApiKeyAuthenticator({ keys: [{ id: "ci", hash: CI_KEY, scopes: [] }] });
    } catch (error) {
      expect((error as Error).message).not.toContain(CI_KEY);
    }
    expect(() => createApiKeyAuthenticator({ keys: [keys[0]!, { ...keys[1]!, id: "ci" }] })).toThrow(
      /id 'ci' repeats key 1/,
    );
    expect(() => createApiKeyAuthenticator({ keys: [{ ...keys[0]!, scopes: ["has space"] }] })).toThrow(
      /invalid scope list/,
    );
  });
});

describe("parseApiKeys", () => {
  const h1 = hashApiKey(CI_KEY);
  const h2 = hashApiKey(OLD_KEY);

  it("parses id:sha256hex:scopes entries separated by ';' or newlines", () => {
    const text = ` ci : ${h1.toUpperCase()} : analytics:read github:read ;\n!old:${h2}:analytics:read,github:read\nbare:${h1.replace(/^./, "0")}\n;`;
    expect(parseApiKeys(text)).toEqual([
      { id: "ci", hash: h1, scopes: ["analytics:read", "github:read"] },
      { id: "old", hash: h2, scopes: ["analytics:read", "github:read"], revoked: true },
      { id: "bare", hash: h1.replace(/^./, "0"), scopes: [] },
    ]);
    expect(parseApiKeys("")).toEqual([]);
    expect(parseApiKeys(" ; \n ")).toEqual([]);
  });

  it("feeds createApiKeyAuthenticator", async () => {
    const auth = createApiKeyAuthenticator({ keys: parseApiKeys(`ci:${h1}:a b;!old:${h2}:a`) });
    expect(await auth.authenticate({ "x-api-key": CI_KEY })).toMatchObject({
      ok: true,
      principal: { id: "ci", scopes: ["a", "b"] },
    });
    expect(failure(await auth.authenticate({ "x-api-key": OLD_KEY })).description).toMatch(
      /^API key revoked/,
    );
  });

  it("names the malformed entry by position and never echoes it", () => {
    const cases: [string, RegExp][] = [
      [`ci:${h1}:a;${CI_KEY}`, /^TOOLSHED_API_KEYS: entry 2 has no ':' \(is it a bare key\?/],
      [`ci:${CI_KEY}:a`, /^TOOLSHED_API_KEYS: entry 1 has no valid hash \(64 hex characters/],
      [`ci:${h1.slice(0, 63)}:a`, /entry 1 has no valid hash/],
      [`bad id:${h1}:a`, /entry 1 has an invalid id/],
      [`:${h1}:a`, /entry 1 has an invalid id/],
      [`ci:${h1}:a"b`, /entry 1 has a scope with characters a scope cannot have/],
      [`ci:${h1}:a;ci:${h2}:b`, /id 'ci' repeats key 1/],
    ];
    for (const [text, message] of cases) {
      let thrown: unknown;
      try {
        parseApiKeys(text, { source: "TOOLSHED_API_KEYS" });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, text).toMatchObject({ name: "ToolshedError", code: "invalid_input" });
      const msg = (thrown as Error).message;
      expect(msg).toMatch(message);
      expect(msg).not.toContain(CI_KEY);
      expect(msg).toMatch(/expected id:sha256hex:scopes|ids must be unique/);
    }
  });
});
