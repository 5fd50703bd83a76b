import { ToolshedError } from "@toolshed/errors";

export interface ProtectedResourceMetadataOptions {
  /** This server's resource identifier (RFC 8707), e.g. `https://tools.example.com/mcp`. */
  resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for it; at least one. */
  authorizationServers: string[];
  scopesSupported?: string[];
  /** Human-readable name. */
  resourceName?: string;
  /** How tokens may be sent; default `["header"]`. */
  bearerMethodsSupported?: string[];
  /** URL of human-readable documentation. */
  resourceDocumentation?: string;
}

/** The RFC 9728 document served at `/.well-known/oauth-protected-resource`. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
}

const BEARER_METHODS = new Set(["header", "body", "query"]);

/** The RFC 9728 protected-resource metadata document for this server. */
export function protectedResourceMetadata(
  options: ProtectedResourceMetadataOptions,
): ProtectedResourceMetadata {
  const resource = httpUrl(options.resource, "resource");
  if (resource.hash !== "") {
    throw new ToolshedError(
      "invalid_input",
      "protected-resource metadata: resource must not have a fragment",
    );
  }
  if (options.authorizationServers.length === 0) {
    throw new ToolshedError(
      "invalid_input",
      "protected-resource metadata: name at least one authorization server (its issuer URL)",
    );
  }
  for (const server of options.authorizationServers) httpUrl(server, "authorization server");
  const methods = options.bearerMethodsSupported ?? ["header"];
  const unknown = methods.filter((m) => !BEARER_METHODS.has(m));
  if (unknown.length > 0) {
    throw new ToolshedError(
      "invalid_input",
      `protected-resource metadata: unknown bearer method ${unknown.join(", ")}; use header, body or query`,
    );
  }
  const doc: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    bearer_methods_supported: [...methods],
  };
  if (options.scopesSupported !== undefined) doc.scopes_supported = [...new Set(options.scopesSupported)];
  if (options.resourceName !== undefined) doc.resource_name = options.resourceName;
  if (options.resourceDocumentation !== undefined) {
    doc.resource_documentation = httpUrl(options.resourceDocumentation, "resourceDocumentation").href;
  }
  return doc;
}

/**
 * Where RFC 9728 §3.1 puts the metadata of `resource`: the well-known path goes between the host
 * and the resource's path (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = httpUrl(resource, "resource");
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/+$/, "");
  return `${url.origin}/.well-known/oauth-protected-resource${path}${url.search}`;
}

function httpUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ToolshedError("invalid_input", `protected-resource metadata: ${what} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ToolshedError("invalid_input", `protected-resource metadata: ${what} must be an http(s) URL`);
  }
  return url;
}
