export const REDACTED = "[redacted]";

/** Keys whose values never reach a log line, matched case-insensitively at any depth. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "apikey",
  "api_key",
  "api-key",
  "token",
  "accesstoken",
  "access_token",
  "refreshtoken",
  "refresh_token",
  "idtoken",
  "id_token",
  "password",
  "passwd",
  "secret",
  "clientsecret",
  "client_secret",
  "privatekey",
  "private_key",
]);

const MAX_DEPTH = 6;

/**
 * A copy of `value` with secret-named keys replaced, copying only the objects that change: a line
 * with nothing secret costs a few set lookups and no allocation.
 */
export function redactKeys<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const r = redactKeys(item, depth + 1);
      if (r !== item) (out ??= [...(value as unknown[])])[i] = r;
    });
    return (out ?? value) as T;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const r = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactKeys(item, depth + 1);
    if (r !== item) (out ??= { ...record })[key] = r;
  }
  return (out ?? value) as T;
}

const TEXT_PATTERNS: [RegExp, string][] = [
  // key=value and key: value for secret-named keys (connection strings, error messages)
  [
    /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token|client[_-]?secret)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'"]+)/gi,
    `$1$2${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // credentials in URLs: scheme://user:pass@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:/\s@]+):[^@\s/]+@/gi, `$1:${REDACTED}@`],
  // well-known token shapes (GitHub, OpenAI-style, Slack)
  [
    /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})/g,
    REDACTED,
  ],
];

/** Replaces secret-shaped substrings (password=..., Bearer ..., user:pass@ in URLs, known token formats). */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
