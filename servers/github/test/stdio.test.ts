import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { connectHttpClient, spawnStdioServer, startTestHttpServer } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { FakeGitHub, octokitScenario, ownFixture } from "./fake-github.js";
import { TOKEN } from "./helpers.js";

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
let fake: FakeGitHub;
beforeAll(async () => {
  fake = (await FakeGitHub.start()).load(
    octokitScenario("api.github.com/search-issues"),
    ownFixture("issues"),
  );
});
afterAll(async () => fake.close());

it("runs the built bin over stdio with flags and env twins, and keeps stdout for the protocol", async () => {
  const proc = await spawnStdioServer(process.execPath, [bin, "--toolsets", "issues", "--read-only"], {
    env: {
      GITHUB_API_URL: fake.url,
      GITHUB_PERSONAL_ACCESS_TOKEN: TOKEN,
      GITHUB_TOKEN: "",
      TOOLSHED_GITHUB_TOKEN: "",
    },
  });
  try {
    const { tools } = await proc.client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "list_issues",
      "get_issue",
      "search_issues",
      "list_issue_options",
    ]);
    const r = (await proc.client.callTool({
      name: "get_issue",
      arguments: { owner: "octo-org", repo: "widgets", issue_number: 3, comments: 0 },
    })) as unknown as { structuredContent: { number: number } };
    expect(r.structuredContent.number).toBe(3);
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(proc.nonProtocolLines()).toEqual([]);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});

it("starts with no token at all (as `pnpm start` runs it) and lists the default tools", async () => {
  // Empty values count as unset, whatever the test's own environment holds.
  const env = {
    GITHUB_TOKEN: "",
    GITHUB_PERSONAL_ACCESS_TOKEN: "",
    TOOLSHED_GITHUB_TOKEN: "",
    GITHUB_API_URL: fake.url,
    // Nor a token an earlier `toolshed-github login` stored on this machine.
    TOOLSHED_TOKEN_FILE: "/nonexistent/github-token.json",
  };
  const proc = await spawnStdioServer(process.execPath, [bin], { env });
  try {
    const { tools } = await proc.client.listTools();
    expect(tools).toHaveLength(18);
    const me = (await proc.client.callTool({ name: "get_me", arguments: {} })) as unknown as {
      isError?: boolean;
      structuredContent: { authenticated: boolean };
    };
    expect(me.structuredContent.authenticated).toBe(false);
    const write = (await proc.client.callTool({
      name: "issue_write",
      arguments: { method: "comment", owner: "o", repo: "r", issue_number: 1, body: "hi" },
    })) as { isError?: boolean; content: { text: string }[] };
    expect(write.isError).toBe(true);
    expect(write.content[0]!.text).toMatch(/needs a GitHub token/);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});

it("exits with a usage error for an unknown toolset", async () => {
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync(process.execPath, [bin, "--toolsets", "nope"], { encoding: "utf8", timeout: 20_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/unknown toolset 'nope'/);
  expect(r.stdout).toBe("");
});

it("serves over Streamable HTTP to the real SDK client", async () => {
  const config = configSchema.parse({ apiUrl: fake.url });
  const http = await startTestHttpServer(server, {}, { config });
  const client = await connectHttpClient(http.url);
  try {
    const r = (await client.callTool({
      name: "search_issues",
      arguments: { query: "sesame repo:octokit-fixture-org/search-issues" },
    })) as unknown as { structuredContent: { total_count: number } };
    expect(r.structuredContent.total_count).toBe(2);
  } finally {
    await client.close();
    await http.close();
  }
});

it("takes the official server's configuration: GITHUB_TOOLSETS=default,gists, GITHUB_TOOLS=issue_read, GITHUB_HOST", async () => {
  const proc = await spawnStdioServer(process.execPath, [bin], {
    env: {
      GITHUB_TOOLSETS: "default,gists",
      GITHUB_TOOLS: "issue_read",
      GITHUB_HOST: fake.url, // http://127.0.0.1:PORT: a GHES host, so its API is under /api/v3
      GITHUB_PERSONAL_ACCESS_TOKEN: TOKEN,
      GITHUB_API_URL: "",
      GITHUB_TOKEN: "",
      TOOLSHED_GITHUB_TOKEN: "",
    },
  });
  try {
    const { tools } = await proc.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(["get_issue", "copilot_write", "gist_read"]),
    );
    await proc.client.callTool({ name: "get_issue", arguments: { owner: "o", repo: "r", issue_number: 1 } });
    expect(fake.requests.at(-1)!.path).toMatch(/^\/api\/v3\/repos\/o\/r\/issues\/1/);
    expect(proc.nonProtocolLines()).toEqual([]);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});
