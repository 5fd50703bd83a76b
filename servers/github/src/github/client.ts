import { isToolshedError, toToolshedError, ToolshedError } from "@toolshed/server";
import { createHttpClient, type HttpClient, type HttpHeaders, type QueryValue } from "@toolshed/http-client";
import type { SetupContext } from "@toolshed/server";
import type { Config } from "../config.js";
import { apiUrlOf, DEFAULT_API_URL } from "../config.js";
import { AppTokens, appKey } from "./app.js";
import { defaultTokenFile, storedToken } from "./device-flow.js";
import { pageInfo, type PageInfo } from "./pagination.js";
import { describePermission, type PermissionKey } from "./permissions.js";

export interface GitHubRequest {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Under the API base, segments already encoded (see `path`). */
  path: string;
  /** An absolute URL instead of `path` (GraphQL on GitHub Enterprise Server lives outside /api/v3). */
  url?: string;
  /** Extra request headers (e.g. GraphQL-Features). */
  headers?: Record<string, string>;
  query?: Record<string, QueryValue | readonly QueryValue[]>;
  body?: unknown;
  /** Media type, e.g. `application/vnd.github.diff`; JSON by default. */
  accept?: string;
  /** Decode the body as text (diffs, logs). */
  text?: boolean;
  /** What the call needs; with `auth: "required"` it is refused before sending when there is no token. */
  permission: PermissionKey;
  auth?: "required" | "optional";
  signal: AbortSignal;
  /** For list calls: the page and per_page asked for, to report where the answer sits. */
  page?: { page: number; per_page: number };
}

export interface GitHubResponse<T> {
  status: number;
  data: T;
  headers: HttpHeaders;
  page: PageInfo | undefined;
  fromCache: boolean;
}

interface RateState {
  limit: number;
  remaining: number;
  /** Epoch ms. */
  resetAt: number;
}

/** One path segment, encoded; "." and ".." (which a URL resolves away) and empty ones are refused. */
function segment(value: string | number, what: string): string {
  const text = String(value);
  if (text === "" || text === "." || text === "..") {
    throw new ToolshedError("invalid_input", `'${text}' is not a valid ${what}; give a GitHub name`);
  }
  return encodeURIComponent(text);
}

/** Encodes each interpolated value as one path segment: path`/repos/${owner}/${repo}`. */
export function path(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += segment(value, "name or number") + strings[i + 1]!;
  });
  return out;
}

/** A file path inside a repository: each segment encoded, slashes kept, no "." or ".." segments. */
export function filePath(p: string): string {
  return p
    .split("/")
    .filter((s) => s !== "")
    .map((s) => segment(s, "path segment"))
    .join("/");
}

const EXPOSED = [
  "retry-after",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "x-ratelimit-resource",
  "x-accepted-github-permissions",
  "x-accepted-oauth-scopes",
  "x-oauth-scopes",
  "x-github-sso",
];

/** GitHub's own wait when a secondary limit names none: "wait at least one minute". */
const SECONDARY_DEFAULT_WAIT_MS = 60_000;
const RATE_RETRIES = 3;

function header(headers: HttpHeaders | Record<string, string> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

function inSeconds(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s >= 120 ? `${Math.ceil(s / 60)} min` : `${s} s`;
}

/**
 * GitHub REST through the shared HTTP client: auth, API version, ETag revalidation (304s cost no
 * rate limit), waits on secondary limits, fast failure while a primary limit is used up, and error
 * messages that say which permission or token is missing.
 */
export class GitHub {
  readonly authenticated: boolean;
  readonly apiUrl: string;
  readonly http: HttpClient;
  private readonly maxWaitMs: number;
  private readonly rates = new Map<string, RateState>();
  /** A caller's own token, sent instead of the server's (see `as`). */
  private readonly authorization: string | undefined;
  /** The server's instance, for a caller's view. */
  private readonly base: GitHub | undefined;
  /** A GitHub App installation's tokens, minted and refreshed (--app-id). */
  readonly app: AppTokens | undefined;
  /** Callers' views by token, each with its own rate-limit state; the oldest is dropped past 1,000. */
  private readonly views = new Map<string, GitHub>();
  /** Retries made after rate-limit answers (the HTTP client counts its own). */
  rateRetries = 0;

  constructor(
    config: Config,
    metrics?: SetupContext<Config>["metrics"],
    caller?: { base: GitHub; token: string },
  ) {
    if (caller) {
      // A caller's view: the server's HTTP client (its ETag cache is keyed by the token too, so no
      // caller is ever answered from another's cache), the caller's token on every request.
      this.base = caller.base;
      this.http = caller.base.http;
      this.apiUrl = caller.base.apiUrl;
      this.maxWaitMs = caller.base.maxWaitMs;
      this.authenticated = true;
      this.authorization = `Bearer ${caller.token}`;
      this.app = undefined;
      return;
    }
    this.base = undefined;
    this.authorization = undefined;
    // Without a token or an app, the token `toolshed-github login` stored, if any.
    const token =
      config.githubToken || (config.appId ? undefined : storedToken(config.tokenFile ?? defaultTokenFile()));
    this.authenticated = Boolean(token || config.appId);
    this.apiUrl = apiUrlOf(config).replace(/\/+$/, "");
    this.maxWaitMs = config.maxRetryWaitSeconds * 1000;
    const headers: Record<string, string> = {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "toolshed-github-mcp",
    };
    if (token) headers.authorization = `Bearer ${token}`;
    this.http = createHttpClient({
      name: "github",
      baseUrl: this.apiUrl,
      headers,
      // An explicitly configured API (GitHub Enterprise Server) often lives on a private network.
      allowPrivateNetwork: this.apiUrl !== DEFAULT_API_URL,
      // Job logs redirect to short-lived URLs on Actions' storage hosts (credentials are not forwarded).
      allowHosts: [
        new URL(this.apiUrl).hostname,
        "*.actions.githubusercontent.com",
        "*.blob.core.windows.net",
      ],
      cache: { maxEntries: 1000, maxBytes: 32 * 1024 * 1024 },
      retry: { attempts: 3, maxRetryAfterMs: this.maxWaitMs },
      timeouts: { totalMs: config.timeoutSeconds * 1000 },
      errorHeaders: EXPOSED,
      ...(metrics ? { metrics } : {}),
    });
    this.app =
      config.appId && config.appInstallationId
        ? new AppTokens(this.http, config.appId, config.appInstallationId, appKey(config))
        : undefined;
  }

  /** The same GitHub acting as the holder of `token` (an HTTP caller's own token). */
  as(token: string, config: Config): GitHub {
    const root = this.base ?? this;
    let view = root.views.get(token);
    if (view) {
      root.views.delete(token); // re-inserted: the Map's first key is the least recently used
    } else {
      view = new GitHub(config, undefined, { base: root, token });
      if (root.views.size >= 1000) root.views.delete(root.views.keys().next().value!);
    }
    root.views.set(token, view);
    return view;
  }

  /** GitHub's GraphQL endpoint: /graphql beside /api/v3 on GHES, api.github.com/graphql otherwise. */
  get graphqlUrl(): string {
    return this.apiUrl.endsWith("/api/v3") ? `${this.apiUrl.slice(0, -3)}graphql` : `${this.apiUrl}/graphql`;
  }

  /**
   * One GraphQL query (for what REST lacks). GraphQL answers errors with 200 and an `errors` list:
   * those become an error naming the first message.
   */
  async graphql<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    opts: { permission: PermissionKey; signal: AbortSignal; features?: string[] },
  ): Promise<T> {
    this.requireToken(opts.permission); // GitHub's GraphQL API takes no anonymous calls
    const res = await this.request<{ data?: T; errors?: { message?: string; type?: string }[] }>({
      method: "POST",
      path: "/graphql",
      url: this.graphqlUrl,
      body: { query, variables },
      permission: opts.permission,
      signal: opts.signal,
      ...(opts.features ? { headers: { "graphql-features": opts.features.join(",") } } : {}),
    });
    const first = res.data?.errors?.[0];
    if (first) {
      const code =
        first.type === "NOT_FOUND" ? "not_found" : first.type === "FORBIDDEN" ? "forbidden" : "invalid_input";
      throw new ToolshedError(
        code,
        `GitHub's GraphQL API refused the query: ${first.message ?? "unknown error"}`,
      );
    }
    return res.data?.data ?? ({} as T);
  }

  /** The rate limits seen so far, by resource (core, search, graphql…). */
  rateLimits(): Record<string, { limit: number; remaining: number; reset: string }> {
    const out: Record<string, { limit: number; remaining: number; reset: string }> = {};
    for (const [k, v] of this.rates) {
      out[k] = { limit: v.limit, remaining: v.remaining, reset: new Date(v.resetAt).toISOString() };
    }
    return out;
  }

  /** Refuses, before any request, a call that cannot work without a token. */
  requireToken(permission: PermissionKey): void {
    if (this.authenticated) return;
    throw new ToolshedError(
      "unauthenticated",
      `this needs a GitHub token and none is set: set GITHUB_TOKEN (${describePermission(permission)}) ` +
        "or run `toolshed-github login`, and restart the server",
    );
  }

  async request<T = unknown>(req: GitHubRequest): Promise<GitHubResponse<T>> {
    const method = req.method ?? "GET";
    if (req.auth === "required") this.requireToken(req.permission);
    const resource = req.path.startsWith("/search/code")
      ? "code_search"
      : req.path.startsWith("/search/")
        ? "search"
        : "core";
    this.refuseWhileExhausted(resource);
    const authorization =
      this.authorization ?? (this.app ? `Bearer ${await this.app.token(req.signal)}` : undefined);
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.http.request<T>({
          method,
          ...(req.url ? { url: req.url } : { path: req.path }),
          ...(req.query ? { query: req.query } : {}),
          ...(req.body !== undefined ? { json: req.body } : {}),
          ...(req.accept || req.headers || authorization
            ? {
                headers: {
                  ...req.headers,
                  ...(req.accept ? { accept: req.accept } : {}),
                  ...(authorization ? { authorization } : {}),
                },
              }
            : {}),
          ...(req.text ? { responseType: "text" as const } : {}),
          // Only reads are repeated after a 5xx or a reset: a PUT (merge, file commit) or DELETE
          // GitHub may have applied is never sent twice.
          idempotent: method === "GET",
          signal: req.signal,
        });
        this.noteRate(res.headers);
        return {
          status: res.status,
          data: res.data,
          headers: res.headers,
          fromCache: res.fromCache,
          page: req.page ? pageInfo(res.headers, req.page.page, req.page.per_page) : undefined,
        };
      } catch (err) {
        const e = toToolshedError(err);
        const headers = e.details?.headers as Record<string, string> | undefined;
        if (headers) this.noteRate(headers);
        const wait = this.rateWait(e, headers);
        // The HTTP client already waited out 429s on reads; 403 secondary limits and 429s on
        // writes (GitHub did not act on them) are retried here.
        const ours = e.details?.status === 403 || method !== "GET";
        if (wait !== undefined && ours && wait <= this.maxWaitMs && attempt < RATE_RETRIES) {
          this.rateRetries++;
          await sleep(wait, req.signal);
          continue;
        }
        throw this.explain(e, req, headers, wait);
      }
    }
  }

  /** A secondary limit or 429 worth waiting for: how long; undefined for anything else. */
  private rateWait(e: ToolshedError, headers: Record<string, string> | undefined): number | undefined {
    const status = e.details?.status;
    if (status !== 403 && status !== 429) return undefined;
    if (header(headers, "x-ratelimit-remaining") === "0") return undefined; // primary: waits are long
    const said = typeof e.details?.upstreamMessage === "string" ? e.details.upstreamMessage : "";
    const secondary = /secondary rate limit|abuse/i.test(said);
    const retryAfter = header(headers, "retry-after");
    // A 403 is a rate limit only when GitHub says so; otherwise it is a permission problem.
    if (status === 403 && !secondary && retryAfter === undefined) return undefined;
    if (retryAfter !== undefined && e.retryAfterMs !== undefined) return e.retryAfterMs;
    return SECONDARY_DEFAULT_WAIT_MS;
  }

  private noteRate(headers: HttpHeaders | Record<string, string>): void {
    const limit = Number(header(headers, "x-ratelimit-limit"));
    const remaining = Number(header(headers, "x-ratelimit-remaining"));
    const reset = Number(header(headers, "x-ratelimit-reset"));
    if (!Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(reset)) return;
    const resource = header(headers, "x-ratelimit-resource") ?? "core";
    this.rates.set(resource, { limit, remaining, resetAt: reset > 1e11 ? reset : reset * 1000 });
  }

  /** While GitHub has said a limit is used up, calls fail at once instead of spending a request. */
  private refuseWhileExhausted(resource: string): void {
    const rate = this.rates.get(resource);
    if (!rate || rate.remaining > 0) return;
    const left = rate.resetAt - Date.now();
    if (left <= 0) return;
    throw this.primaryLimitError(resource, rate, left, 0);
  }

  private primaryLimitError(
    resource: string,
    rate: RateState,
    left: number,
    attempts: number,
  ): ToolshedError {
    const hint = this.authenticated ? "" : "; set GITHUB_TOKEN for 5,000 requests/hour instead of 60";
    return new ToolshedError(
      "rate_limited",
      `GitHub's ${resource} rate limit (${rate.limit}/hour) is used up; it resets at ` +
        `${new Date(rate.resetAt).toISOString()}, retry in ${inSeconds(left)}${hint}`,
      {
        retryAfterMs: left,
        details: { resource, limit: rate.limit, resetAt: new Date(rate.resetAt).toISOString(), attempts },
      },
    );
  }

  /** The HTTP client's error, said in GitHub's terms: which token, permission or wait it needs. */
  private explain(
    e: ToolshedError,
    req: GitHubRequest,
    headers: Record<string, string> | undefined,
    wait: number | undefined,
  ): ToolshedError {
    if (!isToolshedError(e) || e.code === "internal") return e;
    const status = e.details?.status as number | undefined;
    const message = e.details?.upstreamMessage;
    const said = typeof message === "string" && message ? `; GitHub said: "${message}"` : "";
    const where = `${req.method ?? "GET"} ${req.path.split("?")[0]}`;
    const details = { ...e.details };
    delete details.headers;
    const opts = { details, cause: e };
    if ((status === 403 || status === 429) && header(headers, "x-ratelimit-remaining") === "0") {
      const resource = header(headers, "x-ratelimit-resource") ?? "core";
      const rate = this.rates.get(resource);
      if (rate) return this.primaryLimitError(resource, rate, Math.max(0, rate.resetAt - Date.now()), 1);
    }
    if (wait !== undefined) {
      return new ToolshedError(
        "rate_limited",
        `GitHub's secondary rate limit stopped ${where}; retry in ${inSeconds(wait)} ` +
          `(waits longer than ${this.maxWaitMs / 1000} s are not made for you)${said}`,
        { ...opts, retryAfterMs: wait },
      );
    }
    switch (status) {
      case 401:
        return new ToolshedError(
          "unauthenticated",
          `GitHub rejected the token (401) on ${where}: check that GITHUB_TOKEN is valid and not expired${said}`,
          opts,
        );
      case 403: {
        const accepted = header(headers, "x-accepted-github-permissions");
        const scopes = header(headers, "x-accepted-oauth-scopes");
        const has = header(headers, "x-oauth-scopes");
        const sso = header(headers, "x-github-sso");
        const needs = accepted
          ? `fine-grained permission ${accepted.replace(/=/g, ": ")}`
          : scopes
            ? `classic scope ${scopes}${has !== undefined ? ` (the token has: ${has || "none"})` : ""}`
            : describePermission(req.permission);
        const ssoHint = sso ? "; the organization uses SAML SSO: authorize the token for it" : "";
        const tokenHint = this.authenticated ? "" : "; no token is set: set GITHUB_TOKEN";
        return new ToolshedError(
          "forbidden",
          `GitHub refused ${where} (403): the token lacks permission; it needs ${needs}${ssoHint}${tokenHint}${said}`,
          { ...opts, details: { ...details, needs } },
        );
      }
      case 404:
        return new ToolshedError(
          "not_found",
          `GitHub has nothing at ${where} (404): check owner, repo, number or path` +
            (this.authenticated
              ? `; a private resource the token cannot see also answers 404 (needs ${describePermission(req.permission)})`
              : "; if it is private, set GITHUB_TOKEN"),
          opts,
        );
      case 409:
      case 422:
        return new ToolshedError(
          status === 409 ? "conflict" : "invalid_input",
          `GitHub did not accept ${where} (${status})${said || "; check the arguments"}`,
          opts,
        );
      default:
        return e;
    }
  }

  close(): Promise<void> {
    if (this.base) return Promise.resolve(); // a caller's view shares the server's client
    return this.http.close();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(toToolshedError(signal.reason));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(toToolshedError(signal.reason));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
