import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  recordChanges,
  spawnStdioServer,
  startTestHttpServer,
  type Client,
  type TestHttpServer,
} from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { FakeGitHub, ownFixture } from "./fake-github.js";
import { call, TOKEN } from "./helpers.js";

// --dynamic-toolsets with real clients: the list starts with the discovery tools, enable_toolset
// adds a toolset's tools and announces it (tools/list_changed), and the added tools answer calls.

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
const DISCOVERY = ["enable_toolset", "get_toolset_tools", "list_available_toolsets"];
const LIST_CHANGED = "notifications/tools/list_changed";
const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
const ISSUE = { owner: "octo-org", repo: "widgets", issue_number: 3, comments: 0 };

let fake: FakeGitHub;
beforeAll(async () => {
  fake = (await FakeGitHub.start()).load(ownFixture("issues"));
});
afterAll(async () => fake.close());

it("over stdio (2026-07-28): discovery tools, then enable_toolset adds issues and says so", async () => {
  const proc = await spawnStdioServer(process.execPath, [bin, "--dynamic-toolsets"], {
    era: "modern",
    env: { GITHUB_API_URL: fake.url, GITHUB_TOKEN: TOKEN, GITHUB_TOOLSETS: "", TOOLSHED_TOOLSETS: "" },
  });
  try {
    const seen = recordChanges(proc.client);
    const sub = await proc.client.listen({ toolsListChanged: true });
    expect(await names(proc.client)).toEqual(DISCOVERY);

    const available = await call(proc.client, "list_available_toolsets");
    const issues = (available.data.toolsets as { name: string; enabled: boolean }[]).find(
      (t) => t.name === "issues",
    );
    expect(issues).toMatchObject({ name: "issues", enabled: false });
    const preview = await call(proc.client, "get_toolset_tools", { toolset: "issues" });
    expect((preview.data.tools as { name: string }[]).map((t) => t.name)).toContain("get_issue");

    const enabled = await call(proc.client, "enable_toolset", { toolset: "issues" });
    expect(enabled.isError).toBeUndefined();
    expect(enabled.data.added).toContain("get_issue");
    await seen.until(LIST_CHANGED);
    expect(await names(proc.client)).toEqual(
      expect.arrayContaining([...DISCOVERY, "get_issue", "list_issues", "issue_write"]),
    );
    expect(await names(proc.client)).not.toContain("list_pull_requests");
    const issue = await call(proc.client, "get_issue", ISSUE);
    expect(issue.data.number).toBe(3);
    await sub.close();
    expect(proc.nonProtocolLines()).toEqual([]);
  } finally {
    expect(await proc.close()).toBe(0);
  }
});

describe("over Streamable HTTP", () => {
  let http: TestHttpServer;
  beforeAll(async () => {
    const config = configSchema.parse({
      apiUrl: fake.url,
      githubToken: TOKEN,
      dynamicToolsets: true,
      toolsets: ["context"],
      readOnly: true,
    });
    http = await startTestHttpServer(server, {}, { config });
  });
  afterAll(async () => http.close(1_000));

  it("tells 2025 and 2026-07-28 clients alike, and every session lists what was enabled", async () => {
    const legacy = await http.connect();
    const modern = await http.connect({}, undefined, "modern");
    try {
      const legacySeen = recordChanges(legacy);
      const modernSeen = recordChanges(modern);
      const sub = await modern.listen({ toolsListChanged: true });
      // --toolsets on top of the discovery tools; --read-only keeps the discovery tools.
      expect(await names(legacy)).toEqual([
        "enable_toolset",
        "get_me",
        "get_toolset_tools",
        "list_available_toolsets",
      ]);

      const enabled = await call(modern, "enable_toolset", { toolset: "issues" });
      expect(enabled.data.added).toEqual(["list_issues", "get_issue", "search_issues", "list_issue_options"]);
      await legacySeen.until(LIST_CHANGED);
      await modernSeen.until(LIST_CHANGED);
      expect(await names(legacy)).toContain("get_issue");
      expect(await names(legacy)).not.toContain("issue_write"); // --read-only
      expect((await call(legacy, "get_issue", ISSUE)).data.number).toBe(3);

      const again = await call(legacy, "enable_toolset", { toolset: "issues" });
      expect(again.data.added).toEqual([]);
      const list = await call(legacy, "list_available_toolsets");
      const states = Object.fromEntries(
        (list.data.toolsets as { name: string; enabled: boolean }[]).map((t) => [t.name, t.enabled]),
      );
      expect(states).toMatchObject({ context: true, issues: true, repos: false });
      expect(states).not.toHaveProperty("copilot"); // it only writes

      const bad = await call(legacy, "enable_toolset", { toolset: "issuez" });
      expect(bad.isError).toBe(true);
      expect(bad.text).toMatch(/unknown toolset 'issuez'; the toolsets are: default, all, context/);
      await sub.close();
    } finally {
      await Promise.allSettled([legacy.close(), modern.close()]);
    }
  });
});
