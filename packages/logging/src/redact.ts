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
