import { afterEach, describe, expect, it } from "vitest";
import { octokitScenario } from "./fake-github.js";
import { call, harness, type Harness } from "./helpers.js";

// Real api.github.com recordings from @octokit/fixtures, replayed on loopback.
describe("against @octokit/fixtures recordings", () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it("pages through issues with Link headers (paginate-issues)", async () => {
    h = await harness([octokitScenario("api.github.com/paginate-issues")]);
    const first = await call(h.client, "list_issues", {
      owner: "octokit-fixture-org",
      repo: "paginate-issues",
      per_page: 3,
    });
    expect(first.isError).toBeUndefined();
    expect(first.data).toMatchObject({ next_page: 2, last_page: 5 });
    // The page and per_page asked for are not echoed back: every answer would repeat them.
    expect(first.data).not.toHaveProperty("page");
    expect(first.data).not.toHaveProperty("per_page");
    const items = first.data.items as { number: number; title: string; body?: string }[];
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveProperty("number");
    expect(items[0]).not.toHaveProperty("body");
    const only = await call(h.client, "list_issues", {
      owner: "octokit-fixture-org",
      repo: "paginate-issues",
      per_page: 3,
      fields: ["number", "title"],
    });
    for (const item of only.data.items as object[])
      expect(Object.keys(item).sort()).toEqual(["number", "title"]);
  });

  it("searches issues (search-issues)", async () => {
    h = await harness([octokitScenario("api.github.com/search-issues")]);
    const r = await call(h.client, "search_issues", {
      query: "sesame repo:octokit-fixture-org/search-issues",
    });
    expect(r.data.total_count).toBe(2);
    const items = r.data.items as { repo: string; number: number }[];
    expect(items.map((i) => i.repo)).toEqual([
      "octokit-fixture-org/search-issues",
      "octokit-fixture-org/search-issues",
    ]);
  });

  it("lists a directory (get-content)", async () => {
    h = await harness([octokitScenario("api.github.com/get-content")]);
    const r = await call(h.client, "get_file_contents", {
      owner: "octokit-fixture-org",
      repo: "hello-world",
    });
    expect(r.data.entries).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "README.md", type: "file" })]),
    );
  });

  it("lists labels (labels) and creates a file (create-file)", async () => {
    h = await harness([
      octokitScenario("api.github.com/labels"),
      octokitScenario("api.github.com/create-file"),
    ]);
    const labels = await call(h.client, "list_issue_options", {
      owner: "octokit-fixture-org",
      repo: "labels",
    });
    expect((labels.data.items as { name: string }[]).length).toBeGreaterThan(0);
    const file = await call(h.client, "push_files", {
      owner: "octokit-fixture-org",
      repo: "create-file",
      message: "create test.txt",
      files: [{ path: "test.txt", content: "Test content" }],
    });
    expect(file.isError).toBeUndefined();
    // One file alone goes through the contents API in one PUT; the answer has the new blob's sha.
    expect(file.data.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(file.data.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(h.fake.requests.filter((r) => r.method !== "GET")).toHaveLength(1);
    const put = h.fake.requests.find((r) => r.method === "PUT")!;
    expect(JSON.parse(put.body)).toMatchObject({ content: Buffer.from("Test content").toString("base64") });
    expect(put.headers.authorization).toMatch(/^Bearer ghp_/);
  });

  it("creates an issue (add-labels-to-issue) and marks notifications read (mark-notifications-as-read)", async () => {
    h = await harness(
      [
        octokitScenario("api.github.com/add-labels-to-issue"),
        octokitScenario("api.github.com/mark-notifications-as-read"),
      ],
      { toolsets: ["issues", "notifications"] },
    );
    const created = await call(h.client, "issue_write", {
      method: "create",
      owner: "octokit-fixture-org",
      repo: "add-labels-to-issue",
      title: "Issue without a label",
    });
    expect(created.data).toEqual({ number: 1, title: "Issue without a label", state: "open" });
    const marked = await call(h.client, "notification_write", { method: "read_all" });
    expect(marked.isError).toBeUndefined();
  });

  it("withholds search results by authors without push access in lockdown mode", async () => {
    h = await harness([octokitScenario("api.github.com/search-issues")], { lockdown: true });
    const r = await call(h.client, "search_issues", {
      query: "sesame repo:octokit-fixture-org/search-issues",
    });
    const items = r.data.items as { number: number; title: string }[];
    expect(items.find((i) => i.number === 2)!.title).toMatch(
      /withheld by lockdown mode: @octokit-fixture-user-b/,
    );
    expect(items.find((i) => i.number === 1)!.title).toBe("The doors don’t open");
  });

  it("reads public data without a token", async () => {
    h = await harness([octokitScenario("api.github.com/search-issues")], { githubToken: undefined });
    const r = await call(h.client, "search_issues", {
      query: "sesame repo:octokit-fixture-org/search-issues",
    });
    expect(r.data.total_count).toBe(2);
    expect(h.fake.requests[0]!.headers.authorization).toBeUndefined();
  });
});
