import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createRuntime, UsageError } from "@toolshed/server";
import { createTestClient } from "@toolshed/testing";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import server, { type Config } from "../src/server.js";
import { FakeGitHub, ownFixture, type Recording } from "./fake-github.js";
import { call } from "./helpers.js";

/* A GitHub App installation: JWT → installation token, refreshed before it expires. */

const { privateKey, publicKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" }, // the format GitHub hands out
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const INSTALL = "/app/installations/4242/access_tokens";

/** GitHub's answer to "Create an installation access token for an app" (201). */
function minted(token: string, expiresInMs: number): Recording {
  return {
    method: "post",
    path: INSTALL,
    status: 201,
    response: {
      token,
      expires_at: new Date(Date.now() + expiresInMs).toISOString().replace(/\.\d+Z$/, "Z"),
      permissions: { issues: "write", contents: "read", metadata: "read" },
      repository_selection: "selected",
    },
    headers: { "content-type": "application/json; charset=utf-8" },
  };
}

let dir: string;
let keyFile: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "gh-app-"));
  keyFile = path.join(dir, "app.pem");
  writeFileSync(keyFile, privateKey, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("GitHub App auth", () => {
  it("exchanges a signed JWT for an installation token and refreshes it before it expires", async () => {
    // The first token expires in 2 minutes (inside the 5-minute margin), the second in an hour.
    const fake = (await FakeGitHub.start()).load(
      [
        minted("ghs_first000000000000000000000000000", 2 * 60_000),
        minted("ghs_second00000000000000000000000000", 3600_000),
      ],
      ownFixture("issues"),
    );
    const config = configSchema.parse({
      apiUrl: fake.url,
      appId: "123456",
      appInstallationId: 4242,
      appPrivateKeyPath: keyFile,
    });
    const t = await createTestClient(server, { config });
    try {
      const args = { owner: "octo-org", repo: "widgets", issue_number: 3, comments: 0 };
      for (let i = 0; i < 3; i++) expect((await call(t.client, "get_issue", args)).isError).toBeUndefined();
      const exchanges = fake.requests.filter((r) => r.path === INSTALL);
      expect(exchanges).toHaveLength(2);
      // The JWT is the app's: RS256, issued by the app id, verifiable with its public key, short-lived.
      const jwt = String(exchanges[0]!.headers.authorization).replace(/^Bearer /, "");
      const { payload, protectedHeader } = await jwtVerify(jwt, await importSpki(publicKey));
      expect(protectedHeader.alg).toBe("RS256");
      expect(payload.iss).toBe("123456");
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(600);
      const reads = fake.requests.filter((r) => r.path.startsWith("/repos/octo-org/widgets/issues/3"));
      expect(reads.map((r) => r.headers.authorization)).toEqual([
        "Bearer ghs_first000000000000000000000000000",
        "Bearer ghs_second00000000000000000000000000",
        "Bearer ghs_second00000000000000000000000000",
      ]);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("says what is wrong when GitHub refuses the app (401) or knows no such installation (404)", async () => {
    const fake = await FakeGitHub.start();
    const config = configSchema.parse({
      apiUrl: fake.url,
      appId: "123456",
      appInstallationId: 4242,
      appPrivateKey: privateKey.replace(/\n/g, "\\n"), // the env var's one-line form
    });
    const t = await createTestClient(server, { config });
    try {
      const args = { owner: "octo-org", repo: "widgets", issue_number: 3 };
      fake.fail("POST", INSTALL, {
        status: 401,
        body: {
          message: "A JSON web token could not be decoded",
          documentation_url: "https://docs.github.com/rest",
          status: "401",
        },
      });
      const bad = await call(t.client, "get_issue", args);
      expect(bad.isError).toBe(true);
      expect(bad.text).toMatch(/rejected the app's JWT.*GITHUB_APP_ID.*clock/);
      fake.fail("POST", INSTALL, { status: 404, body: { message: "Not Found", status: "404" } });
      const none = await call(t.client, "get_issue", args);
      expect(none.text).toMatch(/no installation 4242.*GITHUB_APP_INSTALLATION_ID/);
      expect(fake.requests.filter((r) => r.path.startsWith("/repos/"))).toEqual([]);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("loads jose only to mint (a server on a token never loads it)", () => {
    const built = readFileSync(fileURLToPath(new URL("../dist/github/app.js", import.meta.url)), "utf8");
    expect(built).not.toMatch(/(?:from|import)\s*["']jose["']/);
    expect(built).toContain('import("jose")');
  });

  it("refuses incomplete or conflicting settings at start, without quoting the key", () => {
    const start = (config: Partial<Config>) =>
      createRuntime(server, { config: configSchema.parse(config), logLevel: "silent" });
    expect(() => start({ appId: "1", appPrivateKeyPath: keyFile })).toThrow(/--app-installation-id/);
    expect(() =>
      start({
        appId: "1",
        appInstallationId: 2,
        appPrivateKeyPath: keyFile,
        githubToken: "ghp_x",
      }),
    ).toThrow(/not both/);
    expect(() => start({ appId: "1", appInstallationId: 2 })).toThrow(/GITHUB_APP_PRIVATE_KEY_PATH/);
    const notAKey =
      "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END RSA PRIVATE KEY-----";
    let err: unknown;
    try {
      start({ appId: "1", appInstallationId: 2, appPrivateKey: notAKey });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(String(err)).toMatch(/not a PEM private key/);
    expect(String(err)).not.toContain("c2VjcmV0");
  });
});

async function importSpki(pem: string) {
  const { createPublicKey } = await import("node:crypto");
  return createPublicKey(pem);
}
