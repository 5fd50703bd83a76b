import type { LookupFunction } from "node:net";
import type { ToolshedMetrics } from "@toolshed/metrics";
import type { ZodType } from "zod";
import type { BreakerOptions } from "./breaker.js";
import type { EtagCacheOptions } from "./etag-cache.js";
import type { HttpHeaders, HttpMethod } from "./types.js";

export interface TimeoutOptions {
  /** Opening a TCP (and TLS) connection. Default 5 000 ms. */
  connectMs: number;
  /** From sending the request to the complete response headers. Default 15 000 ms. */
  headersMs: number;
  /** Longest silence between two body chunks. Default 15 000 ms. */
  bodyMs: number;
  /** The whole `request()` call: queueing, every attempt and every backoff wait. Default 30 000 ms. */
  totalMs: number;
}

export interface RetryOptions {
  /** Tries in all, the first included; 1 turns retries off. Default 3. */
  attempts: number;
  /** Backoff ceiling of the first retry; it doubles per retry (full jitter). Default 200 ms. */
  baseDelayMs: number;
  /** Largest backoff wait. Default 5 000 ms. */
  maxDelayMs: number;
  /** Largest `Retry-After` the client waits for; a longer one fails at once with `retryAfterMs`. Default 10 000 ms. */
  maxRetryAfterMs: number;
}

export interface HttpClientOptions {
  /** The upstream's name: the `upstream` metric label and the start of every error message, e.g. "github". */
  name: string;
  /** Requests with `path` go here: `baseUrl` + `path` (the base's own path is kept, e.g. `/api/v3`). */
  baseUrl?: string | URL;
  /** Sent with every request (e.g. `authorization`); never copied into errors, logs or spans. */
  headers?: Record<string, string>;
  timeouts?: Partial<TimeoutOptions>;
  /** Retry policy for idempotent requests, or false for none. */
  retry?: Partial<RetryOptions> | false;
  /** Requests of this client in flight at once; the rest queue (FIFO). Default 16. */
  concurrency?: number;
  /** Largest response body read; a larger one is cut off with `upstream_error`. Default 10 MiB. */
  maxResponseBytes?: number;
  /**
   * Host names the client may call, on every request and every redirect hop: exact names,
   * `*.example.com` for subdomains, or `*` for any. Default: the host of `baseUrl`.
   */
  allowHosts?: readonly string[];
  /**
   * Allow loopback, private (RFC 1918), link-local, unique-local, CGNAT and metadata addresses.
   * Default false: such addresses are refused, checked on the resolved address at connect time.
   */
  allowPrivateNetwork?: boolean;
  /** Per-origin circuit breaker, or false for none. */
  breaker?: Partial<BreakerOptions> | false;
  /** ETag cache for GET: true for the default bounds (500 entries, 10 MiB), or the bounds. Default off. */
  cache?: boolean | EtagCacheOptions;
  /** Observe `toolshed_upstream_request_duration_seconds{upstream,method,status}` per attempt. */
  metrics?: Pick<ToolshedMetrics, "upstreamDuration">;
  /** Default `toolshed-http-client/<version>`; a `user-agent` in `headers` wins. */
  userAgent?: string;
  /** The DNS lookup for new connections (default `dns.lookup`); the private-address guard wraps it. */
  lookup?: LookupFunction;
  /**
   * Response headers (lower-case names) copied into the details of a non-2xx error as `headers`, for
   * callers that act on them (e.g. GitHub's `x-accepted-github-permissions`). Never credentials.
   */
  errorHeaders?: readonly string[];
  /** How long an idle keep-alive connection is kept. Default 4 000 ms. */
  keepAliveTimeoutMs?: number;
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions<T = unknown> {
  /** Default GET. */
  method?: HttpMethod;
  /** Appended to `baseUrl`. Use `url` for an absolute URL (it must pass the allow-list). */
  path?: string;
  url?: string | URL;
  /** Encoded and appended; arrays repeat the key, null and undefined are left out. */
  query?: Record<string, QueryValue | readonly QueryValue[]>;
  /** Merged over the client's headers; an undefined value removes one. */
  headers?: Record<string, string | undefined>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** A raw body (replayable, so retries and 307/308 redirects can resend it). */
  body?: string | Uint8Array;
  /** Cancels the request, including a wait in the queue or between retries. */
  signal?: AbortSignal;
  /** The JSON body must match this schema; a mismatch is `upstream_error` naming the first bad path. */
  expect?: ZodType<T>;
  /** Overrides `timeouts.totalMs` for this call. */
  timeoutMs?: number;
  /** false: one attempt only. Or overrides of the client's retry policy. */
  retry?: false | Partial<RetryOptions>;
  /** Lets POST/PATCH be retried (the caller knows the operation is idempotent, e.g. an idempotency key). */
  idempotent?: boolean;
  /** How `data` is decoded. Default: JSON when the content-type says JSON (or `expect` is given), else text. */
  responseType?: "json" | "text" | "bytes";
  /** false skips the ETag cache for this GET. */
  cache?: boolean;
  /**
   * Streams a 2xx body here instead of collecting it (`data` is then undefined, and the ETag cache
   * is skipped): for downloads larger than is worth holding in memory. The size cap still applies.
   */
  sink?: ResponseSink;
  /** Overrides the client's `maxResponseBytes` for this call (a download may allow more). */
  maxResponseBytes?: number;
}

/** Where a streamed 2xx body goes. Both calls are synchronous; one that throws aborts the exchange. */
export interface ResponseSink {
  /** A 2xx answer begins; called again at each retried attempt, so the sink starts over. */
  start(status: number, headers: HttpHeaders): void;
  write(chunk: Buffer): void;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: HttpHeaders;
  /** The decoded body (undefined when empty). */
  data: T;
  /** True when a 304 let the cached body be returned. */
  fromCache: boolean;
}

export type RequestOptionsWithoutMethod<T> = Omit<RequestOptions<T>, "method" | "path" | "url">;

export const DEFAULT_TIMEOUTS: TimeoutOptions = {
  connectMs: 5_000,
  headersMs: 15_000,
  bodyMs: 15_000,
  totalMs: 30_000,
};

export const DEFAULT_RETRY: RetryOptions = {
  attempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 10_000,
};

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;
/** How much of an error response is read for its message. */
export const ERROR_BODY_BYTES = 16 * 1024;
export const MAX_REDIRECTS = 5;
