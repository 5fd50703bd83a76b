import { UsageError, z } from "@toolshed/server";

export const DEFAULT_API_URL = "https://api.github.com";

/** `.meta` and `.describe` each replace the other's metadata, so env twins and text go in one call. */
const about = (description: string, ...env: string[]) =>
  env.length ? { description, env } : { description };

export const configSchema = z.object({
  githubToken: z
    .string()
    .optional()
    .meta(
      about(
        "GitHub token (classic or fine-grained PAT, or an app token); without one only public data can be read, at 60 requests/hour.",
        "GITHUB_TOKEN",
        "GITHUB_PERSONAL_ACCESS_TOKEN",
      ),
    ),
  oauthClientId: z
    .string()
    .optional()
    .meta(
      about(
        "`toolshed-github login`: the OAuth app (client id, device flow enabled) to log in with.",
        "GITHUB_OAUTH_CLIENT_ID",
      ),
    ),
  oauthScopes: z
    .string()
    .default("repo read:org gist notifications")
    .meta(about("`toolshed-github login`: the scopes asked for.", "GITHUB_OAUTH_SCOPES")),
  tokenFile: z
    .string()
    .optional()
    .meta(
      about(
        "Where `toolshed-github login` stores the token (mode 0600) and the server reads it when no token is given; default $XDG_CONFIG_HOME/toolshed/github-token.json.",
      ),
    ),
  appId: z
    .string()
    .optional()
    .meta(
      about(
        "GitHub App id (or client id): act as the app's installation instead of a token.",
        "GITHUB_APP_ID",
      ),
    ),
  appInstallationId: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta(
      about("With --app-id: the installation whose access tokens are used.", "GITHUB_APP_INSTALLATION_ID"),
    ),
  appPrivateKeyPath: z
    .string()
    .optional()
    .meta(about("With --app-id: the app's private key (.pem file).", "GITHUB_APP_PRIVATE_KEY_PATH")),
  appPrivateKey: z
    .string()
    .optional()
    .meta(
      about(
        "With --app-id: the private key's PEM text (literal \\n allowed); prefer the env var or a key file to a flag, which other processes can see.",
        "GITHUB_APP_PRIVATE_KEY",
      ),
    ),
  apiUrl: z
    .url()
    .default(DEFAULT_API_URL)
    .meta(about("GitHub REST base URL; https://HOST/api/v3 for GitHub Enterprise Server.", "GITHUB_API_URL")),
  githubHost: z
    .string()
    .optional()
    .meta(
      about(
        "GitHub host, as the official server takes it: github.com, a GHES host (https://HOST/api/v3 is used) or a GHE.com tenant (SUBDOMAIN.ghe.com); --api-url wins when both are given.",
        "GITHUB_HOST",
      ),
    ),
  toolsets: z
    .array(z.string())
    .optional()
    .meta(
      about(
        "Toolsets to enable (the official server's names): context, repos, issues, pull_requests, users, copilot, actions, notifications, gists, stargazers, labels, orgs, git, code_security, secret_protection, dependabot, security_advisories, 'default' (the first six) or 'all'; default: 'default', or none when --tools is given.",
        "GITHUB_TOOLSETS",
      ),
    ),
  tools: z
    .array(z.string())
    .default([])
    .meta(
      about(
        "Tools to enable by name (ours or the official server's), on top of --toolsets (alone: only these).",
        "GITHUB_TOOLS",
      ),
    ),
  dynamicToolsets: z
    .boolean()
    .default(false)
    .meta(
      about(
        "Start with only list_available_toolsets, get_toolset_tools and enable_toolset (plus --toolsets/--tools when given); the model enables toolsets as it needs them.",
        "GITHUB_DYNAMIC_TOOLSETS",
      ),
    ),
  excludeTools: z
    .array(z.string())
    .default([])
    .meta(about("Tools never to list, whatever the toolsets say.", "GITHUB_EXCLUDE_TOOLS")),
  readOnly: z
    .boolean()
    .default(false)
    .meta(about("List only tools that read; write tools are not even listed.", "GITHUB_READ_ONLY")),
  lockdown: z
    .boolean()
    .default(false)
    .meta(
      about(
        "On public repositories, withhold issue, PR and comment text by authors without push access (prompt-injection guard).",
        "GITHUB_LOCKDOWN_MODE",
      ),
    ),
  callerTokensFile: z
    .string()
    .optional()
    .meta(
      about(
        "HTTP with auth: a JSON file (mode 0600) mapping each caller (API key id or JWT sub) to their own GitHub token, so calls act as that user; read again when it changes.",
        "GITHUB_CALLER_TOKENS_FILE",
      ),
    ),
  serverTokenFallback: z
    .boolean()
    .default(false)
    .meta(
      about(
        "With --caller-tokens-file: a caller the file does not name uses the server's token instead of being refused.",
        "GITHUB_SERVER_TOKEN_FALLBACK",
      ),
    ),
  maxRetryWaitSeconds: z
    .number()
    .int()
    .min(0)
    .max(300)
    .default(20)
    .meta(
      about(
        "Longest Retry-After wait (secondary rate limit, 429) before retrying; a longer one fails saying when to retry.",
      ),
    ),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(300)
    .default(30)
    .meta(about("Longest one GitHub request may take, retries included.")),
});

export type Config = z.output<typeof configSchema>;

/**
 * The REST base URL: --api-url when set, else one derived from GITHUB_HOST the way the official
 * server does (github.com, a GHE.com tenant, or a GHES host), else api.github.com.
 */
export function apiUrlOf(config: Pick<Config, "apiUrl" | "githubHost">): string {
  if (config.apiUrl !== DEFAULT_API_URL || !config.githubHost) return config.apiUrl;
  const raw = config.githubHost.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new UsageError(`GITHUB_HOST '${raw}' is not a host name; give e.g. github.example.com`);
  }
  const host = url.hostname.toLowerCase();
  if (host === "github.com" || host === "api.github.com") return DEFAULT_API_URL;
  if (host.endsWith(".ghe.com")) return `${url.protocol}//api.${host.replace(/^api\./, "")}`;
  return `${url.protocol}//${url.host}/api/v3`;
}
