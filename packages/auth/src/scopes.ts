import type { AuthFailure, Principal } from "./types.js";

/**
 * Whether a held scope grants a required one: the same scope, `*` (everything), or `<prefix>:*`
 * (every scope under `<prefix>:`, e.g. `github:*` grants `github:read` and `github:write`).
 */
export function scopeGrants(held: string, required: string): boolean {
  if (held === required || held === "*") return true;
  return held.endsWith(":*") && required.startsWith(held.slice(0, -1));
}

/** The required scopes the principal lacks, in the order required, without repeats. */
export function missingScopes(principal: Principal, required: readonly string[]): string[] {
  return [...new Set(required)].filter((scope) => !principal.scopes.some((held) => scopeGrants(held, scope)));
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
