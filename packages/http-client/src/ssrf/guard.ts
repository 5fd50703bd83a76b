import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { nonPublicReason } from "./ip-ranges.js";

/** Thrown (through the socket) when a host resolves to an address the client may not reach. */
export class PrivateAddressError extends Error {
  override readonly name = "PrivateAddressError";
  readonly code = "ERR_TOOLSHED_PRIVATE_ADDRESS";
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${hostname} resolves to ${address}, ${reason}`);
  }
}

/**
 * A `lookup` for `net.connect` (undici's `connect` option) that refuses non-public addresses. It
 * runs for every new connection on the resolved addresses, so a public name that resolves (or is
 * rebound) to 127.0.0.1 or 169.254.169.254 is refused before a socket is opened.
 */
export function guardedLookup(resolve: LookupFunction = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options, (err, address, family) => {
      if (err) {
        callback(err, address, family);
        return;
      }
      const addresses: readonly (string | LookupAddress)[] = Array.isArray(address) ? address : [address];
      for (const entry of addresses) {
        const ip = typeof entry === "string" ? entry : entry.address;
        const reason = nonPublicReason(ip);
        if (reason !== undefined) {
          callback(new PrivateAddressError(hostname, ip, reason), "", 0);
          return;
        }
      }
      callback(null, address, family);
    });
  };
}

/** Why an IP-literal host may not be reached (no lookup runs for those), or undefined. */
export function literalAddressReason(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : nonPublicReason(bare);
}

/** A host allow-list: exact names, `*.example.com` for subdomains, or `*` for any host. */
export class HostAllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private anyHost = false;

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = normalizeHost(raw);
      if (entry === "*") this.anyHost = true;
      else if (entry.startsWith("*.")) this.suffixes.push(entry.slice(1));
      else this.exact.add(entry);
    }
  }

  allows(hostname: string): boolean {
    if (this.anyHost) return true;
    const host = hostname.toLowerCase();
    if (this.exact.has(host)) return true;
    for (const suffix of this.suffixes) if (host.endsWith(suffix)) return true;
    return false;
  }

  describe(): string {
    if (this.anyHost) return "*";
    return [...this.exact, ...this.suffixes.map((s) => `*${s}`)].join(", ");
  }
}

/** `api.github.com`, `https://api.github.com/` and `API.GITHUB.COM:443` all mean the host api.github.com. */
function normalizeHost(entry: string): string {
  const trimmed = entry.trim().toLowerCase();
  if (trimmed.includes("://")) return new URL(trimmed).hostname;
  if (isIP(trimmed) === 6) return `[${trimmed}]`;
  if (trimmed.startsWith("[")) return trimmed.slice(0, trimmed.indexOf("]") + 1);
  const colon = trimmed.indexOf(":");
  return colon !== -1 && trimmed.indexOf(":", colon + 1) === -1 ? trimmed.slice(0, colon) : trimmed;
}

export { nonPublicReason };
