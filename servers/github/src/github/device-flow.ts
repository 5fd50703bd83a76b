import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { ToolshedError } from "@toolshed/server";
import { createHttpClient } from "@toolshed/http-client";
import { UsageError } from "@toolshed/server";
import { DEFAULT_API_URL } from "../config.js";

/** Where `toolshed-github login` keeps the token: $XDG_CONFIG_HOME/toolshed/github-token.json. */
export function defaultTokenFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(homedir(), ".config");
  return path.join(base, "toolshed", "github-token.json");
}

/** GitHub's OAuth host for an API URL: github.com, a GHES host, or a GHE.com tenant. */
export function oauthUrlOf(apiUrl: string): string {
  if (apiUrl === DEFAULT_API_URL) return "https://github.com";
  if (apiUrl.endsWith("/api/v3")) return apiUrl.slice(0, -"/api/v3".length);
  const url = new URL(apiUrl);
  if (url.hostname.startsWith("api.") && url.hostname.endsWith(".ghe.com")) {
    return `${url.protocol}//${url.hostname.slice(4)}`;
  }
  return apiUrl.replace(/\/+$/, "");
}

interface DeviceCode {
  device_code: string;
  user_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
}

/**
 * GitHub's OAuth device flow: asks for a user code, tells the user where to enter it, and polls
 * until they have (honouring `interval` and `slow_down`), they refuse, or the code expires.
 */
export async function deviceLogin(opts: {
  apiUrl: string;
  clientId: string;
  scopes: string;
  tell: (line: string) => void;
  signal?: AbortSignal;
}): Promise<{ token: string; scope: string }> {
  const oauthUrl = oauthUrlOf(opts.apiUrl);
  const http = createHttpClient({
    name: "github-oauth",
    baseUrl: oauthUrl,
    headers: { accept: "application/json", "user-agent": "toolshed-github-mcp" },
    allowPrivateNetwork: oauthUrl !== "https://github.com",
  });
  const form = (fields: Record<string, string>) => ({
    method: "POST" as const,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    const code = (
      await http.request<Partial<DeviceCode> & { error?: string; error_description?: string }>({
        path: "/login/device/code",
        ...form({ client_id: opts.clientId, scope: opts.scopes }),
      })
    ).data;
    if (!code?.device_code || !code.user_code || !code.verification_uri) {
      throw new ToolshedError(
        "invalid_input",
        `GitHub refused the device code request: ${code?.error_description ?? code?.error ?? "no device code"} (is device flow enabled for the OAuth app ${opts.clientId}?)`,
      );
    }
    opts.tell(`Open ${code.verification_uri} and enter the code ${code.user_code}`);
    let interval = Math.max(1, code.interval ?? 5) * 1000;
    const deadline = Date.now() + (code.expires_in ?? 900) * 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, interval));
      const answer = (
        await http.request<{
          access_token?: string;
          scope?: string;
          error?: string;
          error_description?: string;
          interval?: number;
        }>({
          path: "/login/oauth/access_token",
          ...form({
            client_id: opts.clientId,
            device_code: code.device_code,
            grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          }),
        })
      ).data;
      if (answer?.access_token) return { token: answer.access_token, scope: answer.scope ?? "" };
      switch (answer?.error) {
        case "authorization_pending":
          continue;
        case "slow_down":
          interval = Math.max(interval + 5000, (answer.interval ?? 0) * 1000);
          continue;
        case "access_denied":
          throw new ToolshedError("forbidden", "the login was cancelled on GitHub; run login again");
        case "expired_token":
          throw new ToolshedError("timeout", "the code expired before it was entered; run login again");
        default:
          throw new ToolshedError(
            "invalid_input",
            `GitHub refused the login: ${answer?.error_description ?? answer?.error ?? "no token"}`,
          );
      }
    }
    throw new ToolshedError("timeout", "the code expired before it was entered; run login again");
  } finally {
    await http.close();
  }
}

/** Writes the token readable by its owner only (0600, in a 0700 folder), replacing any earlier one. */
export async function storeToken(file: string, token: string, scope: string, apiUrl: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const body = JSON.stringify({ token, scope, api_url: apiUrl, created_at: new Date().toISOString() });
  await writeFile(tmp, `${body}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** The token `login` stored, when there is one; a file others can read is refused. */
export function storedToken(file: string): string | undefined {
  let info;
  try {
    info = statSync(file);
  } catch {
    return undefined;
  }
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new UsageError(`the stored GitHub token ${file} is readable by others: run chmod 600 on it`);
  }
  try {
    const token = (JSON.parse(readFileSync(file, "utf8")) as { token?: unknown }).token;
    return typeof token === "string" && token ? token : undefined;
  } catch {
    throw new UsageError(`the stored GitHub token ${file} is not valid; run toolshed-github login again`);
  }
}
