/** Every error Toolshed reports has one of these codes; no package invents another shape. */
export const ERROR_CODES = [
  "invalid_input",
  "not_found",
  "unauthenticated",
  "forbidden",
  "rate_limited",
  "conflict",
  "timeout",
  "upstream_error",
  "upstream_unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes a caller may retry without changing its input. */
export const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set([
  "rate_limited",
  "timeout",
  "upstream_unavailable",
]);
