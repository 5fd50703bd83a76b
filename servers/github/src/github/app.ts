import { createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { toToolshedError, ToolshedError } from "@toolshed/server";
import type { HttpClient } from "@toolshed/http-client";
import { UsageError } from "@toolshed/server";
import type { Config } from "../config.js";

/** A token is replaced this long before it expires (GitHub's installation tokens live one hour). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** The app's private key from GITHUB_APP_PRIVATE_KEY_PATH or GITHUB_APP_PRIVATE_KEY (PKCS#1 or PKCS#8 PEM). */
export function appKey(config: Pick<Config, "appPrivateKeyPath" | "appPrivateKey">): KeyObject {
  let pem = config.appPrivateKey?.replace(/\\n/g, "\n");
  if (config.appPrivateKeyPath) {
    try {
      pem = readFileSync(config.appPrivateKeyPath, "utf8");
    } catch (err) {
      throw new UsageError(
        `cannot read the GitHub App private key ${config.appPrivateKeyPath} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  if (!pem) {
    throw new UsageError(
      "a GitHub App needs its private key: set GITHUB_APP_PRIVATE_KEY_PATH (the .pem from the app's settings) or GITHUB_APP_PRIVATE_KEY",
    );
  }
  try {
    return createPrivateKey(pem);
  } catch {
    // The parser's message is not repeated: it could quote the key.
    throw new UsageError(
      "the GitHub App private key is not a PEM private key; give the RSA key generated in the app's settings",
    );
  }
}

/**
 * Installation access tokens of a GitHub App: a 9-minute RS256 JWT signed with the app's key is
 * exchanged for an installation token, reused until 5 minutes before it expires, then replaced.
 * Concurrent calls share one exchange. Neither the key, the JWT nor a token is ever logged.
 */
export class AppTokens {
  private current: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;
  /** Installation tokens minted so far. */
  minted = 0;

  constructor(
    private readonly http: HttpClient,
    private readonly appId: string,
    private readonly installationId: number,
    private readonly key: KeyObject,
  ) {}

  async token(signal: AbortSignal): Promise<string> {
    const c = this.current;
    if (c && c.expiresAt - Date.now() > REFRESH_MARGIN_MS) return c.token;
    this.pending ??= this.mint(signal).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async mint(signal: AbortSignal): Promise<string> {
    // jose is loaded by the first mint: a server on a token never loads it.
    const { SignJWT } = await import("jose");
    const now = Math.floor(Date.now() / 1000);
    // iat 60 s in the past allows for clock drift, as GitHub recommends; exp at most 10 min ahead.
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer(this.appId)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + 540)
      .sign(this.key);
    const where = `POST /app/installations/${this.installationId}/access_tokens`;
    let res;
    try {
      res = await this.http.request<{ token?: unknown; expires_at?: unknown }>({
        method: "POST",
        path: `/app/installations/${this.installationId}/access_tokens`,
        headers: { authorization: `Bearer ${jwt}` },
        idempotent: true, // a repeated exchange only mints another token
        signal,
      });
    } catch (err) {
      const e = toToolshedError(err);
      const status = e.details?.status;
      if (status === 401) {
        throw new ToolshedError(
          "unauthenticated",
          `GitHub rejected the app's JWT on ${where} (401): check GITHUB_APP_ID, the private key, the host and this machine's clock`,
          { cause: e },
        );
      }
      if (status === 404) {
        throw new ToolshedError(
          "unauthenticated",
          `GitHub has no installation ${this.installationId} for this app (404): check GITHUB_APP_INSTALLATION_ID and that the app is installed`,
          { cause: e },
        );
      }
      throw e;
    }
    const token = res.data?.token;
    const expiresAt = Date.parse(String(res.data?.expires_at));
    if (typeof token !== "string" || !token || !Number.isFinite(expiresAt)) {
      throw new ToolshedError("upstream_error", `GitHub's answer to ${where} has no token and expires_at`);
    }
    this.current = { token, expiresAt };
    this.minted++;
    return token;
  }
}
