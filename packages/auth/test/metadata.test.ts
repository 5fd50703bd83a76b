import { describe, expect, it } from "vitest";
import { protectedResourceMetadata, protectedResourceMetadataUrl } from "../src/index.js";

describe("protectedResourceMetadata", () => {
  it("builds the RFC 9728 document", () => {
    expect(
      protectedResourceMetadata({
        resource: "https://tools.test/mcp",
        authorizationServers: ["https://issuer.test"],
        scopesSupported: ["analytics:read", "analytics:write", "analytics:read"],
        resourceName: "Toolshed analytics",
        resourceDocumentation: "https://docs.tools.test/analytics",
      }),
    ).toEqual({
      resource: "https://tools.test/mcp",
      authorization_servers: ["https://issuer.test"],
      bearer_methods_supported: ["header"],
      scopes_supported: ["analytics:read", "analytics:write"],
      resource_name: "Toolshed analytics",
      resource_documentation: "https://docs.tools.test/analytics",
    });
  });

  it("leaves optional members out, and is JSON as is", () => {
    const doc = protectedResourceMetadata({
      resource: "http://127.0.0.1:3000/mcp",
      authorizationServers: ["https://a.test", "https://b.test/tenant"],
      bearerMethodsSupported: ["header", "body"],
    });
    expect(JSON.parse(JSON.stringify(doc))).toEqual({
      resource: "http://127.0.0.1:3000/mcp",
      authorization_servers: ["https://a.test", "https://b.test/tenant"],
      bearer_methods_supported: ["header", "body"],
    });
  });

  it("refuses what RFC 9728 and MCP clients cannot use", () => {
    const base = { resource: "https://tools.test/mcp", authorizationServers: ["https://issuer.test"] };
    expect(() => protectedResourceMetadata({ ...base, resource: "/mcp" })).toThrow(
      /resource is not an absolute URL/,
    );
    expect(() => protectedResourceMetadata({ ...base, resource: "https://tools.test/mcp#x" })).toThrow(
      /fragment/,
    );
    expect(() => protectedResourceMetadata({ ...base, authorizationServers: [] })).toThrow(/at least one/);
    expect(() => protectedResourceMetadata({ ...base, authorizationServers: ["issuer"] })).toThrow(
      /authorization server is not an absolute URL/,
    );
    expect(() => protectedResourceMetadata({ ...base, bearerMethodsSupported: ["cookie"] })).toThrow(
      /unknown bearer method cookie/,
    );
  });
});

describe("protectedResourceMetadataUrl", () => {
  it("inserts the well-known path between host and path (RFC 9728 §3.1)", () => {
    expect(protectedResourceMetadataUrl("https://tools.test/mcp")).toBe(
      "https://tools.test/.well-known/oauth-protected-resource/mcp",
    );
    expect(protectedResourceMetadataUrl("https://tools.test")).toBe(
      "https://tools.test/.well-known/oauth-protected-resource",
    );
    expect(protectedResourceMetadataUrl("http://127.0.0.1:3000/a/b/")).toBe(
      "http://127.0.0.1:3000/.well-known/oauth-protected-resource/a/b",
    );
  });
});
