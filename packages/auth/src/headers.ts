import type { AuthFailure, RequestHeaders } from "./types.js";

/** The longest credential we look at; Node caps all headers at 16 KiB anyway. */
export const MAX_CREDENTIAL_LENGTH = 8192;

export type HeaderValue = { kind: "absent" } | { kind: "one"; value: string } | { kind: "many" };

/** One header by name, case-insensitively; repeated headers are reported, never joined. */
export function readHeader(headers: RequestHeaders, name: string): HeaderValue {
  const lower = name.toLowerCase();
  let found: string | string[] | undefined = headers[lower];
  if (found === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === lower) {
        found = headers[key];
        break;
      }
    }
  }
  if (found === undefined) return { kind: "absent" };
  if (Array.isArray(found)) {
    if (found.length === 0) return { kind: "absent" };
    if (found.length > 1) return { kind: "many" };
    return { kind: "one", value: found[0] ?? "" };
  }
  return { kind: "one", value: found };
}

export type BearerToken =
  { kind: "absent" } | { kind: "token"; token: string } | { kind: "invalid"; failure: AuthFailure };

/**
 * The token of `Authorization: Bearer <token>`. Absent when there is no Authorization header or it
 * uses another scheme (Basic, …): those are not ours to refuse.
 */
export function readBearer(headers: RequestHeaders): BearerToken {
  const header = readHeader(headers, "authorization");
  if (header.kind === "absent") return { kind: "absent" };
  if (header.kind === "many") {
    return invalid("invalid_request", "the request has several Authorization headers; send exactly one");
  }
  const value = header.value.trim();
  const match = /^bearer(?:\s+|$)/i.exec(value);
  if (!match) return { kind: "absent" };
  const token = value.slice(match[0].length).trim();
  if (token === "") {
    return invalid("invalid_request", "the Authorization header says Bearer but carries no token");
  }
  if (token.length > MAX_CREDENTIAL_LENGTH) {
    return invalid("invalid_token", `the bearer token is longer than ${MAX_CREDENTIAL_LENGTH} characters`);
  }
  // RFC 6750 §2.1 b64token
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    return invalid(
      "invalid_token",
      "the bearer token contains characters a bearer token cannot have; send it as is, without quotes or spaces",
    );
  }
  return { kind: "token", token };
}

function invalid(error: "invalid_request" | "invalid_token", description: string): BearerToken {
  return { kind: "invalid", failure: { ok: false, status: 401, error, description } };
}
