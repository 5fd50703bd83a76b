import { afterEach, describe, expect, it } from "vitest";
import { ownFixture, type Fault, type Recording } from "./fake-github.js";
import { call, harness, type Harness } from "./helpers.js";

const repo = { owner: "octo-org", repo: "widgets" };
const ISSUES = "/repos/octo-org/widgets/issues";
const PULLS = "/repos/octo-org/widgets/pulls";

/** A recorded error answer (test/fixtures/errors.json) as a one-shot fault, optionally with changed headers. */
function recorded(method: string, path: string, headers: Record<string, string> = {}): Fault {
  const rec = ownFixture("errors").find(
    (r: Recording) => r.method === method.toLowerCase() && r.path === path,
  )!;
  const base = Object.fromEntries(
    Object.entries(rec.headers ?? {})
      .filter(([k]) => k !== "content-length")
      .map(([k, v]) => [k, String(v)]),
  );
  return { status: rec.status, headers: { ...base, ...headers }, body: rec.response };
}

describe("rate limits and faults against the loopback GitHub", () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it("waits out a secondary rate limit (403 + Retry-After) and retries", async () => {
    h = await harness([ownFixture("issues"), [{ method: "get", path: ISSUES, status: 200, response: [] }]]);
    h.fake.fail("GET", ISSUES, recorded("GET", ISSUES));
    const started = Date.now();
    const r = await call(h.client, "list_issues", repo);
    expect(r.isError).toBeUndefined();
    expect(h.fake.count("GET", ISSUES)).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("says when to retry when the secondary limit's wait is past the cap", async () => {
    h = await harness([], { maxRetryWaitSeconds: 2 });
    h.fake.fail("GET", ISSUES, recorded("GET", ISSUES, { "retry-after": "120" }));
    const r = await call(h.client, "list_issues", repo);
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/secondary rate limit.*retry in 2 min/);
    expect(r.text).toMatch(/retryable after 120s/);
    expect(h.fake.count("GET", ISSUES)).toBe(1);
  });

  it("retries a 429 with Retry-After, also for a POST GitHub did not act on", async () => {
    h = await harness([ownFixture("pull-requests")]);
    h.fake.fail("GET", PULLS, recorded("GET", PULLS));
    const list = await call(h.client, "list_pull_requests", { ...repo, per_page: 2 });
    expect(list.isError).toBeUndefined();
    expect(h.fake.count("GET", PULLS)).toBe(2);
    h.fake.fail("POST", PULLS, recorded("GET", PULLS));
    const created = await call(h.client, "pull_request_write", {
      method: "create",
      ...repo,
      title: "Add sprockets",
      head: "sprockets",
      base: "main",
    });
    expect(created.data.number).toBe(8);
    expect(h.fake.count("POST", PULLS)).toBe(2);
  });

  it("fails fast, with the reset time, while the primary limit is used up", async () => {
    h = await harness([ownFixture("issues")], { githubToken: undefined });
    const reset = String(Math.floor(Date.now() / 1000) + 3600);
    h.fake.fail("GET", "/search/issues", recorded("GET", "/search/issues", { "x-ratelimit-reset": reset }));
    const r = await call(h.client, "search_issues", { query: "is:issue crash" });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/search rate limit \(30\/hour\) is used up; it resets at .*retry in 60 min/);
    expect(r.text).toContain("set GITHUB_TOKEN");
    const again = await call(h.client, "search_issues", { query: "is:issue crash" });
    expect(again.isError).toBe(true);
    expect(h.fake.count("GET", "/search/issues")).toBe(1); // the second call spent no request
    // Other resources (core) still work.
    const issue = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(issue.isError).toBeUndefined();
  });

  it("names the missing permission on a 403 and the bad token on a 401", async () => {
    h = await harness([ownFixture("errors")], { toolsets: ["all"] });
    const r = await call(h.client, "issue_write", { method: "create", ...repo, title: "x" });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/forbidden: GitHub refused POST \/repos\/octo-org\/widgets\/issues \(403\)/);
    expect(r.text).toContain("fine-grained permission issues: write");
    const me = await call(h.client, "get_me");
    expect(me.text).toMatch(/unauthenticated: GitHub rejected the token \(401\).*GITHUB_TOKEN/);
    expect(me.text).not.toContain("ghp_");
  });

  it("refuses write tools without a token before calling GitHub, naming the permission", async () => {
    h = await harness([], { githubToken: undefined });
    const r = await call(h.client, "issue_write", {
      method: "comment",
      ...repo,
      issue_number: 3,
      body: "hi",
    });
    expect(r.text).toMatch(/needs a GitHub token.*GITHUB_TOKEN \(fine-grained: Issues: write; classic: repo/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it("retries 503s and connection resets on reads, counting attempts", async () => {
    h = await harness([ownFixture("issues")]);
    const at = `${ISSUES}/3`;
    h.fake.fail("GET", at, { status: 503 }, { reset: true });
    const r = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(r.isError).toBeUndefined();
    expect(h.fake.count("GET", at)).toBe(3);
  });

  it("gives up after 3 attempts on a failing upstream with a clear error, and stays up", async () => {
    h = await harness([ownFixture("issues")]);
    const at = `${ISSUES}/3`;
    h.fake.fail("GET", at, { status: 502 }, { status: 502 }, { status: 502 });
    const r = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/upstream_unavailable: github GET .*502.*after 3 attempts/i);
    expect(h.fake.count("GET", at)).toBe(3);
    await expect(h.client.ping()).resolves.toBeDefined();
    const ok = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(ok.isError).toBeUndefined();
  });

  it("reports a 500 at once (GitHub's 500s are mostly deterministic)", async () => {
    h = await harness([ownFixture("issues")]);
    const at = `${ISSUES}/3`;
    h.fake.fail("GET", at, { status: 500, body: { message: "Server Error" } });
    const r = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(r.text).toMatch(/upstream_error: github GET .*500.*Server Error/);
    expect(h.fake.count("GET", at)).toBe(1);
  });

  it("does not repeat a POST after a 500 (it may have been applied)", async () => {
    h = await harness([ownFixture("pull-requests")]);
    h.fake.fail("POST", PULLS, { status: 500 });
    const r = await call(h.client, "pull_request_write", {
      method: "create",
      ...repo,
      title: "t",
      head: "h",
      base: "main",
    });
    expect(r.isError).toBe(true);
    expect(h.fake.count("POST", PULLS)).toBe(1);
  });

  it("times out a stalled GitHub with a clear error", async () => {
    h = await harness([ownFixture("issues")], { timeoutSeconds: 1 });
    const at = `${ISSUES}/3`;
    h.fake.fail("GET", at, { stallMs: 3000 });
    const r = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/timeout: .*1000 ms/);
    await expect(h.client.ping()).resolves.toBeDefined();
  });

  it("refuses dot segments in names and paths before calling GitHub", async () => {
    h = await harness([]);
    const r = await call(h.client, "get_issue", { owner: "..", repo: "user", issue_number: 1 });
    expect(r.text).toMatch(/invalid_input: '\.\.' is not a valid name/);
    const f = await call(h.client, "get_file_contents", { ...repo, path: "src/../../../user" });
    expect(f.text).toMatch(/invalid_input: '\.\.' is not a valid path segment/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it("does not follow a redirect to another host (SSRF), even with a private-network API URL", async () => {
    h = await harness([]);
    h.fake.fail("GET", `${ISSUES}/3`, {
      status: 302,
      headers: { location: "http://169.254.169.254/latest/meta-data" },
    });
    const r = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/redirected to another host \('169\.254\.169\.254'\).*not followed/);
  });

  it("fails cleanly when GitHub cannot be reached at all", async () => {
    h = await harness([]);
    await h.fake.close();
    const r = await call(h.client, "get_issue", { ...repo, issue_number: 3, comments: 0 });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/upstream_unavailable: .*refused/);
  });
});
