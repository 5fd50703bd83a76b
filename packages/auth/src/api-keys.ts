import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ToolshedError } from "@toolshed/errors";
import { MAX_CREDENTIAL_LENGTH, readBearer, readHeader } from "./headers.js";
import type { AuthFailure, AuthOutcome, Authenticator, RequestHeaders } from "./types.js";

export interface ApiKeyEntry {
  /** Stable, non-secret id of the key; becomes `principal.id`. */
  id: string;
  /** SHA-256 of the key, hex (see `hashApiKey`); the key itself is never stored. */
  hash: string;
  scopes: string[];
  /** A revoked key is refused with "API key revoked" rather than "unknown API key". */
  revoked?: boolean;
}

export interface ApiKeyAuthenticatorOptions {
  keys: readonly ApiKeyEntry[];
  /** Header carrying the key. Default `x-api-key`. */
  header?: string;
  /**
   * Prefix of the keys this server issues. `Authorization: Bearer <key>` is taken as an API key
   * when the token starts with it (other bearer tokens are left to the JWT authenticator).
   * Default `tsk_`; `""` turns the Bearer route off.
   */
  prefix?: string;
}

export const DEFAULT_API_KEY_PREFIX = "tsk_";

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/i;
// RFC 6749 §3.3 scope-token
const SCOPE_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const KEY_PATTERN = /^[\x21-\x7e]+$/;

/** SHA-256 of an API key as lower-case hex: the form keys are stored and configured in. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** A new random API key: the prefix and 32 random bytes in base64url (256 bits). */
export function generateApiKey(prefix: string = DEFAULT_API_KEY_PREFIX): string {
  if (!/^[A-Za-z0-9_-]*$/.test(prefix)) {
    throw new ToolshedError(
      "invalid_input",
      "an API key prefix may only contain letters, digits, '_' and '-'",
    );
  }
  return prefix + randomBytes(32).toString("base64url");
}

interface StoredKey {
  id: string;
  hash: Buffer;
  scopes: readonly string[];
  revoked: boolean;
}

/**
 * Static API keys, stored hashed. The presented key is hashed and compared in constant time against
 * every stored hash, with no early exit, so timing does not tell which key (if any) matched.
 */
export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): Authenticator {
  const header = (options.header ?? "x-api-key").toLowerCase();
  const prefix = options.prefix ?? DEFAULT_API_KEY_PREFIX;
  const label = displayHeader(header);
  const stored = validateEntries(options.keys, "the API key list");

  const refuse = (error: AuthFailure["error"], description: string): AuthFailure => ({
    ok: false,
    status: 401,
    error,
    description,
  });

  const check = (key: string): AuthOutcome => {
    if (key.length > MAX_CREDENTIAL_LENGTH) {
      return refuse("invalid_token", `the API key is longer than ${MAX_CREDENTIAL_LENGTH} characters`);
    }
    if (!KEY_PATTERN.test(key)) {
      return refuse(
        "invalid_token",
        "the API key contains characters an API key cannot have (spaces, quotes or non-ASCII); send it as issued",
      );
    }
    const presented = createHash("sha256").update(key, "utf8").digest();
    let match: StoredKey | undefined;
    for (const entry of stored) {
      // Every stored hash is compared; the result is only picked, never branched on early.
      const equal = timingSafeEqual(presented, entry.hash);
      match = equal ? entry : match;
    }
    if (match === undefined) {
      return refuse("invalid_token", "unknown API key; check the key, or ask the server's operator for one");
    }
    if (match.revoked) {
      return refuse("invalid_token", "API key revoked; ask the server's operator for a new key");
    }
    return { ok: true, principal: { id: match.id, scopes: match.scopes } };
  };

  return {
    authenticate(headers: RequestHeaders): Promise<AuthOutcome | undefined> {
      const direct = readHeader(headers, header);
      if (direct.kind === "many") {
        return Promise.resolve(
          refuse("invalid_request", `the request has several ${label} headers; send exactly one`),
        );
      }
      if (direct.kind === "one") {
        const key = direct.value.trim();
        if (key === "") return Promise.resolve(refuse("invalid_request", `the ${label} header is empty`));
        return Promise.resolve(check(key));
      }
      if (prefix === "") return Promise.resolve(undefined);
      const bearer = readBearer(headers);
      if (bearer.kind !== "token" || !bearer.token.startsWith(prefix)) return Promise.resolve(undefined);
      return Promise.resolve(check(bearer.token));
    },
  };
}

export interface ParseApiKeysOptions {
  /** Names the source in error messages, e.g. the env var: `TOOLSHED_API_KEYS`. */
  source?: string;
}

/**
 * Parses the API key list format (for an env var such as `TOOLSHED_API_KEYS`):
 *
 *     id:sha256hex:scope1 scope2;id2:sha256hex:scope3
 *
 * Entries are separated by `;` or newlines; a field's surrounding spaces are ignored; scopes are
 * separated by spaces or commas and may contain `:`; an id starting with `!` marks a revoked key.
 * Errors name the entry by position, never by its text (it might be a key pasted by mistake).
 */
export function parseApiKeys(text: string, options: ParseApiKeysOptions = {}): ApiKeyEntry[] {
  const source = options.source ?? "the API key list";
  const entries: ApiKeyEntry[] = [];
  const parts = text.split(/[;\n]/);
  let position = 0;
  for (const raw of parts) {
    const part = raw.trim();
    if (part === "") continue;
    position += 1;
    const fail = (why: string): never => {
      throw new ToolshedError(
        "invalid_input",
        `${source}: entry ${position} ${why}; expected id:sha256hex:scopes, entries separated by ';'`,
        { details: { entry: position } },
      );
    };
    const first = part.indexOf(":");
    if (first < 0)
      fail("has no ':' (is it a bare key? configure the SHA-256 hex of the key, see hashApiKey)");
    const second = part.indexOf(":", first + 1);
    let id = part.slice(0, first).trim();
    const hash = (second < 0 ? part.slice(first + 1) : part.slice(first + 1, second)).trim();
    const scopeText = second < 0 ? "" : part.slice(second + 1);
    const revoked = id.startsWith("!");
    if (revoked) id = id.slice(1).trim();
    if (!ID_PATTERN.test(id)) fail("has an invalid id (letters, digits, '.', '_', '@', '-'; at most 128)");
    if (!HASH_PATTERN.test(hash)) {
      fail(
        "has no valid hash (64 hex characters: the SHA-256 of the key from hashApiKey, not the key itself)",
      );
    }
    const scopes = scopeText.split(/[\s,]+/).filter((s) => s !== "");
    if (!scopes.every((s) => SCOPE_PATTERN.test(s))) fail("has a scope with characters a scope cannot have");
    const entry: ApiKeyEntry = { id, hash: hash.toLowerCase(), scopes };
    if (revoked) entry.revoked = true;
    entries.push(entry);
  }
  validateEntries(entries, source);
  return entries;
}

function validateEntries(keys: readonly ApiKeyEntry[], source: string): StoredKey[] {
  const seen = new Map<string, number>();
  return keys.map((key, index) => {
    const where = `${source}: key ${index + 1}`;
    if (typeof key.id !== "string" || !ID_PATTERN.test(key.id)) {
      throw new ToolshedError(
        "invalid_input",
        `${where} has an invalid id (letters, digits, '.', '_', '@', '-')`,
      );
    }
    const earlier = seen.get(key.id);
    if (earlier !== undefined) {
      throw new ToolshedError(
        "invalid_input",
        `${where}: id '${key.id}' repeats key ${earlier}; ids must be unique`,
      );
    }
    seen.set(key.id, index + 1);
    if (typeof key.hash !== "string" || !HASH_PATTERN.test(key.hash)) {
      throw new ToolshedError(
        "invalid_input",
        `${where} (id '${key.id}') has no valid hash: give the SHA-256 hex of the key (hashApiKey), not the key`,
      );
    }
    if (
      !Array.isArray(key.scopes) ||
      !key.scopes.every((s) => typeof s === "string" && SCOPE_PATTERN.test(s))
    ) {
      throw new ToolshedError("invalid_input", `${where} (id '${key.id}') has an invalid scope list`);
    }
    return {
      id: key.id,
      hash: Buffer.from(key.hash, "hex"),
      scopes: Object.freeze([...new Set(key.scopes)]),
      revoked: key.revoked === true,
    };
  });
}

function displayHeader(header: string): string {
  return header === "x-api-key"
    ? "X-API-Key"
    : header.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}
