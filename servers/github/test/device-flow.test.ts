import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnStdioServer } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { oauthUrlOf } from "../src/github/device-flow.js";
import { FakeGitHub, ownFixture, type Recording } from "./fake-github.js";

/* `toolshed-github login` against a loopback GitHub OAuth server, then the server using the token. */

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
const TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
const json = { "content-type": "application/json; charset=utf-8" };
/** GitHub's answers, as its device-flow docs show them (interval shortened to keep the test quick). */
const OAUTH: Recording[] = [
  {
    method: "post",
    path: "/login/device/code",
    status: 200,
    headers: json,
    response: {
      device_code: "3584d83530557fdd1f46af8289938c8ef79f9dc5",
      user_code: "WDJB-MJHT",
      verification_uri: "https://github.com/login/device",
      expires_in: 900,
      interval: 1,
    },
  },
  {
    method: "post",
    path: "/login/oauth/access_token",
    status: 200,
    headers: json,
    response: {
      error: "authorization_pending",
      error_description: "The authorization request is still pending.",
      error_uri:
        "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow",
    },
  },
  {
    method: "post",
    path: "/login/oauth/access_token",
    status: 200,
    headers: json,
    response: { access_token: TOKEN, token_type: "bearer", scope: "repo,gist" },
  },
];

let fake: FakeGitHub;
let dir: string;
beforeAll(async () => {
  fake = (await FakeGitHub.start()).load(OAUTH, ownFixture("issues"));
  dir = mkdtempSync(path.join(tmpdir(), "gh-login-"));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

it("logs in with the device flow, stores the token 0600 without printing it, and the server then uses it", async () => {
  const file = path.join(dir, "nested", "github-token.json");
  const r = await run(["login"], {
    GITHUB_API_URL: fake.url,
    GITHUB_OAUTH_CLIENT_ID: "Iv1.8a61f9b3a7aba766",
    TOOLSHED_TOKEN_FILE: file,
  });
  expect(r.stderr).toContain("Open https://github.com/login/device and enter the code WDJB-MJHT");
  expect(r.code).toBe(0);
  expect(r.stderr).not.toContain(TOKEN);
  expect(r.stdout).toBe("");
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ token: TOKEN, scope: "repo,gist" });
  // The poll: one pending answer, then the token, each with the device-code grant.
  const polls = fake.requests.filter((q) => q.path === "/login/oauth/access_token");
  expect(polls).toHaveLength(2);
  expect(new URLSearchParams(polls[0]!.body).get("grant_type")).toBe(
    "urn:ietf:params:oauth:grant-type:device_code",
  );
  expect(
    new URLSearchParams(fake.requests.find((q) => q.path === "/login/device/code")!.body).get("client_id"),
  ).toBe("Iv1.8a61f9b3a7aba766");

  // No GITHUB_TOKEN: the server reads the stored one.
  const proc = await spawnStdioServer(process.execPath, [bin, "--toolsets", "issues"], {
    env: {
      GITHUB_API_URL: fake.url,
      TOOLSHED_TOKEN_FILE: file,
      GITHUB_TOKEN: "",
      GITHUB_PERSONAL_ACCESS_TOKEN: "",
      TOOLSHED_GITHUB_TOKEN: "",
    },
  });
  try {
    await proc.client.callTool({
      name: "get_issue",
      arguments: { owner: "octo-org", repo: "widgets", issue_number: 3, comments: 0 },
    });
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(proc.nonProtocolLines()).toEqual([]);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});

it("says what to set when no OAuth app is given, and maps hosts to their OAuth server", async () => {
  const r = await run(["login"], { TOOLSHED_TOKEN_FILE: path.join(dir, "never.json") });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/GITHUB_OAUTH_CLIENT_ID/);
  expect(oauthUrlOf("https://api.github.com")).toBe("https://github.com");
  expect(oauthUrlOf("https://ghe.example.com/api/v3")).toBe("https://ghe.example.com");
  expect(oauthUrlOf("https://api.octocorp.ghe.com")).toBe("https://octocorp.ghe.com");
});
