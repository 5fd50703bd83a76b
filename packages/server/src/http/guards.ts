import type { IncomingMessage } from "node:http";

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The hostname of a Host header value or URL authority, without port and brackets kept for IPv6. */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith("[")) {
    const end = hostHeader.indexOf("]");
    return end > 0 ? hostHeader.slice(0, end + 1) : hostHeader;
  }
  const colon = hostHeader.indexOf(":");
  return (colon === -1 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

export interface OriginPolicy {
  /** Host names (or host:port) accepted in the Host header; undefined accepts any. */
  allowedHosts: ReadonlySet<string> | undefined;
  /** Exact origins accepted; undefined accepts origins whose host passes the Host rule. */
  allowedOrigins: ReadonlySet<string> | undefined;
}

/**
 * DNS-rebinding protection: a server bound to loopback answers only to loopback host names, unless
 * told otherwise; a browser Origin must be allowed too.
 */
export function originPolicy(
  bindHost: string,
  allowedHosts?: string[],
  allowedOrigins?: string[],
): OriginPolicy {
  const hosts = allowedHosts?.length
    ? new Set(allowedHosts.map((h) => h.toLowerCase()))
    : isLoopback(bindHost)
      ? LOOPBACK_NAMES
      : undefined;
  return {
    allowedHosts: hosts,
    allowedOrigins: allowedOrigins?.length ? new Set(allowedOrigins) : undefined,
  };
}

/** Why a request is refused by the origin policy, or undefined when it passes. */
export function refusal(req: IncomingMessage, policy: OriginPolicy): string | undefined {
  const host = req.headers.host;
  if (policy.allowedHosts) {
    if (!host) return "missing Host header";
    if (!hostAllowed(host, policy.allowedHosts)) return `host '${host}' is not allowed`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (policy.allowedOrigins) {
    return policy.allowedOrigins.has(origin) ? undefined : `origin '${origin}' is not allowed`;
  }
  if (origin === "null") return "origin 'null' is not allowed";
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return `origin '${origin}' is not a valid origin`;
  }
  if (policy.allowedHosts) {
    return hostAllowed(originHost, policy.allowedHosts) ? undefined : `origin '${origin}' is not allowed`;
  }
  return host && hostnameOf(originHost) === hostnameOf(host)
    ? undefined
    : `origin '${origin}' is not allowed`;
}

function hostAllowed(host: string, allowed: ReadonlySet<string>): boolean {
  return allowed.has(host.toLowerCase()) || allowed.has(hostnameOf(host));
}
