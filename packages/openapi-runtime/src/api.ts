// What a generated server's tools share: its API (from the document), its settings and its HTTP client.
import { createHttpClient, type HttpClient } from "@toolshed/http-client";
import type { Overrides } from "./overrides.js";
import { fillTemplate } from "./templates.js";

/** How a security scheme's credential is sent, and the config keys (and env vars) holding it. */
export interface CredentialSpec {
  scheme: string;
  kind: "bearer" | "basic" | "apiKey";
  in?: "header" | "query" | "cookie";
  paramName?: string;
  keys: readonly string[];
  env: readonly string[];
}

export interface ApiInfo {
  /** The upstream's name in metrics and error messages. */
  name: string;
  baseUrlEnv: string;
  /** Hosts of the operations' own servers, which the HTTP client may call besides the base URL's. */
  serverHosts?: readonly string[];
  /** The document's base URL: operations with their own server use it only while baseUrl is this. */
  defaultBaseUrl?: string | null;
  /** The env var of allowPrivateNetwork, named when the SSRF guard refuses an address. */
  privateNetworkEnv?: string;
  credentials: readonly CredentialSpec[];
}

export interface ApiConfig {
  baseUrl: string;
  allowPrivateNetwork: boolean;
  timeoutMs: number;
  /** Refuse answers that drift from the document's schema instead of warning and passing them on. */
  strictAnswers?: boolean;
  /** The most bytes of decoded uploads (base64 bodies and files) one call may send. */
  maxUploadBytes?: number;
  /** Directories whose files a multipart upload may name by path (none: base64 only). */
  uploadDir?: readonly string[];
}

export interface ApiDeps {
  http: HttpClient;
  config: ApiConfig & Record<string, unknown>;
  api: ApiInfo;
  /** Query parameters of src/overrides.ts sent with every request (their settings filled in). */
  query: Record<string, string>;
}

export type Metrics = Parameters<typeof createHttpClient>[0]["metrics"];

/** The HTTP client every tool of the server calls through (opened in setup, closed in teardown). */
export function createApiDeps(
  config: ApiConfig,
  api: ApiInfo,
  metrics?: Metrics,
  overrides: Overrides = {},
): ApiDeps {
  const settings = config as ApiConfig & Record<string, unknown>;
  const filled = (templates: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(
      Object.entries(templates ?? {}).flatMap(([k, t]) => {
        const v = fillTemplate(t, settings);
        return v === undefined ? [] : [[k, v]];
      }),
    );
  const http = createHttpClient({
    name: api.name,
    // Hosts of operations with their own server (uploads.github.com) besides the base URL's.
    allowHosts: [new URL(config.baseUrl).hostname, ...(api.serverHosts ?? [])],
    // Client-level headers are never copied into errors, logs or spans.
    headers: filled(overrides.headers),
    baseUrl: config.baseUrl,
    allowPrivateNetwork: config.allowPrivateNetwork,
    timeouts: { totalMs: config.timeoutMs },
    ...(metrics ? { metrics } : {}),
  });
  return { http, config: settings, api, query: filled(overrides.query) };
}
