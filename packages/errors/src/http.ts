import type { ErrorCode } from "./codes.js";
import { ToolshedError, type ToolshedErrorOptions } from "./toolshed-error.js";

/**
 * The ToolshedError for an upstream HTTP status. Upstream 4xx keep their meaning; 5xx become
 * `upstream_error` (502/503/504 `upstream_unavailable`, retryable).
 */
export function fromHttpStatus(
  status: number,
  message?: string,
  options: ToolshedErrorOptions = {},
): ToolshedError {
  const code = codeForStatus(status);
  const details = { status, ...options.details };
  return new ToolshedError(code, message ?? defaultMessage(code, status), { ...options, details });
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 405:
    case 406:
    case 411:
    case 413:
    case 414:
    case 415:
    case 416:
    case 422:
      return "invalid_input";
    case 401:
      return "unauthenticated";
    case 403:
      return "forbidden";
    case 404:
    case 410:
      return "not_found";
    case 408:
      return "timeout";
    case 409:
    case 412:
      return "conflict";
    case 429:
      return "rate_limited";
    case 502:
    case 503:
    case 504:
      return "upstream_unavailable";
    default:
      if (status >= 500) return "upstream_error";
      if (status >= 400) return "invalid_input";
      return "upstream_error";
  }
}

function defaultMessage(code: ErrorCode, status: number): string {
  switch (code) {
    case "invalid_input":
      return `the upstream rejected the request as invalid (HTTP ${status}); check the arguments`;
    case "unauthenticated":
      return `the upstream refused the credentials (HTTP ${status}); check the configured token`;
    case "forbidden":
      return `the upstream denied access (HTTP ${status}); the credentials lack a permission`;
    case "not_found":
      return `the upstream has no such resource (HTTP ${status})`;
    case "timeout":
      return `the upstream timed out (HTTP ${status}); retry later`;
    case "conflict":
      return `the upstream reported a conflict (HTTP ${status}); re-read the resource and retry`;
    case "rate_limited":
      return `the upstream rate limit was hit (HTTP ${status}); retry later`;
    case "upstream_unavailable":
      return `the upstream is unavailable (HTTP ${status}); retry later`;
    default:
      return `the upstream failed (HTTP ${status})`;
  }
}
