#!/usr/bin/env node
import { main, parseCommandLine, UsageError } from "@toolshed/server";
import { apiUrlOf, type Config } from "./config.js";
import { defaultTokenFile, deviceLogin, storeToken } from "./github/device-flow.js";
import server from "./server.js";

const args = process.argv.slice(2);

/** `toolshed-github login`: GitHub's device flow; the token goes to a 0600 file, never to a log. */
async function login(): Promise<void> {
  const parsed = parseCommandLine(server, args.slice(1), process.env);
  if (parsed.kind !== "run") {
    process.stderr.write(
      "toolshed-github login: logs in with GitHub's device flow and stores the token (mode 0600).\n" +
        "Needs GITHUB_OAUTH_CLIENT_ID; takes GITHUB_HOST, GITHUB_OAUTH_SCOPES and --token-file like the server.\n",
    );
    return;
  }
  const config = parsed.config as Config;
  if (!config.oauthClientId) {
    throw new UsageError(
      "login needs an OAuth app: set GITHUB_OAUTH_CLIENT_ID (an OAuth or GitHub App client id with device flow enabled)",
    );
  }
  const apiUrl = apiUrlOf(config);
  const file = config.tokenFile ?? defaultTokenFile();
  const { token, scope } = await deviceLogin({
    apiUrl,
    clientId: config.oauthClientId,
    scopes: config.oauthScopes,
    tell: (line) => process.stderr.write(`${line}\n`),
  });
  await storeToken(file, token, scope, apiUrl);
  process.stderr.write(
    `Logged in (scopes: ${scope || "none"}); the token is stored in ${file} (mode 0600)\n`,
  );
}

if (args[0] === "login") {
  login().then(
    () => process.exit(0),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`toolshed-github login: ${message}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
} else {
  main(server);
}
