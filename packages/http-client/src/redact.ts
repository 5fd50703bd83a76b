export const REDACTED = "REDACTED";

/** Query parameters whose values are credentials (`?access_token=`, `?key=`, signed-URL signatures). */
const SECRET_PARAM =
  /^(?:key|sig|code|auth|jwt|session)$|token|secret|passw|signature|credential|api[-_]?key|[-_]key$|^x-amz-|^awsaccesskeyid$/i;

/** Request headers whose values are credentials; their values are scrubbed from any text we produce. */
const SECRET_HEADER =
  /^(?:authorization|proxy-authorization|cookie)$|token|secret|passw|api[-_]?key|session|auth/i;

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/**
 * A query string (with or without its `?`) with the values of secret-named parameters replaced by
 * `REDACTED`, as OpenTelemetry asks for `url.full`. Everything else is kept byte for byte.
 */
export function redactQuery(search: string): string {
  if (search === "" || search === "?") return "";
  const body = search.startsWith("?") ? search.slice(1) : search;
  const parts = body.split("&");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    let name = part.slice(0, eq);
    try {
      name = decodeURIComponent(name.replace(/\+/g, " "));
    } catch {
      // keep the raw name
    }
    if (SECRET_PARAM.test(name)) parts[i] = `${part.slice(0, eq)}=${REDACTED}`;
  }
  return `?${parts.join("&")}`;
}

/** `path?query` with the query redacted. */
export function redactPath(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  return q === -1 ? pathAndQuery : pathAndQuery.slice(0, q) + redactQuery(pathAndQuery.slice(q));
}

const TEXT_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [
    /\b(access[_-]?token|refresh[_-]?token|token|api[_-]?key|key|secret|password|client[_-]?secret)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'"]+)/gi,
    `$1$2${REDACTED}`,
  ],
  [
    /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})/g,
    REDACTED,
  ],
];

/**
 * Text from an upstream (an error message it sent) made safe to show: the exact values of the
 * secrets we sent are replaced, then anything shaped like a credential.
 */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** The credential parts of a header value, e.g. both `Bearer abc` and `abc`. */
export function secretValuesOf(value: string): string[] {
  const space = value.indexOf(" ");
  return space === -1 ? [value] : [value, value.slice(space + 1)];
}
