import type { IncomingMessage, ServerResponse } from "node:http";
import {
  combineAuthenticators,
  createApiKeyAuthenticator,
  createJwtAuthenticator,
  createRateLimiter,
  insufficientScope,
  missingScopes,
  parseApiKeys,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  wwwAuthenticate,
  type AuthFailure,
  type Authenticator,
  type CombinedAuthenticator,
  type Principal,
  type ProtectedResourceMetadata,
  type RateLimiter,
} from "@toolshed/auth";
import type { Logger } from "@toolshed/logging";
import { AuthFailureLimiter } from "./auth-failures.js";

/** Inbound auth for the HTTP transport: who may call, how often, and what clients are told. */
export interface HttpAuth {
  authenticator: CombinedAuthenticator;
  /** The public URL of the MCP endpoint: the RFC 8707 resource and the RFC 9728 metadata subject. */
  resource: string;
  /** RFC 9728 metadata; present when there is an authorization server to point clients at (OAuth/JWT). */
  metadata?: ProtectedResourceMetadata;
  /** Requests per principal, across tools. */
  principalLimiter?: RateLimiter;
  /** Calls per principal and tool. */
  toolLimiter?: RateLimiter;
  /** Failed authentications per client address. */
  failureLimiter?: AuthFailureLimiter;
}

/** Failed authentications per client address: a burst of 30, then one every 2 seconds. */
export const DEFAULT_AUTH_FAILURE_LIMIT = "30,0.5";

export interface AuthSettings {
  apiKeys?: string;
  apiKeyPrefix?: string;
  jwtIssuer?: string;
  jwtAudience?: string[];
  jwksUrl?: string;
  jwtPublicKey?: string;
  /** Public URL of /mcp; defaults to the bind address. */
  publicUrl?: string;
  authServers?: string[];
  /** "capacity,refillPerSecond", e.g. "120,2". */
  rateLimit?: string;
  toolRateLimit?: string;
  /** Same format; "off" turns it off. Default DEFAULT_AUTH_FAILURE_LIMIT. */
  authFailureLimit?: string;
  redisUrl?: string;
  serverName: string;
}

/** Builds auth from settings, or returns undefined when none is configured. Throws on bad settings. */
export function authFromSettings(
  settings: AuthSettings,
  defaultUrl: string,
  log: Logger,
): HttpAuth | undefined {
  const authenticators: Authenticator[] = [];
  if (settings.apiKeys) {
    authenticators.push(
      createApiKeyAuthenticator({
        keys: parseApiKeys(settings.apiKeys, { source: "TOOLSHED_API_KEYS" }),
        ...(settings.apiKeyPrefix === undefined ? {} : { prefix: settings.apiKeyPrefix }),
      }),
    );
  }
  const resource = settings.publicUrl ?? defaultUrl;
  if (settings.jwtIssuer) {
    if (!settings.jwtAudience?.length)
      throw new Error("--jwt-issuer needs --jwt-audience (TOOLSHED_JWT_AUDIENCE)");
    if (!settings.jwksUrl && !settings.jwtPublicKey) {
      throw new Error("--jwt-issuer needs --jwks-url (TOOLSHED_JWKS_URL) or --jwt-public-key");
    }
    authenticators.push(
      createJwtAuthenticator({
        issuer: settings.jwtIssuer,
        audience: settings.jwtAudience,
        // RFC 8707: with a public URL configured, a token must be issued for this resource.
        ...(settings.publicUrl ? { resource: settings.publicUrl } : {}),
        ...(settings.jwksUrl ? { jwksUrl: settings.jwksUrl } : {}),
        ...(settings.jwtPublicKey ? { publicKey: settings.jwtPublicKey } : {}),
      }),
    );
  } else if (settings.jwksUrl || settings.jwtAudience?.length) {
    throw new Error("--jwks-url and --jwt-audience need --jwt-issuer (TOOLSHED_JWT_ISSUER)");
  }
  if (!authenticators.length) return undefined;
  const limiter = (spec: string | undefined, what: string): RateLimiter | undefined => {
    if (!spec) return undefined;
    const [capacity, refill] = spec.split(",").map(Number);
    if (
      !Number.isFinite(capacity) ||
      !Number.isFinite(refill) ||
      !capacity ||
      !refill ||
      capacity < 1 ||
      refill <= 0
    ) {
      throw new Error(`invalid ${what} '${spec}': expected "capacity,refillPerSecond", e.g. "120,2"`);
    }
    return createRateLimiter({
      capacity,
      refillPerSecond: refill,
      keyPrefix: `toolshed:${settings.serverName}:${LIMIT_KEYS[what] ?? "tool"}:`,
      ...(settings.redisUrl ? { redisUrl: settings.redisUrl } : {}),
      onError: (err) => log.warn({ err }, "rate-limit store unavailable; allowing requests"),
    });
  };
  const principalLimiter = limiter(settings.rateLimit, "--rate-limit");
  const toolLimiter = limiter(settings.toolRateLimit, "--tool-rate-limit");
  const failureSpec = settings.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT;
  const failures = failureSpec === "off" ? undefined : limiter(failureSpec, "--auth-failure-limit");
  const authorizationServers = settings.authServers?.length
    ? settings.authServers
    : settings.jwtIssuer
      ? [settings.jwtIssuer]
      : [];
  return {
    authenticator: combineAuthenticators(authenticators),
    resource,
    ...(authorizationServers.length
      ? {
          metadata: protectedResourceMetadata({
            resource,
            authorizationServers,
            resourceName: `toolshed-${settings.serverName}`,
          }),
        }
      : {}),
    ...(principalLimiter ? { principalLimiter } : {}),
    ...(toolLimiter ? { toolLimiter } : {}),
    ...(failures ? { failureLimiter: new AuthFailureLimiter(failures) } : {}),
  };
}

const LIMIT_KEYS: Record<string, string> = {
  "--rate-limit": "principal",
  "--auth-failure-limit": "auth-failure",
};

/** A stable rate-limit and session-owner key that API keys and tokens from two issuers cannot share. */
export function principalKey(principal: Principal): string {
  const issuer = principal.claims?.iss;
  return `${typeof issuer === "string" ? issuer : "key"}|${principal.id}`;
}

/** The paths the RFC 9728 metadata is served at. */
export function metadataPaths(auth: HttpAuth): string[] {
  if (!auth.metadata) return [];
  return [
    "/.well-known/oauth-protected-resource",
    new URL(protectedResourceMetadataUrl(auth.resource)).pathname,
  ];
}

/** Answers a refused request: 401/403 with the RFC 6750 challenge, or 503 when the key set is unreachable. */
export function refuse(res: ServerResponse, auth: HttpAuth, failure: AuthFailure): void {
  const status = failure.retryable ? 503 : failure.status;
  res.setHeader(
    "www-authenticate",
    wwwAuthenticate({
      outcome: failure,
      ...(auth.metadata ? { resourceMetadataUrl: protectedResourceMetadataUrl(auth.resource) } : {}),
    }),
  );
  if (failure.retryable) res.setHeader("retry-after", "5");
  res
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: failure.description }, id: null }));
}

/**
 * The 403 step-up challenge for a tools/call whose tool needs scopes the principal lacks, if any;
 * `scopesOf` gives a tool's scopes (own or forwarded), undefined for a tool it does not know.
 */
export async function scopeRefusal(
  body: unknown,
  principal: Principal,
  scopesOf: (name: string) => Promise<readonly string[] | undefined>,
): Promise<AuthFailure | undefined> {
  const message = body as { method?: unknown; params?: { name?: unknown } } | null;
  if (message?.method !== "tools/call" || typeof message.params?.name !== "string") return undefined;
  const required = await scopesOf(message.params.name);
  if (!required?.length) return undefined;
  const missing = missingScopes(principal, required);
  return missing.length ? insufficientScope(missing) : undefined;
}

/** What the SDK passes to handlers as `extra.authInfo`; the kit reads the principal back from it. */
export function authInfoFor(principal: Principal, expiresAt: number | undefined): IncomingMessage["auth"] {
  return {
    token: "", // never kept: handlers get the principal, not the credential
    clientId: principal.id,
    scopes: [...principal.scopes],
    ...(expiresAt === undefined ? {} : { expiresAt }),
    extra: { ...principal.claims, principalKey: principalKey(principal), principalId: principal.id },
  };
}

declare module "node:http" {
  interface IncomingMessage {
    auth?: {
      token: string;
      clientId: string;
      scopes: string[];
      expiresAt?: number;
      extra?: Record<string, unknown>;
    };
  }
}
