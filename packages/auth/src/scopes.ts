import type { AuthFailure, Principal } from "./types.js";

/** The required scopes the principal lacks, in the order required, without repeats. */
export function missingScopes(principal: Principal, required: readonly string[]): string[] {
  const held = new Set(principal.scopes);
  return [...new Set(required)].filter((scope) => !held.has(scope));
}

/** The 403 outcome for a call that needs scopes the principal lacks (RFC 6750 `insufficient_scope`). */
export function insufficientScope(missing: readonly string[]): AuthFailure {
  const scope = missing.join(" ");
  return {
    ok: false,
    status: 403,
    error: "insufficient_scope",
    description: `this call needs the scope${missing.length === 1 ? "" : "s"} ${scope}; request a token or key that grants ${missing.length === 1 ? "it" : "them"}`,
    scope,
  };
}
