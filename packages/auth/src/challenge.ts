import type { AuthOutcome } from "./types.js";

export interface ChallengeOptions {
  /** The outcome being answered; absent (or a "no credentials" outcome) gives a bare challenge. */
  outcome?: AuthOutcome;
  /** URL of this server's RFC 9728 metadata document; omit only when there is none (API keys alone). */
  resourceMetadataUrl?: string;
  realm?: string;
  /** Scopes to name when the outcome carries none (RFC 6750 §3, MCP scope hints). */
  scope?: string;
}

/**
 * The `WWW-Authenticate` value for a refused request (RFC 6750 §3, RFC 9728 §5.1):
 *
 *     Bearer realm="…", resource_metadata="…", error="…", error_description="…", scope="…"
 *
 * A request that carried no credential gets no error attributes (RFC 6750 §3.1).
 */
export function wwwAuthenticate(options: ChallengeOptions): string {
  const params: string[] = [];
  if (options.realm !== undefined) params.push(param("realm", options.realm));
  if (options.resourceMetadataUrl !== undefined) {
    params.push(param("resource_metadata", options.resourceMetadataUrl));
  }
  const outcome = options.outcome;
  const failure = outcome !== undefined && !outcome.ok && outcome.missing !== true ? outcome : undefined;
  if (failure !== undefined) {
    params.push(param("error", failure.error));
    params.push(param("error_description", descriptionText(failure.description)));
  }
  const scope = failure?.scope ?? options.scope;
  if (scope !== undefined && scope !== "") params.push(param("scope", scope));
  return params.length === 0 ? "Bearer" : `Bearer ${params.join(", ")}`;
}

function param(name: string, value: string): string {
  // quoted-string (RFC 9110 §5.6.4); control characters would split or forge the header.
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const clean = value.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/["\\]/g, (c) => `\\${c}`);
  return `${name}="${clean}"`;
}

/** RFC 6750 §3: error_description is limited to printable ASCII without `"` and `\`. */
function descriptionText(text: string): string {
  return text
    .replace(/"/g, "'")
    .replace(/\\/g, "/")
    .replace(/[^\x20-\x7e]/g, "?");
}
