export const REDACTED = "[redacted]";

const SECRET_KEYS = [
  "authorization",
  "Authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "apiKey",
  "api_key",
  "token",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "password",
  "passwd",
  "secret",
  "clientSecret",
  "client_secret",
  "privateKey",
  "private_key",
];

/**
 * pino redaction paths: secret-named keys at the top level, one and two levels down, and in
 * request/response headers. pino's wildcards match one level each, so the depths are spelled out.
 */
export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS.map((k) => quote(k)),
  ...SECRET_KEYS.map((k) => `*.${quote(k)}`),
  ...SECRET_KEYS.map((k) => `*.*.${quote(k)}`),
  ...["req", "request", "res", "response"].flatMap((o) =>
    SECRET_KEYS.map((k) => `${o}.headers.${quote(k)}`),
  ),
];

function quote(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
}

const TEXT_PATTERNS: [RegExp, string][] = [
  // key=value and key: value for secret-named keys (connection strings, error messages)
  [/\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token|client[_-]?secret)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'"]+)/gi, `$1$2${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  // credentials in URLs: scheme://user:pass@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:/\s@]+):[^@\s/]+@/gi, `$1:${REDACTED}@`],
  // well-known token shapes (GitHub, OpenAI-style, Slack)
  [/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})/g, REDACTED],
];

/** Replaces secret-shaped substrings (password=..., Bearer ..., user:pass@ in URLs, known token formats). */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
