export { createHttpClient } from "./client.js";
export type { HttpClient, HttpClientStats } from "./client.js";
export type {
  HttpClientOptions,
  HttpResponse,
  QueryValue,
  RequestOptions,
  RequestOptionsWithoutMethod,
  ResponseSink,
  RetryOptions,
  TimeoutOptions,
} from "./options.js";
export {
  DEFAULT_BREAKER,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
} from "./options.js";
export type { BreakerOptions, BreakerState } from "./breaker.js";
export type { EtagCacheOptions } from "./etag-cache.js";
export type { HttpHeaders, HttpMethod } from "./types.js";
export { nonPublicReason } from "./ssrf/ip-ranges.js";
export { redactQuery } from "./redact.js";
export { VERSION } from "./version.js";
