import type { AuthFailure, AuthOutcome, Authenticator, RequestHeaders } from "./types.js";

/** The outcome when no authenticator found a credential it understands. */
export const AUTHENTICATION_REQUIRED: Readonly<AuthFailure> = Object.freeze({
  ok: false,
  status: 401,
  error: "invalid_request",
  description: "authentication required: send Authorization: Bearer <token> or X-API-Key",
  missing: true,
});

export interface CombinedAuthenticator extends Authenticator {
  /** Always an outcome: the first authenticator's that understood the credential, else "authentication required". */
  authenticate(headers: RequestHeaders): Promise<AuthOutcome>;
}

/**
 * Tries each authenticator in order; the first that returns an outcome wins. Put the API key
 * authenticator before the JWT one: it claims `Bearer tsk_…` tokens that the JWT authenticator
 * would otherwise refuse as malformed.
 */
export function combineAuthenticators(list: readonly Authenticator[]): CombinedAuthenticator {
  const authenticators = [...list];
  return {
    async authenticate(headers: RequestHeaders): Promise<AuthOutcome> {
      for (const authenticator of authenticators) {
        const outcome = await authenticator.authenticate(headers);
        if (outcome !== undefined) return outcome;
      }
      return { ...AUTHENTICATION_REQUIRED };
    },
  };
}
