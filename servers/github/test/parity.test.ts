import { readFileSync } from "node:fs";
import { format } from "prettier";
import { capabilityTable } from "../src/capabilities.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "@toolshed/server";
import { apiUrlOf, configSchema } from "../src/config.js";
import { OFFICIAL_TOOLS } from "../src/official.js";
import { ALL_TOOLS, selectTools, toolName } from "../src/toolsets.js";
import { ownFixture } from "./fake-github.js";
import { call, harness, type Harness } from "./helpers.js";

/** The official server's capabilities that Toolshed lacked, against a loopback GitHub. */
describe("the official server's capabilities, over the loopback GitHub", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness([ownFixture("repos"), ownFixture("parity")], { toolsets: ["all"] });
  });
  afterAll(() => h.close());
  const R = { owner: "octocat", repo: "Hello-World" };
  const sent = (method: string, p: string) =>
    h.fake.requests.filter((r) => r.method === method && r.path.split("?")[0] === p);

  it("get_team_members: get_me with team", async () => {
    const r = await call(h.client, "get_me", { team: "github/justice-league" });
    expect(r.data.team_members).toEqual(["octocat", "hubot"]);
    const bad = await call(h.client, "get_me", { team: "justice-league" });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain("org/slug");
  });

  it("get_tag and get_release_by_tag: list_refs kind tag / release", async () => {
    const tag = await call(h.client, "list_refs", { ...R, kind: "tag", name: "v0.0.1" });
    expect(tag.data).toMatchObject({
      name: "v0.0.1",
      sha: "c3d0be41ecbe669545ee3e94d31ed9a4bc91ee3c",
      tagger: "Monalisa Octocat",
      message: "initial version\n", // the zero-width space is cleaned away
    });
    const rel = await call(h.client, "list_refs", { ...R, kind: "release", name: "v1.0.0" });
    expect(rel.data).toMatchObject({ tag: "v1.0.0" });
    const none = await call(h.client, "list_refs", { ...R, kind: "tag" });
    expect(none.isError).toBe(true);
    expect(none.text).toContain("needs name");
  });

  it("get_label, list_issue_types, list_issue_fields, list_repository_collaborators: list_issue_options", async () => {
    const label = await call(h.client, "list_issue_options", { ...R, kind: "label", name: "bug" });
    expect(label.data).toEqual({ name: "bug", color: "f29513", description: "Something isn't working" });
    const types = await call(h.client, "list_issue_options", { owner: "octo-org", kind: "types" });
    expect(types.data.items).toEqual([
      { name: "Task", description: "A specific piece of work", color: "yellow" },
      { name: "Bug", description: "An unexpected problem or behavior", color: "red" },
    ]);
    const fields = await call(h.client, "list_issue_options", { owner: "octo-org", kind: "fields" });
    expect(fields.data.items).toEqual([
      { name: "Priority", type: "SINGLE_SELECT", description: "How urgent", options: ["P0", "P1"] },
      { name: "Due date", type: "DATE" },
    ]);
    const gql = sent("POST", "/graphql").at(-1)!;
    expect(gql.headers["graphql-features"]).toBe("issue_fields,repo_issue_fields");
    const q = JSON.parse(gql.body) as { query: string; variables: unknown };
    expect(q.query).toContain("organization(login: $owner)");
    expect(q.variables).toEqual({ owner: "octo-org" });
    const people = await call(h.client, "list_issue_options", { ...R, kind: "collaborators" });
    expect(people.data.items).toEqual([
      { login: "octocat", permission: "admin" },
      { login: "hubot", permission: "write" },
    ]);
  });

  it("add_reply_to_pull_request_comment: issue_write method=comment with reply_to", async () => {
    const r = await call(h.client, "issue_write", {
      method: "comment",
      ...R,
      issue_number: 1347,
      body: "Thanks",
      reply_to: 10,
    });
    expect(r.data).toMatchObject({ id: 11 });
    expect(
      JSON.parse(sent("POST", "/repos/octocat/Hello-World/pulls/1347/comments/10/replies")[0]!.body),
    ).toEqual({
      body: "Thanks",
    });
  });

  it("assign_copilot_to_issue and request_copilot_review: copilot_write", async () => {
    const a = await call(h.client, "copilot_write", {
      ...R,
      method: "assign_issue",
      number: 1347,
      base_branch: "main",
    });
    expect(a.data).toMatchObject({ number: 1347, assignees: ["Copilot"] });
    expect(JSON.parse(sent("POST", "/repos/octocat/Hello-World/issues/1347/assignees")[0]!.body)).toEqual({
      assignees: ["copilot-swe-agent[bot]"],
      agent_assignment: { target_repo: "octocat/Hello-World", base_branch: "main" },
    });
    // GitHub silently drops an assignee it cannot assign: that is an error, not a success.
    const dropped = await call(h.client, "copilot_write", { ...R, method: "assign_issue", number: 1348 });
    expect(dropped.isError).toBe(true);
    expect(dropped.text).toContain("coding agent must be enabled");
    const rv = await call(h.client, "copilot_write", { ...R, method: "request_review", number: 1347 });
    expect(rv.data).toEqual({ number: 1347, requested_reviewers: ["copilot-pull-request-reviewer[bot]"] });
  });

  it("notification details and subscriptions", async () => {
    const t = await call(h.client, "list_notifications", { thread_id: "1" });
    expect(t.data).toMatchObject({ id: "1", title: "Greetings", repo: "octocat/Hello-World", type: "Issue" });
    const ign = await call(h.client, "notification_write", { method: "ignore", thread_id: "1" });
    expect(ign.data).toEqual({ subscribed: true, ignored: true });
    expect(JSON.parse(sent("PUT", "/notifications/threads/1/subscription")[0]!.body)).toEqual({
      ignored: true,
    });
    const w = await call(h.client, "notification_write", { method: "watch", ...R });
    expect(w.data).toEqual({ subscribed: true, ignored: false });
    expect(JSON.parse(sent("PUT", "/repos/octocat/Hello-World/subscription")[0]!.body)).toEqual({
      subscribed: true,
      ignored: false,
    });
  });

  it("gists, stars, the tree, secret scanning (the secret withheld) and advisories", async () => {
    const g = await call(h.client, "gist_read", { username: "octocat" });
    expect(g.data.items).toEqual([
      expect.objectContaining({
        id: "aa5a315d61ae9438b18d",
        files: [{ filename: "hello_world.rb", language: "Ruby", size: 167 }],
      }),
    ]);
    const made = await call(h.client, "gist_write", {
      method: "create",
      files: { "README.md": "Hello world from GitHub" },
    });
    expect(made.data).toMatchObject({ id: "2decf6c462d9b4418f2", public: false });
    expect(JSON.parse(sent("POST", "/gists")[0]!.body)).toEqual({
      files: { "README.md": { content: "Hello world from GitHub" } },
      public: false,
    });
    expect((await call(h.client, "star_write", { method: "star", ...R })).data).toEqual({
      repo: "octocat/Hello-World",
      starred: true,
    });
    const tree = await call(h.client, "get_repository_tree", { ...R, ref: "master", path_filter: "subdir" });
    expect(tree.data.entries).toEqual([
      { path: "subdir", type: "tree" },
      { path: "subdir/exec_file", type: "blob", size: 75 },
    ]);
    const alert = await call(h.client, "secret_scanning_alerts", { ...R, alert_number: 42 });
    expect(alert.data).toMatchObject({ number: 42, state: "open", secret_type: "Mailchimp API Key" });
    expect(alert.text).not.toContain("-us2");
    const adv = await call(h.client, "security_advisories", {
      method: "get_global",
      ghsa_id: "GHSA-abcd-1234-efgh",
    });
    expect(adv.data).toMatchObject({
      ghsa_id: "GHSA-abcd-1234-efgh",
      severity: "high",
      packages: ["a-package"],
    });
  });
});

describe("the official server's configuration", () => {
  const base = { tools: [], excludeTools: [], readOnly: false };

  it("maps every official tool to a Toolshed tool, or says it has none", () => {
    const ours = new Set(ALL_TOOLS.map((t) => t.name));
    for (const o of OFFICIAL_TOOLS) {
      if (o.tool) expect(ours.has(o.tool), `${o.name} -> ${o.tool}`).toBe(true);
      else expect(() => toolName(o.name)).toThrow(/no Toolshed equivalent yet/);
    }
    // The README's table has no "not yet" row: every official tool has an equivalent.
    expect(OFFICIAL_TOOLS.filter((o) => !o.tool).map((o) => o.name)).toEqual([]);
    expect(toolName("list_discussions")).toBe("discussion_read");
    expect(toolName("projects_get")).toBe("projects_read");
    // Every official default capability is covered.
    const defaults = OFFICIAL_TOOLS.filter((o) =>
      ["context", "repos", "issues", "pull_requests", "users", "copilot"].includes(o.toolset),
    );
    expect(defaults).toHaveLength(44);
    expect(defaults.filter((o) => !o.tool)).toEqual([]);
    const defaultTools = new Set(selectTools({ ...base, toolsets: undefined }).map((t) => t.name));
    for (const o of defaults) expect(defaultTools.has(o.tool!), o.name).toBe(true);
  });

  it("accepts GITHUB_TOOLSETS=default,gists and GITHUB_TOOLS=issue_read", () => {
    const names = selectTools({ ...base, toolsets: ["default", "gists"] }).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["get_me", "copilot_write", "gist_read", "gist_write"]));
    expect(
      selectTools({ ...base, toolsets: undefined, tools: ["issue_read", "list_branches"] }).map(
        (t) => t.name,
      ),
    ).toEqual(["list_refs", "get_issue"]);
    expect(selectTools({ ...base, toolsets: ["labels"] }).map((t) => t.name)).toEqual([
      "list_issue_options",
      "label_write",
    ]);
  });

  it("refuses an official toolset Toolshed lacks with the valid names, and a typo likewise", () => {
    // copilot_spaces has only feature-flagged tools, which Toolshed leaves aside.
    expect(() => selectTools({ ...base, toolsets: ["copilot_spaces"] })).toThrow(UsageError);
    expect(() => selectTools({ ...base, toolsets: ["copilot_spaces"] })).toThrow(
      /not available in Toolshed yet.*gists/,
    );
    for (const set of ["discussions", "projects", "code_quality"]) {
      expect(selectTools({ ...base, toolsets: [set] }).length, set).toBeGreaterThan(0);
    }
    expect(() => selectTools({ ...base, toolsets: ["isues"] })).toThrow(
      /unknown toolset 'isues'; the toolsets are: default, all/,
    );
  });

  it("reads GITHUB_HOST as the official server does", () => {
    const url = (host: string, apiUrl?: string) =>
      apiUrlOf(configSchema.parse({ githubHost: host, ...(apiUrl ? { apiUrl } : {}) }));
    expect(url("github.com")).toBe("https://api.github.com");
    expect(url("https://github.example.com")).toBe("https://github.example.com/api/v3");
    expect(url("github.example.com")).toBe("https://github.example.com/api/v3");
    expect(url("octocorp.ghe.com")).toBe("https://api.octocorp.ghe.com");
    expect(url("github.example.com", "https://other.example/api/v3")).toBe("https://other.example/api/v3");
    expect(() => url("not a host")).toThrow(/GITHUB_HOST/);
  });
});

it("keeps the README's capability table as the code generates it", async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  expect(readme).toContain(await format(capabilityTable(), { parser: "markdown" }));
});
