import { fromHttpStatus, isToolshedError, ToolshedError } from "@toolshed/errors";
import { ResponseTooLargeError, SinkError } from "./transport.js";
import { isRateLimitExhausted, parseRetryAfter, rateLimitResetAt } from "./retry.js";
import { scrubText } from "./redact.js";
import { PrivateAddressError } from "./ssrf/guard.js";
import type { HttpHeaders, HttpMethod } from "./types.js";

/** What an error message may say about the request: never headers, and the query already redacted. */
export interface ErrorContext {
  upstream: string;
  method: HttpMethod;
  /** Path and redacted query (or a redacted absolute URL for another origin). */
  target: string;
  /** Values of the credentials sent, scrubbed from any upstream text we quote. */
  secrets: readonly string[];
}

/** How a failed exchange is labelled in metrics (`status`) and spans (`error.type`). */
export type FailureKind =
  | "timeout"
  | "connection_error"
  | "dns_error"
  | "refused_address"
  | "response_too_large"
  | "sink_failed"
  | "invalid_request"
  | "client_closed"
  | "cancelled"
  | "transport_error";

export interface TransportFailure {
  kind: FailureKind;
  /** A repeat may succeed (timeouts, resets, refused connections). */
  retryable: boolean;
  /** The upstream failed (counts toward the breaker), as opposed to us refusing or the caller leaving. */
  upstreamFault: boolean;
  build: (attempts: number) => ToolshedError;
}

const MAX_QUOTE = 300;

function prefix(ctx: ErrorContext): string {
  return `${ctx.upstream} ${ctx.method} ${ctx.target}`;
}

function details(
  ctx: ErrorContext,
  attempts: number,
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  return { upstream: ctx.upstream, method: ctx.method, url: ctx.target, attempts, ...extra };
}

function afterAttempts(attempts: number): string {
  return attempts > 1 ? ` (after ${attempts} attempts)` : "";
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))} s`;
}

/** The error for a final non-2xx answer. 4xx keep their meaning; 5xx are the upstream's failure. */
export function statusError(
  ctx: ErrorContext,
  status: number,
  headers: HttpHeaders,
  body: Buffer | undefined,
  attempts: number,
  now = Date.now(),
  exposeHeaders: readonly string[] = [],
): ToolshedError {
  const quoted = upstreamMessage(headers, body, ctx.secrets);
  const said = quoted ? `; the upstream said: "${quoted}"` : "";
  // x-ratelimit-reset is on every answer of APIs like GitHub's and says when the quota resets, not
  // when a failed call may be retried: it is a wait only for a rate limit (429, or a 403 with the
  // quota spent, as GitHub answers a primary limit). Retry-After is a wait on any status.
  const limited = status === 429 || (status === 403 && isRateLimitExhausted(headers));
  const resetAt = limited ? rateLimitResetAt(headers) : undefined;
  const retryAfterMs =
    parseRetryAfter(headers["retry-after"], now) ??
    (resetAt === undefined ? undefined : Math.max(0, resetAt - now));
  const extra: Record<string, unknown> = { status };
  if (quoted) extra.upstreamMessage = quoted;
  if (resetAt !== undefined) extra.resetAt = new Date(resetAt).toISOString();
  const exposed: Record<string, string> = {};
  for (const name of exposeHeaders) {
    const value = headers[name];
    if (value !== undefined)
      exposed[name] = scrubText(Array.isArray(value) ? value.join(", ") : value, ctx.secrets);
  }
  if (Object.keys(exposed).length > 0) extra.headers = exposed;

  if (limited) {
    const when = retryAfterMs === undefined ? "retry later" : `retry in ${seconds(retryAfterMs)}`;
    return new ToolshedError(
      "rate_limited",
      `${prefix(ctx)}: the upstream rate limit was hit (HTTP ${status})${afterAttempts(attempts)}; ${when}${said}`,
      { details: details(ctx, attempts, extra), retryAfterMs },
    );
  }
  const base = fromHttpStatus(status).message;
  const options = {
    details: details(ctx, attempts, extra),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
  return fromHttpStatus(status, `${prefix(ctx)}: ${base}${afterAttempts(attempts)}${said}`, options);
}

/** The upstream's own explanation from an error body: a JSON `message`/`error` field or short plain text. */
function upstreamMessage(headers: HttpHeaders, body: Buffer | undefined, secrets: readonly string[]): string {
  if (!body || body.length === 0) return "";
  const type = String(headers["content-type"] ?? "").toLowerCase();
  let text = "";
  if (type.includes("json")) {
    try {
      const value: unknown = JSON.parse(body.toString("utf8"));
      if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        for (const key of ["message", "error_description", "detail", "error", "title"]) {
          const field = record[key];
          if (typeof field === "string" && field.trim()) {
            text = field;
            break;
          }
          if (
            field &&
            typeof field === "object" &&
            typeof (field as { message?: unknown }).message === "string"
          ) {
            text = (field as { message: string }).message;
            break;
          }
        }
      }
    } catch {
      return "";
    }
  } else if (type.startsWith("text/plain")) {
    text = body.toString("utf8");
  }
  text = text.replace(/\s+/g, " ").trim();
  if (!text) return "";
  if (text.length > MAX_QUOTE) text = `${text.slice(0, MAX_QUOTE)}…`;
  return scrubText(text, secrets);
}

/** A thrown undici / socket / DNS error, classified. */
export function transportFailure(ctx: ErrorContext, err: unknown): TransportFailure {
  const code = errorCode(err);
  const p = prefix(ctx);
  if (err instanceof ResponseTooLargeError) {
    return {
      kind: "response_too_large",
      retryable: false,
      upstreamFault: false,
      build: (attempts) =>
        new ToolshedError(
          "upstream_error",
          `${p}: the response is larger than the ${formatBytes(err.limit)} cap (maxResponseBytes), so it was ` +
            "cut off; ask for less data (pagination, filters, fewer fields) or raise maxResponseBytes",
          { details: details(ctx, attempts, { maxResponseBytes: err.limit }), retryable: false, cause: err },
        ),
    };
  }
  if (err instanceof SinkError) {
    // Our side failed (a full disk, say): not the upstream's fault, and a retry would not help.
    return {
      kind: "sink_failed",
      retryable: false,
      upstreamFault: false,
      build: (attempts) =>
        new ToolshedError("internal", `${p}: ${err.message}; the download was stopped`, {
          details: details(ctx, attempts),
          retryable: false,
          cause: err.cause,
        }),
    };
  }
  if (err instanceof PrivateAddressError || code === "ERR_TOOLSHED_PRIVATE_ADDRESS") {
    const e = err as PrivateAddressError;
    return {
      kind: "refused_address",
      retryable: false,
      upstreamFault: false,
      build: (attempts) =>
        privateAddressError(ctx, e.hostname, `resolves to ${e.address}, ${e.reason}`, attempts),
    };
  }
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "ETIMEDOUT": {
      const what =
        code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT"
          ? "connecting timed out (connectMs)"
          : code === "UND_ERR_HEADERS_TIMEOUT"
            ? "no response headers in time (headersMs)"
            : "the response body stalled (bodyMs)";
      return {
        kind: "timeout",
        retryable: true,
        upstreamFault: true,
        build: (attempts) =>
          new ToolshedError(
            "timeout",
            `${p}: ${what}${afterAttempts(attempts)}; the upstream is slow or overloaded, retry later`,
            { details: details(ctx, attempts), cause: err },
          ),
      };
    }
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return {
        kind: "dns_error",
        retryable: code === "EAI_AGAIN",
        upstreamFault: true,
        build: (attempts) =>
          new ToolshedError(
            "upstream_unavailable",
            `${p}: the upstream's host name does not resolve${afterAttempts(attempts)}; check the configured base URL`,
            { details: details(ctx, attempts), retryable: code === "EAI_AGAIN", cause: err },
          ),
      };
    case "UND_ERR_INVALID_ARG":
      return {
        kind: "invalid_request",
        retryable: false,
        upstreamFault: false,
        build: (attempts) =>
          new ToolshedError(
            "invalid_input",
            `${p}: the request cannot be sent (${err instanceof Error ? err.message : "invalid argument"}); ` +
              "encode path segments and header values",
            { details: details(ctx, attempts), cause: err },
          ),
      };
    case "UND_ERR_CLOSED":
    case "UND_ERR_DESTROYED":
      return clientClosed(ctx);
    default:
      break;
  }
  const connection =
    code === "UND_ERR_SOCKET" ||
    code === "ECONNRESET" ||
    code === "ECONNREFUSED" ||
    code === "EPIPE" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH" ||
    code === "ECONNABORTED" ||
    code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH";
  return {
    kind: connection ? "connection_error" : "transport_error",
    retryable: connection,
    upstreamFault: true,
    build: (attempts) =>
      new ToolshedError(
        "upstream_unavailable",
        `${p}: ${connection ? describeConnection(code) : "the exchange with the upstream failed"}` +
          `${afterAttempts(attempts)}; the upstream may be down or restarting, retry later`,
        {
          details: details(ctx, attempts, code ? { errorCode: code } : undefined),
          retryable: connection,
          cause: err,
        },
      ),
  };
}

function describeConnection(code: string | undefined): string {
  switch (code) {
    case "ECONNREFUSED":
      return "the connection was refused";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
    case "EPIPE":
    case "ECONNABORTED":
      return "the connection was closed before a complete response";
    case "UND_ERR_RES_CONTENT_LENGTH_MISMATCH":
      return "the response ended before its announced length";
    default:
      return "the upstream could not be reached";
  }
}

export function clientClosed(ctx: ErrorContext): TransportFailure {
  return {
    kind: "client_closed",
    retryable: false,
    upstreamFault: false,
    build: (attempts) =>
      new ToolshedError(
        "upstream_unavailable",
        `${prefix(ctx)}: the HTTP client was closed (server shutting down)`,
        {
          details: details(ctx, attempts),
          retryable: false,
        },
      ),
  };
}

/** The caller's signal aborted: its reason when that is already a ToolshedError, else a cancellation. */
export function cancelledError(ctx: ErrorContext, reason: unknown, attempts: number): ToolshedError {
  if (isToolshedError(reason)) return reason;
  return new ToolshedError("timeout", `${prefix(ctx)}: cancelled by the caller before it finished`, {
    details: details(ctx, attempts, { cancelled: true }),
    retryable: false,
    cause: reason,
  });
}

export function deadlineError(ctx: ErrorContext, totalMs: number, attempts: number): ToolshedError {
  return new ToolshedError(
    "timeout",
    `${prefix(ctx)}: no complete response within ${totalMs} ms (timeoutMs)${afterAttempts(attempts)}; ` +
      "the upstream is slow or unreachable, retry later",
    { details: details(ctx, attempts, { timeoutMs: totalMs }) },
  );
}

export function breakerOpenError(ctx: ErrorContext, retryAfterMs: number, failures: number): ToolshedError {
  return new ToolshedError(
    "upstream_unavailable",
    `${prefix(ctx)}: ${ctx.upstream} is failing (circuit breaker open after ${failures} consecutive ` +
      `failures), so it was not called; retry in ${seconds(retryAfterMs)}`,
    { details: details(ctx, 0, { breaker: "open" }), retryAfterMs },
  );
}

export function hostNotAllowedError(ctx: ErrorContext, hostname: string, allowed: string): ToolshedError {
  return new ToolshedError(
    "forbidden",
    `${prefix(ctx)}: host '${hostname}' is not in this client's allowed hosts (${allowed}); only those may be called`,
    { details: details(ctx, 0, { host: hostname }) },
  );
}

export function privateAddressError(
  ctx: ErrorContext,
  hostname: string,
  why: string,
  attempts: number,
): ToolshedError {
  return new ToolshedError(
    "forbidden",
    `${prefix(ctx)}: refused to connect to '${hostname}': it ${why}; private, loopback and link-local ` +
      "networks are blocked (set allowPrivateNetwork for a trusted internal upstream)",
    { details: details(ctx, attempts, { host: hostname }) },
  );
}

export function redirectError(
  ctx: ErrorContext,
  why: string,
  attempts: number,
  extra?: Record<string, unknown>,
): ToolshedError {
  return new ToolshedError("upstream_error", `${prefix(ctx)}: ${why}; the redirect was not followed`, {
    details: details(ctx, attempts, extra),
    retryable: false,
  });
}

export function invalidUrlError(ctx: ErrorContext, why: string): ToolshedError {
  return new ToolshedError("invalid_input", `${prefix(ctx)}: ${why}`, { details: details(ctx, 0) });
}

export function decodeError(
  ctx: ErrorContext,
  status: number,
  contentType: string,
  cause: unknown,
): ToolshedError {
  return new ToolshedError(
    "upstream_error",
    `${prefix(ctx)}: the upstream answered HTTP ${status} with a body that is not valid JSON ` +
      `(content-type '${contentType || "none"}'); the upstream API may have changed or an error page came back`,
    { details: details(ctx, 1, { status, contentType }), retryable: false, cause },
  );
}

/** A zod mismatch, naming the first bad path ("items[0].id: expected number, received string"). */
export function schemaError(
  ctx: ErrorContext,
  status: number,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): ToolshedError {
  const first = issues[0];
  const where = first ? formatPath(first.path) : "(root)";
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return new ToolshedError(
    "upstream_error",
    `${prefix(ctx)}: the upstream's JSON does not have the expected shape at ${where}: ` +
      `${first?.message ?? "invalid"}${more}; the upstream API may have changed`,
    {
      details: details(ctx, 1, {
        status,
        path: where,
        issues: issues.slice(0, 5).map((i) => ({ path: formatPath(i.path), message: i.message })),
      }),
      retryable: false,
    },
  );
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function errorCode(err: unknown): string | undefined {
  if (!err || typeof err !== "object") return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Happy eyeballs (autoSelectFamily) reports an AggregateError of the per-address failures.
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) return errorCode(errors[0]);
  const cause = (err as { cause?: unknown }).cause;
  return cause && cause !== err ? errorCode(cause) : undefined;
}
