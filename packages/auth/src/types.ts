/** Who is calling; the same shape as the kit's `Principal` in `@toolshed/server`. */
export interface Principal {
  /** Stable id of the caller (API key id, JWT `sub`, OAuth client id). */
  id: string;
  scopes: readonly string[];
  /** Extra facts from the credential (e.g. verified JWT claims); never the credential itself. */
  claims?: Readonly<Record<string, unknown>>;
}

/** An accepted credential. */
export interface AuthSuccess {
  ok: true;
  principal: Principal;
  /** When the credential stops being valid, in epoch seconds (JWT `exp`); absent for API keys. */
  expiresAt?: number;
}

/** A refused credential, ready to become an HTTP answer with a `WWW-Authenticate` challenge. */
export interface AuthFailure {
  ok: false;
  status: 401 | 403;
  /** RFC 6750 §3.1 error code. */
  error: "invalid_request" | "invalid_token" | "insufficient_scope";
  /** What is wrong and what to do; never contains the presented credential. */
  description: string;
  /** Space-separated scopes the request needs (for `insufficient_scope`). */
  scope?: string;
  /**
   * No credential was presented at all. The challenge then carries no error (RFC 6750 §3.1).
   * Set only by `combineAuthenticators`.
   */
  missing?: true;
  /**
   * The credential could not be checked now (the key set is unreachable), not found bad: a retry
   * may succeed. The kit may answer 503 with `Retry-After` instead of 401.
   */
  retryable?: true;
}

export type AuthOutcome = AuthSuccess | AuthFailure;

/** Request headers as `node:http` gives them (lower-case names); other casings are found too. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

export interface Authenticator {
  /** The outcome for the request's credential, or undefined when it carries none this authenticator understands. */
  authenticate(headers: RequestHeaders): Promise<AuthOutcome | undefined>;
}
