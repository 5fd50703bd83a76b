import { ERROR_CODES, RETRYABLE_BY_DEFAULT, type ErrorCode } from "./codes.js";

export type { ErrorCode };

export interface ToolshedErrorOptions {
  /** Facts a caller (or a model) can act on: ids, limits, valid values. Never secrets or stack traces. */
  details?: Record<string, unknown>;
  /** Whether repeating the same call may succeed. Defaults by code (rate_limited, timeout, upstream_unavailable). */
  retryable?: boolean;
  /** When a retry may succeed, in milliseconds from now (e.g. from Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

export interface ToolshedErrorJSON {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  details?: Record<string, unknown>;
}

const KNOWN = new Set<string>(ERROR_CODES);

/**
 * The one error type of Toolshed. Its message is shown to clients and models as is, so it says what
 * went wrong and what to do next ("dataset 'sales' not found; call list_datasets").
 */
export class ToolshedError extends Error {
  override readonly name = "ToolshedError";
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: ToolshedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!KNOWN.has(code)) throw new TypeError(`unknown ToolshedError code '${String(code)}'`);
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterMs = options.retryAfterMs;
  }

  toJSON(): ToolshedErrorJSON {
    const json: ToolshedErrorJSON = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
    if (this.details !== undefined) json.details = this.details;
    return json;
  }
}

/** True for a ToolshedError, also one created by another copy of this package. */
export function isToolshedError(value: unknown): value is ToolshedError {
  if (value instanceof ToolshedError) return true;
  if (!(value instanceof Error) || value.name !== "ToolshedError") return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" && KNOWN.has(code);
}

/**
 * Any thrown value as a ToolshedError. Unknown errors become `internal` with a message that hides
 * internals (paths, SQL, stack); the original stays as `cause` for the server log.
 */
export function toToolshedError(value: unknown): ToolshedError {
  if (isToolshedError(value)) return value;
  if (value instanceof Error && value.name === "AbortError") {
    return new ToolshedError("timeout", "the operation was cancelled or timed out", { cause: value });
  }
  return new ToolshedError("internal", "internal error; the server log has the details", { cause: value });
}
