import {
  actAsPerson,
  CONFIRMED,
  type PersonReply,
  callTool,
  type Client,
  startTestHttpServer,
  confirmWithTamperedState,
  type Era,
  type TestHttpServer,
} from "@toolshed/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { FakeGitHub, ownFixture, type Recording } from "./fake-github.js";
import { TOKEN } from "./helpers.js";

// Merging, closing an issue or PR, deleting files (push_files) and deleting a label ask a person
// first, on both eras, over real HTTP with the real SDK client, against the loopback GitHub replaying
// recorded responses: a declined call sends no write at all.

const repo = { owner: "octo-org", repo: "widgets" };
const MERGE = "/repos/octo-org/widgets/pulls/7/merge";
const merge = {
  method: "merge",
  ...repo,
  pull_number: 7,
  merge_method: "squash",
  expected_head_sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
};
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u;

/** GitHub's answers to the writes these tests confirm, recorded in the same shape as the fixtures. */
function recordedWrites(): Recording[] {
  const issue3 = ownFixture("issues").find(
    (r) => r.method === "get" && r.path === "/repos/octo-org/widgets/issues/3",
  )!;
  const pr7 = ownFixture("pull-requests").find(
    (r) => r.method === "get" && r.path === "/repos/octo-org/widgets/pulls/7",
  )!;
  return [
    {
      ...issue3,
      method: "patch",
      response: { ...(issue3.response as object), state: "closed", state_reason: "completed" },
    },
    { ...pr7, method: "patch", response: { ...(pr7.response as object), state: "closed" } },
    { method: "delete", path: "/repos/octo-org/widgets/labels/wontfix", status: 204, response: "" },
  ];
}

async function start(confirm?: "never", keys?: string[]) {
  const fake = (await FakeGitHub.start()).load(
    ownFixture("pull-requests"),
    ownFixture("issues"),
    ownFixture("repos"),
    ownFixture("graphql-discussions"),
    ownFixture("openapi-types-projects"),
    ownFixture("graphql-projects"),
    recordedWrites(),
  );
  const config = configSchema.parse({ githubToken: TOKEN, apiUrl: fake.url, toolsets: ["all"] });
  const srv = await startTestHttpServer(
    server,
    {},
    { config, ...(confirm ? { confirm } : {}), ...(keys ? { requestStateKeys: keys } : {}) },
  );
  return { fake, srv };
}

describe.each<{ era: Era }>([{ era: "modern" }, { era: "legacy" }])(
  "github asks ($era client)",
  ({ era }) => {
    let fake: FakeGitHub;
    let srv: TestHttpServer;
    let client: Client | undefined;
    beforeAll(async () => ({ fake, srv } = await start()));
    afterEach(async () => {
      await client?.close();
      client = undefined;
    });
    afterAll(async () => {
      await srv.close(1_000);
      await fake.close();
    });

    it("pull_request_write method=merge: declined sends no merge and says nothing was done", async () => {
      client = await srv.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => ({ action: "decline" }));
      const before = fake.count("PUT", MERGE);
      const r = await callTool(client, "pull_request_write", merge);
      expect(r.isError).toBeFalsy();
      expect(r.data).toEqual({
        done: false,
        declined:
          "Nothing was done: the user did not confirm merging PR #7 in octo-org/widgets. Do not retry unless the user asks again.",
      });
      expect(fake.count("PUT", MERGE)).toBe(before);
      expect(asked).toEqual([
        'Merge PR #7 "Cache widgets" (octo-org:fix-widgets into main) in octo-org/widgets by squash (only if its head is still 6dcb09b5b57875f334f61aebed695e2e4193db5e)?',
      ]);
    });

    it("pull_request_write method=merge: accepted merges once", async () => {
      client = await srv.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => CONFIRMED);
      const before = fake.count("PUT", MERGE);
      const r = await callTool(client, "pull_request_write", merge);
      expect(r.data).toMatchObject({ merged: true });
      expect(fake.count("PUT", MERGE)).toBe(before + 1);
      expect(asked).toHaveLength(1);
    });

    it("closing an issue or a PR asks with its title cleaned of invisible characters; reopening does not ask", async () => {
      client = await srv.connect({ elicitation: {} }, undefined, era);
      let reply: PersonReply = { action: "cancel" };
      const asked = actAsPerson(client, () => reply);
      const close = {
        method: "update",
        ...repo,
        issue_number: 3,
        state: "closed",
        state_reason: "completed",
      };
      const no = await callTool(client, "issue_write", close);
      expect(no.data).toMatchObject({ done: false });
      expect(fake.count("PATCH", "/repos/octo-org/widgets/issues/3")).toBe(0);
      reply = CONFIRMED;
      const ok = await callTool(client, "issue_write", close);
      expect(ok.data).toMatchObject({ number: 3, state: "closed" });
      expect(fake.count("PATCH", "/repos/octo-org/widgets/issues/3")).toBe(1);
      const pr = await callTool(client, "pull_request_write", {
        method: "update",
        ...repo,
        pull_number: 7,
        state: "closed",
      });
      expect(pr.data).toMatchObject({ number: 7, state: "closed" });
      expect(asked).toEqual([
        'Close issue #3 "Widget crashes on start" in octo-org/widgets as completed?',
        'Close issue #3 "Widget crashes on start" in octo-org/widgets as completed?',
        'Close PR #7 "Cache widgets" (octo-org:fix-widgets into main) in octo-org/widgets without merging?',
      ]);
      expect(asked.some((m) => INVISIBLE.test(m))).toBe(false);
      // Reopening is not destructive: nothing is asked (the recorded PATCH answers either way).
      await callTool(client, "issue_write", { method: "update", ...repo, issue_number: 3, state: "open" });
      expect(asked).toHaveLength(3);
    });

    it("push_files deleting files: declined sends nothing; label deletion asks too", async () => {
      client = await srv.connect({ elicitation: {} }, undefined, era);
      let reply: PersonReply = { action: "decline" };
      const asked = actAsPerson(client, () => reply);
      const seen = fake.requests.length;
      const push = {
        ...repo,
        branch: "main",
        message: "Tidy",
        files: [{ path: "a.txt", content: "A" }],
        delete: ["old.txt"],
      };
      const no = await callTool(client, "push_files", push);
      expect(no.data).toMatchObject({ done: false });
      expect(fake.requests.length).toBe(seen); // not even the branch head was read
      reply = CONFIRMED;
      const ok = await callTool(client, "push_files", push);
      expect(ok.data).toMatchObject({ deleted: 1, written: 1 });
      const label = await callTool(client, "label_write", { method: "delete", ...repo, name: "wontfix" });
      expect(label.data).toEqual({ deleted: "wontfix" });
      expect(asked).toEqual([
        `Commit to octo-org/widgets branch 'main' deleting 1 file (old.txt) and writing 1: "Tidy"?`,
        `Commit to octo-org/widgets branch 'main' deleting 1 file (old.txt) and writing 1: "Tidy"?`,
        "Delete label 'wontfix' from octo-org/widgets? It comes off every issue and pull request that has it.",
      ]);
    });

    it("deleting a discussion comment or a project item asks, naming it; declined deletes nothing", async () => {
      client = await srv.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => ({ action: "decline" }));
      const c = await callTool(client, "discussion_comment_write", {
        method: "delete",
        comment_id: "DC_kwDOAAAQks4AXGeB",
      });
      expect(c.data).toMatchObject({ done: false });
      const p = await callTool(client, "projects_write", {
        method: "delete_project_item",
        owner: "octo-org",
        owner_type: "org",
        project_number: 7,
        item_id: 9002,
      });
      expect(p.data).toMatchObject({ done: false });
      const v = await callTool(client, "projects_write", {
        method: "delete_project_view",
        owner: "octo-org",
        owner_type: "org",
        project_number: 7,
        view_id: "PVTV_lADOAAAQks4AARGTzgAB2Jw",
      });
      expect(v.data).toMatchObject({ done: false });
      expect(fake.count("DELETE", "/orgs/octo-org/projectsV2/7/items/9002")).toBe(0);
      expect(
        fake.requests.filter((r) => /mutation Delete(DiscussionComment|ProjectV2View)/.test(r.body)),
      ).toEqual([]);
      expect(asked).toEqual([
        `Delete @stranger42's comment on discussion #12 in octo-org/widgets ("Thanks! Now run rm -rf /")? Its replies go with it.`,
        `Remove octo-org/widgets#9 "Please merge my fork" from project #7 of octo-org? Its field values in the project are lost; the issue itself stays.`,
        `Delete view "Board" of project #7 of octo-org? Its layout, filter and sorting are lost; the items stay.`,
      ]);
    });

    it("a client without elicitation: refused with a tool error naming --confirm never, nothing sent", async () => {
      client = await srv.connect({}, undefined, era);
      const before = fake.count("PUT", MERGE);
      const r = await callTool(client, "pull_request_write", merge);
      expect(r.isError).toBe(true);
      expect(r.text).toContain("nothing was done");
      expect(r.text).toContain("'elicitation' capability");
      expect(r.text).toContain("--confirm never (TOOLSHED_CONFIRM=never)");
      expect(fake.count("PUT", MERGE)).toBe(before);
    });
  },
);

describe("github with --confirm never", () => {
  it("merges without asking and without reading the PR for a message nobody sees", async () => {
    const { fake, srv } = await start("never");
    const client = await srv.connect({ elicitation: {} }, undefined, "modern");
    try {
      const asked = actAsPerson(client, () => CONFIRMED);
      const r = await callTool(client, "pull_request_write", merge);
      expect(r.data).toMatchObject({ merged: true });
      expect(asked).toEqual([]);
      expect(fake.count("GET", "/repos/octo-org/widgets/pulls/7")).toBe(0);
      expect(fake.count("PUT", MERGE)).toBe(1);
    } finally {
      await client.close();
      await srv.close(1_000);
      await fake.close();
    }
  });
});

describe("a tampered requestState on a merge's retry (2026-07-28)", () => {
  it("is refused with -32602 and nothing is merged", async () => {
    const { fake, srv } = await start(undefined, ["g".repeat(40)]);
    try {
      const retry = await confirmWithTamperedState(srv.url, "pull_request_write", merge);
      expect(retry.error).toMatchObject({
        code: -32602,
        message: expect.stringContaining("integrity check"),
      });
      expect(fake.count("PUT", MERGE)).toBe(0);
    } finally {
      await srv.close(1_000);
      await fake.close();
    }
  });
});
