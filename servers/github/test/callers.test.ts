import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { authFromSettings } from "@toolshed/server";
import { startTestHttpServer, type TestHttpServer } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { FakeGitHub, ownFixture } from "./fake-github.js";
import { TOKEN } from "./helpers.js";

/* Each HTTP caller acts on GitHub with their own token: two callers, two identities upstream. */

const KEYS = {
  alice: "tsk_alice_0123456789abcdef",
  bob: "tsk_bob_0123456789abcdef",
  carol: "tsk_carol_0123456789ab",
};
const GITHUB = { alice: "github_pat_ALICE000000000000000000", bob: "github_pat_BOB00000000000000000000" };
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const apiKeys = Object.entries(KEYS)
  .map(([id, key]) => `${id}:${sha(key)}:github:read`)
  .join(";");
const silent = { warn() {}, info() {}, error() {}, debug() {} } as never;

let fake: FakeGitHub;
let dir: string;
let file: string;
beforeAll(async () => {
  fake = (await FakeGitHub.start()).load(ownFixture("repos"));
  dir = mkdtempSync(path.join(tmpdir(), "gh-callers-"));
  file = path.join(dir, "callers.json");
  writeFileSync(file, JSON.stringify(GITHUB), { mode: 0o600 });
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(extra: Record<string, unknown>): Promise<TestHttpServer> {
  const config = configSchema.parse({
    apiUrl: fake.url,
    githubToken: TOKEN,
    callerTokensFile: file,
    ...extra,
  });
  const auth = authFromSettings(
    { apiKeys, serverName: "github", authFailureLimit: "off" },
    "http://127.0.0.1/mcp",
    silent,
  );
  return startTestHttpServer(server, { auth: auth! }, { config });
}

async function getMe(server: TestHttpServer, key: string) {
  const client = await server.connect({}, { authorization: `Bearer ${key}` });
  try {
    const before = fake.requests.length;
    const r = (await client.callTool({ name: "get_me", arguments: {} })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    return { r, sent: fake.requests.slice(before) };
  } finally {
    await client.close();
  }
}

describe("per-caller GitHub tokens over HTTP", () => {
  it("sends each caller's own token, and never answers one caller from another's ETag cache", async () => {
    const server = await serve({});
    try {
      const a = await getMe(server, KEYS.alice);
      expect(a.r.isError).toBeUndefined();
      expect(a.sent.map((s) => s.headers.authorization)).toEqual([`Bearer ${GITHUB.alice}`]);
      const b = await getMe(server, KEYS.bob);
      expect(b.sent.map((s) => s.headers.authorization)).toEqual([`Bearer ${GITHUB.bob}`]);
      // Bob's first read is not revalidated with Alice's ETag: the cache is per token.
      expect(b.sent[0]!.headers["if-none-match"]).toBeUndefined();
      const again = await getMe(server, KEYS.alice);
      expect(again.sent[0]!.headers["if-none-match"]).toBeDefined();
      expect(again.sent[0]!.headers.authorization).toBe(`Bearer ${GITHUB.alice}`);
    } finally {
      await server.close();
    }
  });

  it("refuses a caller without a token, naming the fix, unless the server's token is an explicit fallback", async () => {
    const strict = await serve({});
    try {
      const c = await getMe(strict, KEYS.carol);
      expect(c.r.isError).toBe(true);
      expect(c.r.content[0]!.text).toMatch(
        /no GitHub token is set for caller 'carol'.*--server-token-fallback/,
      );
      expect(c.sent).toEqual([]);
    } finally {
      await strict.close();
    }
    const lenient = await serve({ serverTokenFallback: true });
    try {
      const c = await getMe(lenient, KEYS.carol);
      expect(c.r.isError).toBeUndefined();
      expect(c.sent.map((s) => s.headers.authorization)).toEqual([`Bearer ${TOKEN}`]);
    } finally {
      await lenient.close();
    }
  });

  it("rereads the file when it changes, and refuses one that others can read, without quoting tokens", async () => {
    const server = await serve({});
    try {
      writeFileSync(file, JSON.stringify({ ...GITHUB, carol: "github_pat_CAROL0000000000000000" }), {
        mode: 0o600,
      });
      await new Promise((r) => setTimeout(r, 1100)); // the file is checked at most once a second
      const c = await getMe(server, KEYS.carol);
      expect(c.sent.map((s) => s.headers.authorization)).toEqual(["Bearer github_pat_CAROL0000000000000000"]);
      chmodSync(file, 0o644);
      await new Promise((r) => setTimeout(r, 1100));
      const open = await getMe(server, KEYS.alice);
      expect(open.r.isError).toBe(true);
      expect(open.r.content[0]!.text).toMatch(/readable by others \(mode 644\): run chmod 600/);
      expect(open.r.content[0]!.text).not.toContain("github_pat_");
    } finally {
      chmodSync(file, 0o600);
      writeFileSync(file, JSON.stringify(GITHUB), { mode: 0o600 });
      await server.close();
    }
  });
});
