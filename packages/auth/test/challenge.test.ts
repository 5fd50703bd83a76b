import { describe, expect, it } from "vitest";
import {
  AUTHENTICATION_REQUIRED,
  insufficientScope,
  wwwAuthenticate,
  type AuthFailure,
} from "../src/index.js";

const META = "https://tools.test/.well-known/oauth-protected-resource/mcp";

describe("wwwAuthenticate", () => {
  it("gives a bare challenge, without error, when no credential was sent (RFC 6750 §3.1)", () => {
    expect(wwwAuthenticate({ resourceMetadataUrl: META })).toBe(`Bearer resource_metadata="${META}"`);
    expect(
      wwwAuthenticate({ outcome: AUTHENTICATION_REQUIRED, resourceMetadataUrl: META, realm: "toolshed" }),
    ).toBe(`Bearer realm="toolshed", resource_metadata="${META}"`);
    expect(
      wwwAuthenticate({
        outcome: AUTHENTICATION_REQUIRED,
        resourceMetadataUrl: META,
        scope: "a:read b:read",
      }),
    ).toBe(`Bearer resource_metadata="${META}", scope="a:read b:read"`);
    expect(wwwAuthenticate({})).toBe("Bearer");
  });

  it("names the error and its description for a refused token", () => {
    const outcome: AuthFailure = {
      ok: false,
      status: 401,
      error: "invalid_token",
      description: "token expired; obtain a new access token from https://issuer.test",
    };
    expect(wwwAuthenticate({ outcome, resourceMetadataUrl: META, realm: "toolshed" })).toBe(
      `Bearer realm="toolshed", resource_metadata="${META}", error="invalid_token", ` +
        `error_description="token expired; obtain a new access token from https://issuer.test"`,
    );
  });

  it("carries the needed scope for insufficient_scope, over the default scope hint", () => {
    const outcome = insufficientScope(["github:write"]);
    expect(outcome).toEqual({
      ok: false,
      status: 403,
      error: "insufficient_scope",
      description: "this call needs the scope github:write; request a token or key that grants it",
      scope: "github:write",
    });
    expect(wwwAuthenticate({ outcome, resourceMetadataUrl: META, scope: "github:read" })).toBe(
      `Bearer resource_metadata="${META}", error="insufficient_scope", ` +
        `error_description="this call needs the scope github:write; request a token or key that grants it", ` +
        `scope="github:write"`,
    );
    expect(insufficientScope(["a", "b"]).description).toBe(
      "this call needs the scopes a b; request a token or key that grants them",
    );
  });

  it("escapes quoted strings and keeps error_description within RFC 6750's characters", () => {
    const outcome: AuthFailure = {
      ok: false,
      status: 401,
      error: "invalid_token",
      description: 'bad "thing" at C:\\path — ok\r\nSet-Cookie: x=1',
    };
    expect(wwwAuthenticate({ outcome, realm: 'a "quoted" \\ realm\r\nX-Evil: 1' })).toBe(
      'Bearer realm="a \\"quoted\\" \\\\ realm X-Evil: 1", error="invalid_token", ' +
        `error_description="bad 'thing' at C:/path ? ok??Set-Cookie: x=1"`,
    );
  });
});
