import type { HttpHeaders, HttpMethod } from "./types.js";

/** Statuses worth another try: the upstream (or a proxy before it) is briefly unable to answer. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Methods a repeat cannot harm (RFC 9110 9.2.2); POST and PATCH only when the caller says so. */
export function isIdempotent(method: HttpMethod, override: boolean | undefined): boolean {
  if (override !== undefined) return override;
  return method !== "POST" && method !== "PATCH";
}

/**
 * "Full jitter" exponential backoff: a uniform wait in [0, min(max, base * 2^retry)], which spreads
 * retrying clients apart better than a fixed or "equal jitter" wait.
 */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `Retry-After` in milliseconds from now: delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = first(value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** When a rate limit resets, from `x-ratelimit-reset` (epoch seconds, as GitHub and others send). */
export function rateLimitResetAt(headers: HttpHeaders): number | undefined {
  const text = first(headers["x-ratelimit-reset"]);
  if (!text || !/^\d+$/.test(text.trim())) return undefined;
  const seconds = Number(text);
  // Some APIs send seconds-until-reset instead of an epoch time; an epoch is past 2001.
  return seconds > 1e9 ? seconds * 1000 : Date.now() + seconds * 1000;
}

/** True when the headers say a rate limit is used up (GitHub answers 403 to that, not 429). */
export function isRateLimitExhausted(headers: HttpHeaders): boolean {
  return first(headers["x-ratelimit-remaining"])?.trim() === "0";
}
