import { afterEach, describe, expect, it } from "vitest";
import { ownFixture } from "./fake-github.js";
import { call, harness, type Harness } from "./helpers.js";

/* Issue 18's defects, each reproduced against the loopback GitHub. */

const repo = { owner: "octo-org", repo: "widgets" };
const RESET_IN_AN_HOUR = String(Math.floor(Date.now() / 1000) + 3600);
const octocat = {
  login: "octocat",
  id: 1,
  node_id: "MDQ6VXNlcjE=",
  type: "User",
  site_admin: false,
  html_url: "https://github.com/octocat",
};

describe("issue 18 defects", () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it("1: never sends a PUT write (merge, file commit) again after a 502/503", async () => {
    h = await harness([ownFixture("pull-requests"), ownFixture("repos")]);
    const merge = "/repos/octo-org/widgets/pulls/7/merge";
    h.fake.fail("PUT", merge, { status: 502, body: { message: "Server Error" } });
    const m = await call(h.client, "pull_request_write", { method: "merge", ...repo, pull_number: 7 });
    expect(m.isError).toBe(true);
    expect(h.fake.count("PUT", merge)).toBe(1);
    const file = "/repos/octo-org/widgets/contents/README.md";
    h.fake.fail("PUT", file, { status: 503, body: { message: "Service Unavailable" } });
    const f = await call(h.client, "push_files", {
      ...repo,
      message: "docs",
      files: [{ path: "README.md", content: "hi" }],
    });
    expect(f.isError).toBe(true);
    expect(h.fake.count("PUT", file)).toBe(1);
  });

  it("2: a 502 is not 'retryable after 3600s' because of x-ratelimit-reset", async () => {
    h = await harness([ownFixture("issues")]);
    const at = "/repos/octo-org/widgets/issues/3/comments";
    h.fake.fail("POST", at, {
      status: 502,
      headers: {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4990",
        "x-ratelimit-reset": RESET_IN_AN_HOUR,
      },
      body: { message: "Server Error" },
    });
    const r = await call(h.client, "issue_write", {
      method: "comment",
      ...repo,
      issue_number: 3,
      body: "x",
    });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/502/);
    expect(r.text).not.toMatch(/retryable after \d+s/);
    expect(h.fake.count("POST", at)).toBe(1);
  });

  it("4: lockdown withholds a stranger's PR diff on a public repository, and shows a member's", async () => {
    h = await harness([ownFixture("issues"), ownFixture("pull-requests")], { lockdown: true });
    const pr = "/repos/octo-org/widgets/pulls/7";
    const member = await call(h.client, "pull_request_read", { ...repo, pull_number: 7, method: "diff" });
    expect(member.text).toContain("diff --git");
    // The same PR as GitHub describes it when its author has no association with the repository.
    const recorded = ownFixture("pull-requests").find((r) => r.method === "get" && r.path === pr)!;
    const stranger = {
      ...(recorded.response as Record<string, unknown>),
      author_association: "NONE",
      user: { ...octocat, login: "stranger42" },
    };
    h.fake.fail("GET", pr, { status: 200, body: stranger });
    const before = h.fake.count("GET", pr);
    const r = await call(h.client, "pull_request_read", { ...repo, pull_number: 7, method: "diff" });
    expect(r.data).toEqual({ withheld: "[withheld by lockdown mode: @stranger42 has no push access]" });
    expect(r.text).not.toContain("diff --git");
    expect(h.fake.count("GET", pr)).toBe(before + 1); // the PR was looked up, its diff never fetched
  });

  it("5: repository_write create makes a private repository unless told otherwise", async () => {
    h = await harness([]);
    const made = {
      id: 1296269,
      name: "new-repo",
      full_name: "octocat/new-repo",
      owner: octocat,
      private: true,
      html_url: "https://github.com/octocat/new-repo",
      default_branch: "main",
    };
    h.fake.fail("POST", "/user/repos", { status: 201, body: made });
    const r = await call(h.client, "repository_write", { method: "create", name: "new-repo" });
    expect(r.data).toEqual({ full_name: "octocat/new-repo", private: true, default_branch: "main" });
    const sent = h.fake.requests.find((q) => q.method === "POST" && q.path === "/user/repos")!;
    expect(JSON.parse(sent.body)).toMatchObject({ name: "new-repo", private: true });
  });

  it("6: a 403 on actions_run_write names Actions: write", async () => {
    h = await harness([], { toolsets: ["actions"] });
    const at = "/repos/octo-org/widgets/actions/runs/30433642/cancel";
    h.fake.fail("POST", at, {
      status: 403,
      body: {
        message: "Resource not accessible by personal access token",
        documentation_url: "https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run",
        status: "403",
      },
    });
    const r = await call(h.client, "actions_run_write", { method: "cancel", ...repo, run_id: 30433642 });
    expect(r.isError).toBe(true);
    expect(r.text).toContain("Actions: write");
  });

  it("7: list_issues leaves pull requests out", async () => {
    h = await harness([]);
    const at = "/repos/octo-org/widgets/issues";
    const item = (number: number, pr: boolean) => ({
      id: number,
      number,
      title: pr ? "A pull request" : "An issue",
      state: "open",
      user: octocat,
      labels: [],
      assignees: [],
      comments: 0,
      created_at: "2011-04-22T13:33:48Z",
      updated_at: "2011-04-22T13:33:48Z",
      html_url: `https://github.com/octo-org/widgets/${pr ? "pull" : "issues"}/${number}`,
      author_association: "OWNER",
      ...(pr
        ? {
            pull_request: {
              url: `https://api.github.com/repos/octo-org/widgets/pulls/${number}`,
              html_url: `https://github.com/octo-org/widgets/pull/${number}`,
              diff_url: `https://github.com/octo-org/widgets/pull/${number}.diff`,
              patch_url: `https://github.com/octo-org/widgets/pull/${number}.patch`,
              merged_at: null,
            },
          }
        : {}),
    });
    h.fake.fail("GET", at, { status: 200, body: [item(2, true), item(1, false)] });
    const r = await call(h.client, "list_issues", repo);
    expect((r.data.items as { number: number }[]).map((i) => i.number)).toEqual([1]);
  });
});
