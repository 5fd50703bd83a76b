import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { ToolshedError } from "@toolshed/errors";
import type * as Jose from "jose";
import type {
  ExportedJWKSCache,
  JSONWebKeySet,
  JWSHeaderParameters,
  FlattenedJWSInput,
  JWTPayload,
  JWTVerifyOptions,
  JWTVerifyGetKey,
} from "jose";
import { readBearer } from "./headers.js";
import type { AuthFailure, AuthOutcome, Authenticator, RequestHeaders } from "./types.js";

export interface JwtAuthenticatorOptions {
  /** URL of the issuer's JSON Web Key Set (its `jwks_uri`). One of `jwksUrl` and `publicKey`. */
  jwksUrl?: string;
  /** A public key as PEM (SPKI), one JWK as JSON, or a JWKS as JSON. One of `jwksUrl` and `publicKey`. */
  publicKey?: string;
  /** Expected `iss`, exactly. */
  issuer: string;
  /** Accepted `aud` values: the token's `aud` must include one. */
  audience: string | string[];
  /**
   * RFC 8707 resource indicator of this server (e.g. `https://tools.example.com/mcp`): the token's
   * `aud` or its `resource` claim must include it. A trailing `/` is not significant.
   */
  resource?: string;
  /** Accepted `alg` values; default every asymmetric JWS algorithm. Symmetric ones are refused. */
  algorithms?: string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockToleranceSec?: number;
  /**
   * Claim holding the scopes, as a space-separated string or an array. Default: both `scope` and
   * `scp` are read and merged.
   */
  scopeClaim?: string;
  /** Timeout of one key-set fetch, in milliseconds. Default 5000. */
  jwksTimeoutMs?: number;
  /**
   * After a fetch, how long a token with an unknown `kid` waits before the key set is fetched
   * again (key rotation), in milliseconds. Default 30000.
   */
  jwksCooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again, in milliseconds. Default 600000. */
  jwksCacheMaxAgeMs?: number;
}

/** Every asymmetric JWS algorithm jose verifies; HS* needs a shared secret and is never accepted here. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/** A stale key set still verifies tokens for this long after its last successful fetch when the URL fails. */
export const JWKS_MAX_STALE_MS = 60 * 60 * 1000;

/** The key set could not be fetched: not the token's fault. */
class KeySetUnavailable extends Error {}

type KeyResolver = JWTVerifyGetKey | KeyObject;

/**
 * jose is loaded when the first JWT authenticator is created, not when this package is imported:
 * a server without JWT auth never loads it. The options are checked without it, so a bad
 * configuration still fails at creation.
 */
let josePromise: Promise<typeof Jose> | undefined;
function loadJose(): Promise<typeof Jose> {
  if (josePromise === undefined) {
    josePromise = import("jose");
    // Awaited on the first token; a failed load is reported there, not as an unhandled rejection.
    josePromise.catch(() => {});
  }
  return josePromise;
}

/**
 * Bearer JWTs verified with `jose` against a JWKS URL or a configured public key: signature, `iss`,
 * `aud`, `exp` (required), `nbf`, and the RFC 8707 resource. Every failure becomes an outcome whose
 * description names what was wrong, never the token.
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const { issuer, resource } = options;
  if (typeof issuer !== "string" || issuer === "") {
    throw new ToolshedError(
      "invalid_input",
      "JWT auth: issuer is required (the exact 'iss' of accepted tokens)",
    );
  }
  const audiences = typeof options.audience === "string" ? [options.audience] : [...options.audience];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== "string" || a === "")) {
    throw new ToolshedError(
      "invalid_input",
      "JWT auth: audience is required (one or more non-empty strings)",
    );
  }
  const algorithms = options.algorithms ?? [...ASYMMETRIC_ALGORITHMS];
  const unsupported = algorithms.filter((a) => !ASYMMETRIC_ALGORITHMS.includes(a));
  if (algorithms.length === 0 || unsupported.length > 0) {
    throw new ToolshedError(
      "invalid_input",
      `JWT auth: algorithms must be asymmetric JWS algorithms (${ASYMMETRIC_ALGORITHMS.join(", ")}); ` +
        `not supported: ${unsupported.join(", ") || "(empty list)"}`,
    );
  }
  const clockTolerance = options.clockToleranceSec ?? 30;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new ToolshedError("invalid_input", "JWT auth: clockToleranceSec must be a non-negative number");
  }

  const { key: keyWith, keySetLabel } = resolveKeys(options);
  const loading = loadJose();
  let key: KeyResolver | undefined;
  const verifyOptions: JWTVerifyOptions = {
    issuer,
    audience: audiences,
    algorithms,
    clockTolerance,
    requiredClaims: ["exp"],
  };

  const refuse = (description: string, extra: Partial<AuthFailure> = {}): AuthFailure => ({
    ok: false,
    status: 401,
    error: "invalid_token",
    description,
    ...extra,
  });

  const toOutcome = (payload: JWTPayload): AuthOutcome => {
    if (resource !== undefined && !namesResource(payload, resource)) {
      return refuse(
        `token is not meant for this resource: neither its 'aud' nor its 'resource' claim names '${resource}'; ` +
          `request a token with resource=${resource} (RFC 8707)`,
      );
    }
    const id = nonEmptyString(payload.sub) ?? nonEmptyString(payload.client_id);
    if (id === undefined) {
      return refuse("token has neither a 'sub' nor a 'client_id' claim, so it names no caller");
    }
    const success: AuthOutcome = {
      ok: true,
      principal: {
        id,
        scopes: readScopes(payload, options.scopeClaim),
        claims: Object.freeze({ ...payload }),
      },
    };
    if (typeof payload.exp === "number") success.expiresAt = payload.exp;
    return success;
  };

  const describe = ({ errors }: typeof Jose, error: unknown): AuthFailure => {
    if (error instanceof KeySetUnavailable) {
      return refuse(
        `cannot verify the token now: the key set at ${keySetLabel} is unreachable; retry later`,
        {
          retryable: true,
        },
      );
    }
    if (error instanceof errors.JWTExpired) {
      return refuse(`token expired; obtain a new access token from ${issuer}`);
    }
    if (error instanceof errors.JWTClaimValidationFailed) return describeClaim(error);
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return refuse(`token signature is invalid: it was not signed by a key of ${issuer}, or it was altered`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      return refuse(`token signing algorithm is not accepted; this server accepts ${algorithms.join(", ")}`);
    }
    if (error instanceof errors.JWKSNoMatchingKey) {
      return refuse(
        `no key of ${keySetLabel} matches the token's key id; it was not issued by ${issuer}, or its key was retired`,
      );
    }
    if (error instanceof errors.JOSENotSupported) {
      return refuse("token uses an algorithm or key type this server does not support");
    }
    return refuse("the bearer token is not a valid JWT (bad header, payload or signature encoding)");
  };

  const describeClaim = (error: InstanceType<typeof Jose.errors.JWTClaimValidationFailed>): AuthFailure => {
    const missing = error.reason === "missing";
    switch (error.claim) {
      case "iss":
        return refuse(
          missing
            ? `token has no 'iss' claim; expected issuer '${issuer}'`
            : `token issuer is not the expected '${issuer}'; request a token from that issuer`,
        );
      case "aud":
        return refuse(
          missing
            ? `token has no 'aud' claim; expected audience ${audiences.map((a) => `'${a}'`).join(" or ")}`
            : `token audience does not include ${audiences.map((a) => `'${a}'`).join(" or ")}; ` +
                "request a token for this server",
        );
      case "nbf":
        return refuse(
          "token not valid yet: its 'nbf' is in the future; retry later or check the issuer's clock",
        );
      case "iat":
        return refuse("token 'iat' is in the future; check the issuer's clock");
      case "exp":
        return refuse(
          missing
            ? "token has no 'exp' claim; this server only accepts tokens that expire"
            : "token 'exp' claim is invalid",
        );
      default:
        return refuse(
          missing ? `token lacks the '${error.claim}' claim` : `token claim '${error.claim}' is invalid`,
        );
    }
  };

  const verify = async (jose: typeof Jose, token: string): Promise<JWTPayload> => {
    const { errors, jwtVerify } = jose;
    key ??= keyWith(jose);
    try {
      return (await jwtVerify(token, key, verifyOptions)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      // Several keys fit the header (no kid): the one that verifies wins.
      for await (const candidate of error) {
        try {
          return (await jwtVerify(token, candidate, verifyOptions)).payload;
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  };

  return {
    async authenticate(headers: RequestHeaders): Promise<AuthOutcome | undefined> {
      const bearer = readBearer(headers);
      if (bearer.kind === "absent") return undefined;
      if (bearer.kind === "invalid") return bearer.failure;
      if (bearer.token.split(".").length !== 3) {
        return refuse(
          "the bearer token is not a JWT (expected three base64url parts separated by '.'); " +
            `send an access token issued by ${issuer}`,
        );
      }
      const jose = await loading;
      try {
        return toOutcome(await verify(jose, bearer.token));
      } catch (error) {
        return describe(jose, error);
      }
    },
  };
}

/** The keys, checked now; `key` makes the resolver once jose is loaded. */
interface Keys {
  key: (jose: typeof Jose) => KeyResolver;
  keySetLabel: string;
}

function resolveKeys(options: JwtAuthenticatorOptions): Keys {
  const { jwksUrl, publicKey } = options;
  if ((jwksUrl === undefined) === (publicKey === undefined)) {
    throw new ToolshedError("invalid_input", "JWT auth: configure exactly one of jwksUrl and publicKey");
  }
  if (jwksUrl !== undefined) return remoteKeys(jwksUrl, options);
  return { key: staticKey(publicKey ?? ""), keySetLabel: "the configured keys" };
}

function remoteKeys(jwksUrl: string, options: JwtAuthenticatorOptions): Keys {
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw new ToolshedError("invalid_input", "JWT auth: jwksUrl is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ToolshedError("invalid_input", "JWT auth: jwksUrl must be an http(s) URL");
  }
  // Credentials and query strings stay out of descriptions.
  const keySetLabel = url.origin + url.pathname;
  const key = ({ createLocalJWKSet, createRemoteJWKSet, errors, jwksCache }: typeof Jose): KeyResolver => {
    const cache: Partial<ExportedJWKSCache> = {};
    const remote = createRemoteJWKSet(url, {
      timeoutDuration: Math.round(options.jwksTimeoutMs ?? 5000),
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
      [jwksCache]: cache as ExportedJWKSCache,
    });
    let stale: { uat: number; resolve: ReturnType<typeof createLocalJWKSet> } | undefined;
    return async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (
          error instanceof errors.JWKSNoMatchingKey ||
          error instanceof errors.JWKSMultipleMatchingKeys ||
          error instanceof errors.JOSENotSupported
        ) {
          throw error;
        }
        // The fetch failed (refused, timed out, not 200, not a JWKS): keep using the last good set
        // for a while so a blip at the issuer does not lock every caller out.
        const { uat, jwks } = cache;
        if (uat !== undefined && jwks !== undefined && Date.now() - uat < JWKS_MAX_STALE_MS) {
          if (stale?.uat !== uat) stale = { uat, resolve: createLocalJWKSet(jwks) };
          try {
            return await stale.resolve(header, token);
          } catch (staleError) {
            if (!(staleError instanceof errors.JWKSNoMatchingKey)) throw staleError;
          }
        }
        throw new KeySetUnavailable("key set unavailable", { cause: error });
      }
    };
  };
  return { key, keySetLabel };
}

function staticKey(text: string): Keys["key"] {
  const trimmed = text.trim();
  const bad = (why: string): never => {
    throw new ToolshedError("invalid_input", `JWT auth: publicKey ${why}`);
  };
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return bad("looks like JSON but does not parse");
    }
    if (typeof parsed !== "object" || parsed === null) return bad("is not a JWK or a JWKS");
    if (Array.isArray((parsed as { keys?: unknown }).keys)) {
      const set = parsed as JSONWebKeySet;
      if (set.keys.some((k: unknown) => typeof k !== "object" || k === null || Array.isArray(k))) {
        return bad("is a JWKS whose keys are not all JWK objects");
      }
      if (set.keys.some((k) => "d" in k || k.kty === "oct")) {
        return bad("holds private or symmetric keys; configure only public keys");
      }
      return ({ createLocalJWKSet }) => createLocalJWKSet(set);
    }
    const jwk = parsed as Record<string, unknown>;
    if ("d" in jwk || jwk.kty === "oct")
      return bad("holds a private or symmetric key; configure only the public half");
    let keyObject: KeyObject;
    try {
      keyObject = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
    } catch {
      return bad("is not a usable public JWK");
    }
    return () => keyObject;
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)) {
    return bad("holds a private key; configure only the public half (BEGIN PUBLIC KEY)");
  }
  if (!trimmed.startsWith("-----BEGIN ")) return bad("is neither a PEM public key nor JWK/JWKS JSON");
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey(trimmed);
  } catch {
    return bad("is not a readable PEM public key");
  }
  return () => keyObject;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function stringList(value: unknown): string[] {
  if (typeof value === "string") return value.split(/\s+/).filter((s) => s !== "");
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === "string" && s !== "");
  return [];
}

/** Scopes from `scope` (space-separated, RFC 8693/9068) and `scp` (array), or from one named claim. */
export function readScopes(payload: Readonly<Record<string, unknown>>, claim?: string): string[] {
  const values =
    claim === undefined
      ? [...stringList(payload.scope), ...stringList(payload.scp)]
      : stringList(payload[claim]);
  return [...new Set(values)];
}

function sameResource(a: string, b: string): boolean {
  return a === b || a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}

function namesResource(payload: JWTPayload, resource: string): boolean {
  return [...stringList(payload.aud), ...stringList(payload.resource)].some((r) => sameResource(r, resource));
}
