import type { Span } from "@opentelemetry/api";
import { openTelemetry } from "@toolshed/metrics";
import { redactPath } from "./redact.js";
import type { HttpMethod } from "./types.js";
import { VERSION } from "./version.js";

// Through @opentelemetry/api only, loaded once an application's provider (the kit's OTLP exporter,
// or a test's in-memory one) is registered: until then a request has no span and costs nothing.
// SpanKind.CLIENT and SpanStatusCode.ERROR, as numbers: the API's enums would load it.
const CLIENT = 2;
const ERROR = 2;

export interface SpanTarget {
  readonly origin: string;
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
}

/**
 * A CLIENT span for one request sent (each retry and redirect hop gets its own, with
 * `http.request.resend_count`), a child of the caller's active span; its `traceparent` goes into
 * `headers` so the upstream joins the trace.
 */
export function startAttemptSpan(
  method: HttpMethod,
  target: SpanTarget,
  resendCount: number,
  headers: Record<string, string>,
): Span | undefined {
  const api = openTelemetry();
  if (!api) return undefined;
  const { context, propagation, trace } = api;
  const parent = context.active();
  const span = trace
    .getTracer("@toolshed/http-client", VERSION)
    .startSpan(`HTTP ${method}`, { kind: CLIENT }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      "http.request.method": method,
      "server.address": target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname,
      "server.port": target.port,
      "url.full": target.origin + redactPath(target.path),
    });
    if (resendCount > 0) span.setAttribute("http.request.resend_count", resendCount);
  }
  propagation.inject(trace.setSpan(parent, span), headers);
  return span;
}

/** Ends an attempt's span: the status it got (if any) and, on failure, `error.type`. */
export function endAttemptSpan(
  span: Span | undefined,
  status: number | undefined,
  errorType: string | undefined,
): void {
  if (!span) return;
  if (span.isRecording()) {
    if (status !== undefined) span.setAttribute("http.response.status_code", status);
    if (errorType !== undefined) {
      span.setAttribute("error.type", errorType);
      span.setStatus({ code: ERROR });
    }
  }
  span.end();
}
