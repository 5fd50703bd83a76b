import type { Span } from "@opentelemetry/api";
import { isToolshedError, type ToolshedError } from "@toolshed/errors";
import type { Agent } from "undici";
import { CircuitBreaker, type BreakerOptions, type BreakerPermit, type BreakerState } from "./breaker.js";
import {
  breakerOpenError,
  cancelledError,
  clientClosed,
  deadlineError,
  decodeError,
  hostNotAllowedError,
  invalidUrlError,
  privateAddressError,
  redirectError,
  schemaError,
  statusError,
  transportFailure,
  type ErrorContext,
} from "./errors.js";
import { EtagCache } from "./etag-cache.js";
import { Limiter } from "./limiter.js";
import {
  DEFAULT_BREAKER,
  DEFAULT_CONCURRENCY,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
  ERROR_BODY_BYTES,
  MAX_REDIRECTS,
  type HttpClientOptions,
  type HttpResponse,
  type QueryValue,
  type RequestOptions,
  type RequestOptionsWithoutMethod,
  type RetryOptions,
  type TimeoutOptions,
} from "./options.js";
import { isSecretHeader, redactPath, secretValuesOf } from "./redact.js";
import { backoffDelay, isIdempotent, isRetryableStatus, parseRetryAfter, rateLimitResetAt } from "./retry.js";
import { sleep } from "./sleep.js";
import { guardedLookup, HostAllowList, literalAddressReason } from "./ssrf/guard.js";
import { endAttemptSpan, startAttemptSpan } from "./tracing.js";
import { Cancellation, send, type RawResponse, type SendOptions } from "./transport.js";
import { HTTP_METHODS, type HttpHeaders, type HttpMethod } from "./types.js";
import { VERSION } from "./version.js";

/** The outbound HTTP client of one upstream. */
export interface HttpClient {
  readonly name: string;
  request<T = unknown>(options: RequestOptions<T>): Promise<HttpResponse<T>>;
  /** `pathOrUrl`: a path under `baseUrl`, or an absolute http(s) URL (e.g. a `Link: next` URL). */
  get<T = unknown>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>>;
  post<T = unknown>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>>;
  put<T = unknown>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>>;
  patch<T = unknown>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>>;
  delete<T = unknown>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>>;
  /** Requests in flight and queued, and the breaker state of every origin called so far. */
  stats(): HttpClientStats;
  /** Closes the keep-alive pools (waiting for requests in flight); later requests fail. */
  close(): Promise<void>;
}

export interface HttpClientStats {
  inFlight: number;
  queued: number;
  breakers: Record<string, BreakerState>;
}

/** Where one request goes: undici's `origin` + `path`, plus what the guards look at. */
interface Target {
  readonly origin: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number;
  /** Path and query, as sent. */
  readonly path: string;
}

interface State<T> {
  readonly method: HttpMethod;
  readonly target: Target;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array | undefined;
  readonly cancel: Cancellation;
  readonly options: RequestOptions<T>;
  readonly idempotent: boolean;
  readonly cacheKey: string | undefined;
  readonly cached: { etag: string; status: number; headers: HttpHeaders; body: Buffer } | undefined;
  /** The client's body limits, or this call's own when it streams to a sink or sets its own cap. */
  readonly limits: SendOptions;
  deadlineHit: boolean;
  /** Requests sent so far in this call (attempts and redirect hops): the next span's resend count. */
  sent: number;
  ctx: ErrorContext | undefined;
}

type Verdict = "success" | "failure" | "neutral";

type Outcome =
  | { readonly ok: true; readonly status: number; readonly headers: HttpHeaders; readonly body: Buffer }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly retryAfterMs: number | undefined;
      readonly verdict: Verdict;
      readonly error: (attempts: number) => ToolshedError;
    };

const PASS: BreakerPermit = { kind: "pass" };
const DEADLINE = new Error("deadline exceeded");
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

/**
 * Creates the outbound HTTP client for one upstream: an undici Agent of its own (a keep-alive pool
 * per origin), timeouts, retries with backoff, a breaker per origin, a concurrency limit, a body
 * size cap, the SSRF guard, zod-validated JSON, an optional ETag cache, metrics and spans.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new ToolshedHttpClient(options);
}

class ToolshedHttpClient implements HttpClient {
  readonly name: string;
  private readonly base: Omit<Target, "path"> | undefined;
  private readonly basePath: string;
  private readonly defaultHeaders: Record<string, string>;
  private readonly secrets: readonly string[];
  private readonly timeouts: TimeoutOptions;
  private readonly retry: RetryOptions;
  private readonly limits: SendOptions;
  private readonly allowList: HostAllowList;
  private readonly allowPrivateNetwork: boolean;
  /** Why the base origin may not be called (checked once), or undefined. */
  private readonly baseRefusal: ((ctx: ErrorContext) => ToolshedError) | undefined;
  private readonly breakerOptions: BreakerOptions | undefined;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly limiter: Limiter;
  private readonly cache: EtagCache | undefined;
  private readonly metrics: HttpClientOptions["metrics"];
  private readonly errorHeaders: readonly string[];
  private readonly agentOptions: ConstructorParameters<typeof Agent>[0];
  private agent: Promise<Agent> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: HttpClientOptions) {
    if (!options.name) throw new TypeError("createHttpClient: `name` (the upstream's label) is required");
    this.name = options.name;

    if (options.baseUrl !== undefined) {
      const url = new URL(String(options.baseUrl));
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new TypeError(`createHttpClient(${this.name}): baseUrl must be http(s), got ${url.protocol}`);
      }
      if (url.username || url.password) {
        throw new TypeError(`createHttpClient(${this.name}): put credentials in headers, not in baseUrl`);
      }
      this.base = {
        origin: url.origin,
        protocol: url.protocol,
        hostname: url.hostname,
        port: defaultPort(url),
      };
      this.basePath = url.pathname.replace(/\/+$/, "");
    } else {
      this.basePath = "";
    }
    if (options.allowHosts === undefined && this.base === undefined) {
      throw new TypeError(`createHttpClient(${this.name}): pass baseUrl or allowHosts`);
    }
    this.allowList = new HostAllowList(options.allowHosts ?? [this.base!.hostname]);
    this.allowPrivateNetwork = options.allowPrivateNetwork ?? false;

    const headers: Record<string, string> = {};
    const secrets: string[] = [];
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const key = name.toLowerCase();
      headers[key] = value;
      if (isSecretHeader(key)) secrets.push(...secretValuesOf(value));
    }
    headers["user-agent"] ??= options.userAgent ?? `toolshed-http-client/${VERSION}`;
    this.defaultHeaders = headers;
    this.secrets = secrets;

    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.retry =
      options.retry === false ? { ...DEFAULT_RETRY, attempts: 1 } : { ...DEFAULT_RETRY, ...options.retry };
    for (const [key, value] of Object.entries({ ...this.timeouts, ...this.retry })) {
      if (!(Number.isFinite(value) && value >= 0)) {
        throw new TypeError(`createHttpClient(${this.name}): ${key} must be a number >= 0`);
      }
    }
    this.limits = {
      maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      otherBytes: ERROR_BODY_BYTES,
    };
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new TypeError(`createHttpClient(${this.name}): concurrency must be an integer >= 1`);
    }
    this.limiter = new Limiter(concurrency);
    this.breakerOptions = options.breaker === false ? undefined : { ...DEFAULT_BREAKER, ...options.breaker };
    this.cache =
      options.cache === undefined || options.cache === false
        ? undefined
        : new EtagCache(options.cache === true ? {} : options.cache);
    this.metrics = options.metrics;
    this.errorHeaders = (options.errorHeaders ?? [])
      .map((h) => h.toLowerCase())
      .filter((h) => !CREDENTIAL_HEADERS.includes(h) && h !== "set-cookie");

    this.baseRefusal = this.base && this.refusalFor(this.base.hostname);

    const connect: Record<string, unknown> = { timeout: this.timeouts.connectMs };
    // Checked on the resolved address of every new connection: DNS rebinding cannot get around it.
    const lookup = this.allowPrivateNetwork ? options.lookup : guardedLookup(options.lookup);
    if (lookup) connect.lookup = lookup;
    this.agentOptions = {
      connect,
      headersTimeout: this.timeouts.headersMs,
      bodyTimeout: this.timeouts.bodyMs,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    };
  }

  /** undici is loaded on the first request: a server whose tools never call out never loads it. */
  private dispatcher(): Promise<Agent> {
    return (this.agent ??= import("undici").then(({ Agent }) => {
      const agent = new Agent(this.agentOptions);
      // Closed before its first request got here: that request fails as on any closed client.
      if (this.closed) void agent.close();
      return agent;
    }));
  }

  get<T>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>> {
    return this.request(withLocation("GET", pathOrUrl, options));
  }

  post<T>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>> {
    return this.request(withLocation("POST", pathOrUrl, options));
  }

  put<T>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>> {
    return this.request(withLocation("PUT", pathOrUrl, options));
  }

  patch<T>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>> {
    return this.request(withLocation("PATCH", pathOrUrl, options));
  }

  delete<T>(pathOrUrl: string, options?: RequestOptionsWithoutMethod<T>): Promise<HttpResponse<T>> {
    return this.request(withLocation("DELETE", pathOrUrl, options));
  }

  stats(): HttpClientStats {
    const breakers: Record<string, BreakerState> = {};
    for (const [origin, breaker] of this.breakers) breakers[origin] = breaker.current;
    return { inFlight: this.limiter.inFlight, queued: this.limiter.queued, breakers };
  }

  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.agent
      ? this.agent.then(
          (agent) => agent.close(),
          () => {},
        )
      : Promise.resolve();
    return this.closing;
  }

  async request<T = unknown>(options: RequestOptions<T>): Promise<HttpResponse<T>> {
    const method = (options.method ?? "GET").toUpperCase() as HttpMethod;
    if (!HTTP_METHODS.has(method)) throw new TypeError(`${this.name}: unsupported HTTP method '${method}'`);
    const target = this.resolveTarget(method, options);

    const headers: Record<string, string> = { ...this.defaultHeaders };
    if (options.headers) {
      for (const name of Object.keys(options.headers)) {
        const value = options.headers[name];
        const key = name.toLowerCase();
        if (value === undefined) delete headers[key];
        else headers[key] = value;
      }
    }
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    }

    let cacheKey: string | undefined;
    let cached: State<T>["cached"];
    if (
      this.cache &&
      method === "GET" &&
      options.cache !== false &&
      !options.sink &&
      headers["if-none-match"] === undefined
    ) {
      cacheKey = `${target.origin}${target.path}\n${headers.authorization ?? ""}`;
      cached = this.cache.get(cacheKey);
      if (cached) headers["if-none-match"] = cached.etag;
    }

    const cancel = new Cancellation();
    const state: State<T> = {
      method,
      target,
      headers,
      body,
      cancel,
      options,
      idempotent: isIdempotent(method, options.idempotent),
      cacheKey,
      cached,
      deadlineHit: false,
      sent: 0,
      ctx: undefined,
      limits:
        options.sink || options.maxResponseBytes !== undefined
          ? {
              ...this.limits,
              maxBytes: options.maxResponseBytes ?? this.limits.maxBytes,
              sink: options.sink,
            }
          : this.limits,
    };
    if (this.closed) throw clientClosed(this.ctxOf(state)).build(0);
    this.checkTarget(state);

    const caller = options.signal;
    if (caller?.aborted) throw cancelledError(this.ctxOf(state), caller.reason, 0);
    const totalMs = options.timeoutMs ?? this.timeouts.totalMs;
    const deadlineAt = Date.now() + totalMs;
    const timer = setTimeout(() => {
      state.deadlineHit = true;
      cancel.abort(DEADLINE);
    }, totalMs);
    const onCallerAbort = caller && (() => cancel.abort(caller.reason));
    if (onCallerAbort) caller.addEventListener("abort", onCallerAbort, { once: true });

    const retry =
      options.retry === false
        ? { ...this.retry, attempts: 1 }
        : options.retry
          ? { ...this.retry, ...options.retry }
          : this.retry;
    let attempt = 0;
    try {
      for (; ; attempt++) {
        const outcome = await this.attempt(state, attempt);
        if (outcome.ok) return this.finish(state, outcome);
        const attempts = attempt + 1;
        if (!outcome.retryable || !state.idempotent || attempts >= retry.attempts)
          throw outcome.error(attempts);
        let wait = outcome.retryAfterMs;
        // A Retry-After past the cap fails at once: the error carries retryAfterMs for the caller.
        if (wait !== undefined && wait > retry.maxRetryAfterMs) throw outcome.error(attempts);
        wait ??= backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs);
        if (Date.now() + wait >= deadlineAt) throw outcome.error(attempts);
        await sleep(wait, cancel);
      }
    } catch (err) {
      if (cancel.aborted && !isToolshedError(err)) {
        throw state.deadlineHit
          ? deadlineError(this.ctxOf(state), totalMs, attempt + 1)
          : cancelledError(this.ctxOf(state), caller?.reason, attempt + 1);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      if (onCallerAbort) caller.removeEventListener("abort", onCallerAbort);
    }
  }

  /** One try: breaker, a concurrency slot, then the exchange (with its redirect hops). */
  private async attempt<T>(state: State<T>, attempt: number): Promise<Outcome> {
    const breaker = this.breakerFor(state.target.origin);
    const permit = breaker ? breaker.acquire() : PASS;
    if (permit.kind === "open")
      throw breakerOpenError(this.ctxOf(state), permit.retryAfterMs, permit.failures);
    try {
      const queued = this.limiter.acquire(state.cancel);
      if (queued) await queued;
    } catch (err) {
      breaker?.onNeutral(permit);
      throw err;
    }
    let outcome: Outcome;
    try {
      outcome = await this.exchange(state, attempt);
    } catch (err) {
      // Aborted: by the total deadline (the upstream was too slow) or by the caller (says nothing).
      if (state.deadlineHit) breaker?.onFailure(permit);
      else breaker?.onNeutral(permit);
      throw err;
    } finally {
      this.limiter.release();
    }
    if (breaker) {
      const verdict = outcome.ok ? "success" : outcome.verdict;
      if (verdict === "success") breaker.onSuccess(permit);
      else if (verdict === "failure") breaker.onFailure(permit);
      else breaker.onNeutral(permit);
    }
    return outcome;
  }

  /** Sends the request and follows redirects by hand, guarding every hop. Aborts are rethrown. */
  private async exchange<T>(state: State<T>, attempt: number): Promise<Outcome> {
    let target = state.target;
    let method = state.method;
    let body = state.body;
    let headers = state.headers;
    for (let hop = 0; ; hop++) {
      const agent = await this.dispatcher();
      const span = startAttemptSpan(method, target, state.sent++, headers);
      const started = performance.now();
      let res: RawResponse;
      try {
        res = await send(
          agent,
          { origin: target.origin, path: target.path, method, headers, body },
          state.limits,
          state.cancel,
        );
      } catch (err) {
        return this.failed(state, method, span, started, err);
      }
      const status = res.status;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && typeof location === "string") {
        this.observe(span, started, method, status, undefined);
        if (hop >= MAX_REDIRECTS) {
          return refused(
            redirectError(this.ctxOf(state), `more than ${MAX_REDIRECTS} redirects`, attempt + 1),
          );
        }
        let next: URL;
        try {
          next = new URL(location, target.origin + target.path);
        } catch {
          return refused(
            redirectError(this.ctxOf(state), "the upstream sent an invalid redirect location", attempt + 1),
          );
        }
        const refusal = this.redirectRefusal(state, target, next, attempt + 1);
        if (refusal) return refused(refusal);
        const nextTarget: Target = {
          origin: next.origin,
          protocol: next.protocol,
          hostname: next.hostname,
          port: defaultPort(next),
          path: next.pathname + next.search,
        };
        if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
          headers = { ...headers };
          delete headers["content-type"];
        }
        if (nextTarget.hostname !== target.hostname) {
          headers = { ...headers };
          for (const name of CREDENTIAL_HEADERS) delete headers[name];
        }
        target = nextTarget;
        continue;
      }
      if ((status >= 200 && status < 300) || status === 304) {
        this.observe(span, started, method, status, undefined);
        return { ok: true, status, headers: res.headers, body: res.body };
      }
      const snippet = res.body;
      this.observe(span, started, method, status, String(status));
      const responseHeaders = res.headers;
      const now = Date.now();
      let retryAfterMs = parseRetryAfter(responseHeaders["retry-after"], now);
      if (retryAfterMs === undefined && status === 429) {
        const resetAt = rateLimitResetAt(responseHeaders);
        if (resetAt !== undefined) retryAfterMs = Math.max(0, resetAt - now);
      }
      return {
        ok: false,
        retryable: isRetryableStatus(status),
        retryAfterMs,
        verdict: status >= 500 ? "failure" : "success",
        error: (attempts) =>
          statusError(
            this.ctxOf(state),
            status,
            responseHeaders,
            snippet,
            attempts,
            Date.now(),
            this.errorHeaders,
          ),
      };
    }
  }

  /** A thrown exchange: aborts are recorded and rethrown (the caller maps them), the rest classified. */
  private failed<T>(
    state: State<T>,
    method: HttpMethod,
    span: Span | undefined,
    started: number,
    err: unknown,
  ): Outcome {
    if (state.cancel.aborted) {
      this.observe(span, started, method, undefined, state.deadlineHit ? "timeout" : "cancelled");
      throw err;
    }
    const failure = transportFailure(this.ctxOf(state), err);
    this.observe(span, started, method, undefined, failure.kind);
    return {
      ok: false,
      retryable: failure.retryable,
      retryAfterMs: undefined,
      verdict: failure.upstreamFault ? "failure" : "neutral",
      error: failure.build,
    };
  }

  /** The response of a successful attempt, from the cache on a 304, decoded and validated. */
  private finish<T>(state: State<T>, outcome: Extract<Outcome, { ok: true }>): HttpResponse<T> {
    let { status, headers, body } = outcome;
    let fromCache = false;
    if (status === 304 && state.cached) {
      const fresh: HttpHeaders = { ...headers };
      delete fresh["content-length"];
      headers = { ...state.cached.headers, ...fresh };
      status = state.cached.status;
      body = state.cached.body;
      fromCache = true;
    } else if (state.cacheKey !== undefined && this.cache) {
      const etag = headers.etag;
      if (status === 200 && typeof etag === "string") {
        this.cache.set(state.cacheKey, { etag, status, headers, body });
      } else {
        this.cache.delete(state.cacheKey);
      }
    }
    const { responseType, expect } = state.options;
    let data: unknown;
    if (responseType === "bytes") {
      data = body;
    } else if (body.length === 0) {
      data = undefined;
    } else {
      const contentType = headers["content-type"];
      const type = typeof contentType === "string" ? contentType : "";
      if (responseType === "json" || (responseType === undefined && (expect || type.includes("json")))) {
        try {
          data = JSON.parse(body.toString("utf8"));
        } catch (err) {
          throw decodeError(this.ctxOf(state), status, type, err);
        }
      } else {
        data = body.toString("utf8");
      }
    }
    if (expect) {
      const result = expect.safeParse(data);
      if (!result.success) throw schemaError(this.ctxOf(state), status, result.error.issues);
      data = result.data;
    }
    return { status, headers, data: data as T, fromCache };
  }

  private observe(
    span: Span | undefined,
    started: number,
    method: HttpMethod,
    status: number | undefined,
    errorType: string | undefined,
  ): void {
    endAttemptSpan(span, status, errorType);
    if (this.metrics) {
      const label =
        errorType === undefined || (status !== undefined && errorType === String(status))
          ? String(status)
          : errorType === "timeout"
            ? "timeout"
            : "error";
      this.metrics.upstreamDuration.observe(
        { upstream: this.name, method, status: label },
        (performance.now() - started) / 1000,
      );
    }
  }

  private resolveTarget<T>(method: HttpMethod, options: RequestOptions<T>): Target {
    if (options.url !== undefined) {
      if (options.path !== undefined) throw new TypeError(`${this.name}: pass path or url, not both`);
      let url: URL;
      try {
        url = options.url instanceof URL ? options.url : new URL(options.url);
      } catch {
        throw invalidUrlError(this.plainCtx(method, "(invalid URL)"), "the URL is not a valid absolute URL");
      }
      const shown = `${url.origin}${redactPath(url.pathname + url.search)}`;
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw invalidUrlError(
          this.plainCtx(method, shown),
          `only http and https URLs can be fetched, not ${url.protocol}`,
        );
      }
      if (url.username || url.password) {
        throw invalidUrlError(
          this.plainCtx(method, shown),
          "URLs with credentials (user:password@) are refused",
        );
      }
      return {
        origin: url.origin,
        protocol: url.protocol,
        hostname: url.hostname,
        port: defaultPort(url),
        path: appendQuery(url.pathname + url.search, options.query),
      };
    }
    if (!this.base) throw new TypeError(`${this.name}: a request with a path needs the client's baseUrl`);
    const raw = options.path ?? "/";
    // Always under the base: "@evil.example" or "//evil.example" cannot change the host.
    const path = this.basePath + (raw.startsWith("/") ? raw : `/${raw}`);
    const base = this.base;
    return {
      origin: base.origin,
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port,
      path: options.query ? appendQuery(path, options.query) : path,
    };
  }

  private breakerFor(origin: string): CircuitBreaker | undefined {
    if (!this.breakerOptions) return undefined;
    let breaker = this.breakers.get(origin);
    if (!breaker) {
      breaker = new CircuitBreaker(this.breakerOptions);
      this.breakers.set(origin, breaker);
    }
    return breaker;
  }

  /** Why a host may not be called (allow-list, then IP-literal address class), or undefined. */
  private refusalFor(hostname: string): ((ctx: ErrorContext) => ToolshedError) | undefined {
    if (!this.allowList.allows(hostname)) {
      const allowed = this.allowList.describe();
      return (ctx) => hostNotAllowedError(ctx, hostname, allowed);
    }
    if (!this.allowPrivateNetwork) {
      const reason = literalAddressReason(hostname);
      if (reason !== undefined) return (ctx) => privateAddressError(ctx, hostname, `is ${reason}`, 0);
    }
    return undefined;
  }

  /** Checks the first hop's target before anything is sent (the resolved address is checked at connect). */
  private checkTarget<T>(state: State<T>): void {
    const target = state.target;
    const refusal =
      this.base && target.origin === this.base.origin ? this.baseRefusal : this.refusalFor(target.hostname);
    if (refusal) throw refusal(this.ctxOf(state));
  }

  private redirectRefusal<T>(
    state: State<T>,
    from: Target,
    next: URL,
    attempts: number,
  ): ToolshedError | undefined {
    const ctx = this.ctxOf(state);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      return redirectError(ctx, `the upstream redirected to a ${next.protocol} URL`, attempts);
    }
    if (from.protocol === "https:" && next.protocol === "http:") {
      return redirectError(ctx, "the upstream redirected from https to plain http", attempts);
    }
    // The allow-list names hosts, not ports: a hop to another port of the host it comes from (or,
    // from another host, of the base's host) is another service on that machine (an admin port,
    // Redis, a canary), so it is refused; http:80 -> https:443 on the same host is an upgrade.
    const nextPort = defaultPort(next);
    const known =
      next.hostname === from.hostname ? from : next.hostname === this.base?.hostname ? this.base : undefined;
    if (
      known &&
      nextPort !== known.port &&
      !(known.protocol === "http:" && known.port === 80 && next.protocol === "https:" && nextPort === 443)
    ) {
      return redirectError(
        ctx,
        `the upstream redirected to another port of '${next.hostname}' (${known.port} -> ${nextPort})`,
        attempts,
        { redirectHost: next.hostname },
      );
    }
    if (next.hostname !== from.hostname && !this.allowList.allows(next.hostname)) {
      return redirectError(
        ctx,
        `the upstream redirected to another host ('${next.hostname}'), which this client may not call ` +
          `(allowed: ${this.allowList.describe()})`,
        attempts,
        { redirectHost: next.hostname },
      );
    }
    if (!this.allowPrivateNetwork) {
      const reason = literalAddressReason(next.hostname);
      if (reason !== undefined) {
        return redirectError(ctx, `the upstream redirected to '${next.hostname}', ${reason}`, attempts, {
          redirectHost: next.hostname,
        });
      }
    }
    return undefined;
  }

  private ctxOf<T>(state: State<T>): ErrorContext {
    if (state.ctx) return state.ctx;
    const { target, options } = state;
    const shown =
      this.base && target.origin === this.base.origin
        ? redactPath(target.path)
        : `${target.origin}${redactPath(target.path)}`;
    let secrets = this.secrets;
    if (options.headers) {
      const extra: string[] = [];
      for (const [name, value] of Object.entries(options.headers)) {
        if (value !== undefined && isSecretHeader(name)) extra.push(...secretValuesOf(value));
      }
      if (extra.length > 0) secrets = [...secrets, ...extra];
    }
    state.ctx = { upstream: this.name, method: state.method, target: shown, secrets };
    return state.ctx;
  }

  private plainCtx(method: HttpMethod, target: string): ErrorContext {
    return { upstream: this.name, method, target, secrets: this.secrets };
  }
}

function refused(error: ToolshedError): Outcome {
  return { ok: false, retryable: false, retryAfterMs: undefined, verdict: "neutral", error: () => error };
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

function withLocation<T>(
  method: HttpMethod,
  pathOrUrl: string,
  options: RequestOptionsWithoutMethod<T> | undefined,
): RequestOptions<T> {
  const absolute = /^https?:\/\//i.test(pathOrUrl);
  return absolute ? { ...options, method, url: pathOrUrl } : { ...options, method, path: pathOrUrl };
}

function appendQuery(
  path: string,
  query: Record<string, QueryValue | readonly QueryValue[]> | undefined,
): string {
  if (!query) return path;
  let out = "";
  for (const key of Object.keys(query)) {
    const value = query[key];
    const values: readonly QueryValue[] = Array.isArray(value) ? value : [value as QueryValue];
    for (const v of values) {
      if (v === undefined || v === null) continue;
      out += `${out ? "&" : ""}${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`;
    }
  }
  if (!out) return path;
  return `${path}${path.includes("?") ? "&" : "?"}${out}`;
}
