import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_TOOLS } from "../src/toolsets.js";
import { graphqlOperation, ownFixture } from "./fake-github.js";
import { call, harness, type Harness } from "./helpers.js";

/*
 * The discussions, projects and code_quality toolsets against the loopback GitHub. Where the
 * recordings' shapes come from:
 * - fixtures/graphql-discussions.json: GitHub's public GraphQL schema (Repository.discussions,
 *   Discussion, DiscussionComment, DiscussionCategory and the discussion comment mutations), the
 *   fields the official server queries; each recording is picked by its query's name.
 * - fixtures/openapi-types-projects.json: GitHub's REST schemas as @octokit/openapi-types 29 types them
 *   (projects-v2, projects-v2-field, projects-v2-item-with-content, projects-v2-item-simple), the
 *   user answer of GET /users/{username}, and a `Link` header of cursor pagination (`after`).
 * - fixtures/graphql-projects.json: GitHub's public GraphQL schema (ProjectV2.statusUpdates, .views,
 *   createProjectV2StatusUpdate, createProjectV2), the fields the official server queries.
 * - fixtures/openapi-types-code-quality.json: components.schemas["code-quality-finding"] there.
 */

const W = { owner: "octo-org", repo: "widgets" };
type Sent = { query: string; variables: Record<string, unknown> };

describe("discussions, projects and code quality", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(
      [
        ownFixture("graphql-discussions"),
        ownFixture("openapi-types-projects"),
        ownFixture("graphql-projects"),
        ownFixture("openapi-types-code-quality"),
      ],
      { toolsets: ["discussions", "projects", "code_quality"] },
    );
  });
  afterAll(() => h.close());

  /** The GraphQL requests sent so far whose query has this name. */
  const graphql = (name: string): Sent[] =>
    h.fake.requests
      .filter((r) => r.method === "POST" && r.path === "/graphql" && graphqlOperation(r.body) === name)
      .map((r) => JSON.parse(r.body) as Sent);
  const sent = (method: string, p: string) =>
    h.fake.requests.filter((r) => r.method === method && r.path.split("?")[0] === p);

  it("lists the toolsets by the official server's names, and only these tools", async () => {
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "discussion_comment_write",
      "discussion_read",
      "get_code_quality_finding",
      "projects_read",
      "projects_write",
    ]);
    const hints = (name: string) => ALL_TOOLS.find((t) => t.name === name)!.annotations;
    for (const name of ["discussion_read", "projects_read", "get_code_quality_finding"])
      expect(hints(name).readOnlyHint, name).toBe(true);
    for (const name of ["discussion_comment_write", "projects_write"]) {
      expect(hints(name)).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    }
  });

  it("list_discussions: discussion_read method list, by cursor, ordered, cleaned", async () => {
    const r = await call(h.client, "discussion_read", {
      ...W,
      per_page: 2,
      order_by: "CREATED_AT",
      category: "DIC_kwDOAAAQks4CAAAB",
    });
    expect(r.isError).toBeUndefined();
    const q = graphql("query ListDiscussions").at(-1)!;
    expect(q.variables).toEqual({
      owner: "octo-org",
      repo: "widgets",
      first: 2,
      categoryId: "DIC_kwDOAAAQks4CAAAB",
      orderBy: { field: "CREATED_AT", direction: "DESC" },
    });
    expect(r.data).toEqual({
      items: [
        {
          number: 12,
          title: "How do I configure caching?", // the zero-width space is cleaned away
          author: "stranger42",
          category: "Q&A",
          closed: false,
          answered: true,
          answer_chosen_at: "2025-11-03T10:00:00Z",
          comments: 2,
          created_at: "2025-11-02T10:00:00Z",
          updated_at: "2025-11-03T10:00:00Z",
          url: "https://github.com/octo-org/widgets/discussions/12",
        },
        expect.objectContaining({ number: 11, title: "Roadmap for 2026", answered: false }),
      ],
      next_cursor: "Y3Vyc29yOnYyOpK5MjAyNS0xMS0wMlQxMDowMDowMCswMDowMM4AAQID",
      total_count: 3,
    });
    const some = await call(h.client, "discussion_read", { ...W, fields: ["number", "title"] });
    expect((some.data.items as unknown[])[1]).toEqual({ number: 11, title: "Roadmap for 2026" });
    // No order asked: the variable is not sent, so GitHub's default order applies.
    expect(graphql("query ListDiscussions").at(-1)!.variables).not.toHaveProperty("orderBy");
  });

  it("get_discussion and list_discussion_categories: discussion_read get, categories (the org's .github)", async () => {
    const d = await call(h.client, "discussion_read", { ...W, method: "get", number: 12 });
    expect(d.data).toMatchObject({ number: 12, body: "Where does the cache live?\n", answered: true });
    expect(graphql("query GetDiscussion").at(-1)!.variables).toEqual({ ...W, number: 12 });
    const none = await call(h.client, "discussion_read", { ...W, method: "get" });
    expect(none.isError).toBe(true);
    expect(none.text).toContain("needs number");
    const c = await call(h.client, "discussion_read", { owner: "octo-org", method: "categories" });
    expect(c.data.items).toEqual([
      {
        id: "DIC_kwDOAAAQks4CAAAA",
        name: "Announcements",
        description: "Updates from maintainers",
        answerable: false,
      },
      {
        id: "DIC_kwDOAAAQks4CAAAB",
        name: "Q&A",
        description: "Ask the community for help",
        answerable: true,
      },
    ]);
    expect(graphql("query DiscussionCategories").at(-1)!.variables).toEqual({
      owner: "octo-org",
      repo: ".github",
    });
  });

  it("get_discussion_comments: discussion_read comments, replies nested", async () => {
    const r = await call(h.client, "discussion_read", {
      ...W,
      method: "comments",
      number: 12,
      replies: true,
    });
    expect(graphql("query DiscussionComments").at(-1)!.variables).toEqual({
      ...W,
      number: 12,
      first: 20,
      replies: true,
    });
    expect(r.data).toEqual({
      items: [
        {
          id: "DC_kwDOAAAQks4AXGeA",
          author: "monalisa",
          is_answer: true,
          created_at: "2025-11-03T10:00:00Z",
          body: "Set CACHE_DIR.",
          url: "https://github.com/octo-org/widgets/discussions/12#discussioncomment-6080384",
          reply_count: 1,
          replies: [expect.objectContaining({ id: "DC_kwDOAAAQks4AXGeB", author: "stranger42" })],
        },
      ],
      total_count: 1,
    });
  });

  it("discussion_comment_write: add, reply (checked first), update, delete, mark_answer", async () => {
    const add = await call(h.client, "discussion_comment_write", {
      ...W,
      method: "add",
      number: 12,
      body: "Fixed in 2.1",
    });
    expect(add.data).toEqual({
      id: "DC_kwDOAAAQks4AXGeC",
      url: "https://github.com/octo-org/widgets/discussions/12#discussioncomment-6080386",
    });
    expect(graphql("query DiscussionId").at(-1)!.variables).toEqual({ ...W, number: 12 });
    expect(graphql("mutation AddDiscussionComment").at(-1)!.variables).toEqual({
      input: { discussionId: "D_kwDOAAAQks4AAQID", body: "Fixed in 2.1" },
    });

    const reply = { ...W, method: "reply", number: 12, body: "Thanks" };
    const elsewhere = await call(h.client, "discussion_comment_write", {
      ...reply,
      comment_id: "DC_kwDOAAAQks4AXGeZ",
    });
    expect(elsewhere.isError).toBe(true);
    expect(elsewhere.text).toContain("is not on discussion #12");
    const nested = await call(h.client, "discussion_comment_write", {
      ...reply,
      comment_id: "DC_kwDOAAAQks4AXGeB",
    });
    expect(nested.isError).toBe(true);
    expect(nested.text).toContain("reply to its top-level comment DC_kwDOAAAQks4AXGeA");
    expect(graphql("mutation AddDiscussionComment")).toHaveLength(1); // neither was sent
    const ok = await call(h.client, "discussion_comment_write", {
      ...reply,
      comment_id: "DC_kwDOAAAQks4AXGeA",
    });
    expect(ok.isError).toBeUndefined();
    expect(graphql("mutation AddDiscussionComment").at(-1)!.variables).toEqual({
      input: { discussionId: "D_kwDOAAAQks4AAQID", body: "Thanks", replyToId: "DC_kwDOAAAQks4AXGeA" },
    });

    const upd = await call(h.client, "discussion_comment_write", {
      method: "update",
      comment_id: "DC_kwDOAAAQks4AXGeA",
      body: "Set CACHE_DIR (see docs).",
    });
    expect(upd.data).toMatchObject({ id: "DC_kwDOAAAQks4AXGeA" });
    expect(graphql("mutation UpdateDiscussionComment").at(-1)!.variables).toEqual({
      input: { commentId: "DC_kwDOAAAQks4AXGeA", body: "Set CACHE_DIR (see docs)." },
    });
    // --confirm never (an unattended agent): deleted without asking, and without reading the comment.
    const del = await call(h.client, "discussion_comment_write", {
      method: "delete",
      comment_id: "DC_kwDOAAAQks4AXGeB",
    });
    expect(del.data).toEqual({ deleted: "DC_kwDOAAAQks4AXGeB" });
    expect(graphql("query DiscussionCommentToDelete")).toHaveLength(0);
    expect(graphql("mutation DeleteDiscussionComment").at(-1)!.variables).toEqual({
      input: { id: "DC_kwDOAAAQks4AXGeB" },
    });
    const mark = await call(h.client, "discussion_comment_write", {
      method: "mark_answer",
      comment_id: "DC_kwDOAAAQks4AXGeA",
    });
    expect(mark.data).toEqual({
      id: "DC_kwDOAAAQks4AXGeA",
      discussion: 12,
      url: "https://github.com/octo-org/widgets/discussions/12",
      answer: true,
    });
    const noBody = await call(h.client, "discussion_comment_write", { ...W, method: "add", number: 12 });
    expect(noBody.isError).toBe(true);
    expect(noBody.text).toContain("method=add needs body");
  });

  it("projects_list and projects_get: projects_read, the owner's type looked up once per call", async () => {
    const list = await call(h.client, "projects_read", {
      method: "list_projects",
      owner: "octo-org",
      per_page: 2,
    });
    expect(sent("GET", "/users/octo-org")).toHaveLength(1);
    expect(list.data).toEqual({
      items: [
        {
          number: 7,
          id: 70007,
          node_id: "PVT_kwDOAAAQks4A70007",
          title: "Widgets roadmap",
          short_description: "What ships when",
          owner: "octo-org",
          owner_type: "org",
          public: true,
          state: "open",
          created_at: "2025-01-10T12:00:00Z",
          updated_at: "2025-11-05T12:00:00Z",
        },
        expect.objectContaining({ number: 6, title: "Bug triage", public: false }),
      ],
      next_cursor: "Y3Vyc29yOjI=",
    });
    const get = await call(h.client, "projects_read", {
      method: "get_project",
      owner: "octo-org",
      owner_type: "org",
      project_number: 7,
    });
    expect(get.data).toMatchObject({ number: 7, title: "Widgets roadmap" });
    expect(sent("GET", "/users/octo-org")).toHaveLength(1); // owner_type given: not looked up

    const fieldsList = await call(h.client, "projects_read", {
      method: "list_project_fields",
      owner: "octo-org",
      owner_type: "org",
      project_number: 7,
    });
    expect((fieldsList.data.items as { name: string }[]).map((f) => f.name)).toEqual([
      "Title",
      "Status",
      "Sprint",
      "Estimate",
    ]);
    const status = await call(h.client, "projects_read", {
      method: "get_project_field",
      owner: "octo-org",
      owner_type: "org",
      project_number: 7,
      field_id: 3003,
    });
    expect(status.data).toMatchObject({
      id: 3003,
      data_type: "single_select",
      options: [
        { id: "f75ad846", name: "Todo" },
        { id: "47fc9ee4", name: "In Progress" },
        { id: "98236657", name: "Done" },
      ],
    });
  });

  it("project items: field values by name, a stranger's item read", async () => {
    const items = await call(h.client, "projects_read", {
      method: "list_project_items",
      owner: "octo-org",
      owner_type: "org",
      project_number: 7,
      field_names: ["status", "Sprint"],
      query: "is:open",
    });
    const asked = sent("GET", "/orgs/octo-org/projectsV2/7/items").at(-1)!;
    const q = new URL(asked.path, "http://x").searchParams;
    expect(q.get("fields")).toBe("3003,3005");
    expect(q.get("q")).toBe("is:open");
    expect((items.data.items as unknown[])[0]).toEqual({
      id: 9001,
      node_id: "PVTI_lADOAAAQks4A9001",
      content_type: "Issue",
      repo: "octo-org/widgets",
      number: 3,
      title: "Widget crashes on start",
      state: "open",
      author: "monalisa",
      url: "https://github.com/octo-org/widgets/issues/3",
      fields: [
        { id: 3003, name: "Status", data_type: "single_select", value: "In Progress" },
        { id: 3005, name: "Sprint", data_type: "iteration", value: "Sprint 4" },
        { id: 3004, name: "Estimate", data_type: "number", value: "3" },
      ],
      created_at: "2025-11-02T00:00:00Z",
      updated_at: "2025-11-05T00:00:00Z",
    });
    const bad = await call(h.client, "projects_read", {
      method: "list_project_items",
      owner: "octo-org",
      owner_type: "org",
      project_number: 7,
      field_names: ["Priority"],
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain("no field 'Priority'; its fields are: Title, Status, Sprint, Estimate");
    const one = await call(h.client, "projects_read", {
      method: "get_project_item",
      owner: "octo-org",
      owner_type: "org",
      project_number: 7,
      item_id: 9002,
    });
    expect(one.data).toMatchObject({ id: 9002, title: "Please merge my fork", author: "stranger42" });
  });

  it("projects_write: add an issue, set a field by names, remove an item", async () => {
    const base = { owner: "octo-org", owner_type: "org", project_number: 7 };
    const add = await call(h.client, "projects_write", {
      ...base,
      method: "add_project_item",
      item_owner: "octo-org",
      item_repo: "widgets",
      number: 3,
    });
    expect(add.data).toMatchObject({ id: 9003, content_type: "Issue" });
    expect(JSON.parse(sent("POST", "/orgs/octo-org/projectsV2/7/items")[0]!.body)).toEqual({
      type: "Issue",
      owner: "octo-org",
      repo: "widgets",
      number: 3,
    });
    const upd = await call(h.client, "projects_write", {
      ...base,
      method: "update_project_item",
      item_id: 9001,
      field_name: "Status",
      value: "done",
    });
    // The option's name becomes its id, as GitHub's update takes it.
    expect(JSON.parse(sent("PATCH", "/orgs/octo-org/projectsV2/7/items/9001")[0]!.body)).toEqual({
      fields: [{ id: 3003, value: "98236657" }],
    });
    expect(upd.data.fields).toContainEqual({
      id: 3003,
      name: "Status",
      data_type: "single_select",
      value: "Done",
    });
    const wrong = await call(h.client, "projects_write", {
      ...base,
      method: "update_project_item",
      item_id: 9001,
      field_id: 3003,
      value: "Blocked",
    });
    expect(wrong.isError).toBe(true);
    expect(wrong.text).toContain("its options are: Todo, In Progress, Done");
    expect(sent("PATCH", "/orgs/octo-org/projectsV2/7/items/9001")).toHaveLength(1);
    const del = await call(h.client, "projects_write", {
      ...base,
      method: "delete_project_item",
      item_id: 9002,
    });
    expect(del.data).toEqual({ deleted: 9002 });
    expect(sent("DELETE", "/orgs/octo-org/projectsV2/7/items/9002")).toHaveLength(1);
  });

  it("project status updates and views (GraphQL): list, get by node id, create", async () => {
    const org = { owner: "octo-org", owner_type: "org", project_number: 7 };
    const updates = await call(h.client, "projects_read", {
      ...org,
      method: "list_project_status_updates",
      per_page: 1,
    });
    const q = graphql("query ProjectStatusUpdates").at(-1)!;
    expect(q.query).toContain("organization(login: $owner)");
    expect(q.variables).toEqual({ owner: "octo-org", number: 7, first: 1 });
    expect(updates.data).toEqual({
      items: [
        {
          node_id: "PVTSU_lADOAAAQks4AARGTzgAEXD8",
          status: "AT_RISK",
          body: "Release slips a week.",
          start_date: "2025-11-03",
          target_date: "2025-11-21",
          creator: "monalisa",
          created_at: "2025-11-05T10:00:00Z",
        },
      ],
      next_cursor: "Y3Vyc29yOnYyOpHOAARcPw==",
    });
    const views = await call(h.client, "projects_read", { ...org, method: "list_project_views" });
    expect(views.data.items).toEqual([
      {
        node_id: "PVTV_lADOAAAQks4AARGTzgAB2Jw",
        number: 1,
        name: "Board",
        layout: "board",
        filter: "is:open",
      },
      { node_id: "PVTV_lADOAAAQks4AARGTzgAB2Jx", number: 2, name: "All items", layout: "table" },
    ]);
    const view = await call(h.client, "projects_read", {
      method: "get_project_view",
      owner: "octo-org",
      node_id: "PVTV_lADOAAAQks4AARGTzgAB2Jw",
    });
    expect(view.data).toMatchObject({ number: 1, name: "Board" });
    expect(graphql("query ProjectNode").at(-1)!.variables).toEqual({ id: "PVTV_lADOAAAQks4AARGTzgAB2Jw" });
    // The next recorded node is a status update: asked for as a view, it is refused.
    const notView = await call(h.client, "projects_read", {
      method: "get_project_view",
      owner: "octo-org",
      node_id: "PVTSU_lADOAAAQks4AARGTzgAEXD8",
    });
    expect(notView.isError).toBe(true);
    expect(notView.text).toContain("is not a ProjectV2View");

    const created = await call(h.client, "projects_write", {
      ...org,
      method: "create_project_status_update",
      status: "ON_TRACK",
      body: "Back on track.",
      target_date: "2025-11-28",
    });
    expect(created.data).toMatchObject({ node_id: "PVTSU_lADOAAAQks4AARGTzgAEXE0", status: "ON_TRACK" });
    // The project's node id comes from its REST answer.
    expect(graphql("mutation CreateProjectV2StatusUpdate").at(-1)!.variables).toEqual({
      input: {
        projectId: "PVT_kwDOAAAQks4A70007",
        status: "ON_TRACK",
        body: "Back on track.",
        targetDate: "2025-11-28",
      },
    });
    const badDate = await call(h.client, "projects_write", {
      ...org,
      method: "create_project_status_update",
      target_date: "28/11/2025",
    });
    expect(badDate.isError).toBe(true);
    expect(badDate.text).toContain("YYYY-MM-DD");
    const project = await call(h.client, "projects_write", {
      method: "create_project",
      owner: "octo-org",
      title: "Q1 planning",
    });
    expect(project.data).toEqual({
      number: 8,
      node_id: "PVT_kwDOAAAQks4AEXD9",
      title: "Q1 planning",
      url: "https://github.com/orgs/octo-org/projects/8",
    });
    expect(graphql("mutation CreateProjectV2").at(-1)!.variables).toEqual({
      input: { ownerId: "MDQ6VXNlcj1001", title: "Q1 planning" },
    });
  });

  it("projects_write: views (REST create, GraphQL update and delete), an iteration field, a batch", async () => {
    const org = { owner: "octo-org", owner_type: "org", project_number: 7 };
    const created = await call(h.client, "projects_write", {
      ...org,
      method: "create_project_view",
      name: "Roadmap",
      layout: "roadmap",
      filter: "is:issue",
      visible_fields: [3003],
    });
    expect(created.data).toEqual({
      node_id: "PVTV_lADOAAAQks4AARGTzgAB2Jy",
      number: 3,
      name: "Roadmap",
      layout: "roadmap",
      filter: "is:issue",
    });
    // A roadmap shows no field columns: visible_fields is not sent for it.
    expect(JSON.parse(sent("POST", "/orgs/octo-org/projectsV2/7/views")[0]!.body)).toEqual({
      name: "Roadmap",
      layout: "roadmap",
      filter: "is:issue",
    });
    const view = { ...org, view_id: "PVTV_lADOAAAQks4AARGTzgAB2Jw" };
    const renamed = await call(h.client, "projects_write", {
      ...view,
      method: "update_project_view",
      name: "Sprint board",
      filter: "is:open sprint:@current",
    });
    expect(renamed.data).toMatchObject({ name: "Sprint board", layout: "board" });
    expect(graphql("query ProjectViewParent").at(-1)!.variables).toEqual({ id: view.view_id });
    expect(graphql("mutation UpdateProjectV2View").at(-1)!.variables).toEqual({
      input: { viewId: view.view_id, name: "Sprint board", filter: "is:open sprint:@current" },
    });
    // The view must belong to the project named: project #6 does not have it, and nothing is sent.
    const other = await call(h.client, "projects_write", {
      ...view,
      project_number: 6,
      method: "delete_project_view",
    });
    expect(other.isError).toBe(true);
    expect(other.text).toContain("is not a view of project #6");
    expect(graphql("mutation DeleteProjectV2View")).toHaveLength(0);
    const deleted = await call(h.client, "projects_write", { ...view, method: "delete_project_view" });
    expect(deleted.data).toEqual({ deleted_view: view.view_id });
    expect(graphql("mutation DeleteProjectV2View").at(-1)!.variables).toEqual({
      input: { viewId: view.view_id },
    });

    const sprint = await call(h.client, "projects_write", {
      ...org,
      method: "create_iteration_field",
      name: "Sprint 2026",
      start_date: "2026-01-05",
      duration: 14,
    });
    expect(graphql("mutation CreateProjectV2Field").at(-1)!.variables).toEqual({
      input: { projectId: "PVT_kwDOAAAQks4A70007", dataType: "ITERATION", name: "Sprint 2026" },
    });
    expect(graphql("mutation UpdateProjectV2Field").at(-1)!.variables).toEqual({
      input: {
        fieldId: "PVTIF_lADOAAAQks4AARGTzgDdXfQ",
        iterationConfiguration: { startDate: "2026-01-05", duration: 14, iterations: [] },
      },
    });
    expect(sprint.data).toMatchObject({ node_id: "PVTIF_lADOAAAQks4AARGTzgDdXfQ", name: "Sprint 2026" });
    expect(sprint.data.iterations).toHaveLength(3);

    // An item named by its issue, as the official server takes it: the issue's item on this project.
    const byIssue = await call(h.client, "projects_write", {
      ...org,
      method: "update_project_item",
      item_owner: "octo-org",
      item_repo: "widgets",
      number: 3,
      field_id: 3004,
      value: 5,
    });
    expect(byIssue.isError).toBeUndefined();
    expect(graphql("query IssueProjectItems").at(-1)!.variables).toEqual({ ...W, number: 3 });
    expect(JSON.parse(sent("PATCH", "/orgs/octo-org/projectsV2/7/items/9001").at(-1)!.body)).toEqual({
      fields: [{ id: 3004, value: 5 }],
    });
    const before = sent("PATCH", "/orgs/octo-org/projectsV2/7/items/9001").length;
    const batch = await call(h.client, "projects_write", {
      ...org,
      method: "update_project_items",
      item_ids: [9001, 9002],
      field_name: "Status",
      value: "Done",
    });
    expect(batch.data.updated).toBe(2);
    expect(sent("PATCH", "/orgs/octo-org/projectsV2/7/items/9001")).toHaveLength(before + 1);
    expect(JSON.parse(sent("PATCH", "/orgs/octo-org/projectsV2/7/items/9002")[0]!.body)).toEqual({
      fields: [{ id: 3003, value: "98236657" }],
    });
  });

  it("get_code_quality_finding", async () => {
    const r = await call(h.client, "get_code_quality_finding", { ...W, finding_number: 42 });
    expect(sent("GET", "/repos/octo-org/widgets/code-quality/findings/42")).toHaveLength(1);
    expect(r.data).toEqual({
      number: 42,
      state: "open",
      rule: "js/unused-local-variable",
      rule_title: "Unused variable, import, function or class",
      severity: "note",
      category: "maintainability",
      description: "Unused variables, imports, functions or classes",
      message: "Unused variable cacheSize.",
      path: "src/cache.ts",
      start_line: 12,
      end_line: 12,
      created_at: "2025-11-10T09:00:00Z",
    });
  });
});

describe("lockdown over discussions and project items", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(
      [ownFixture("graphql-discussions"), ownFixture("openapi-types-projects"), ownFixture("issues")],
      { toolsets: ["discussions", "projects"], lockdown: true },
    );
  });
  afterAll(() => h.close());

  it("withholds a stranger's discussion, comment and project item title on a public repository", async () => {
    const list = await call(h.client, "discussion_read", W);
    const [stranger, member] = list.data.items as Record<string, unknown>[];
    expect(stranger!.title).toBe("[withheld by lockdown mode: @stranger42 has no push access]");
    expect(member!.title).toBe("Roadmap for 2026");
    // The repository's visibility came with the query: no REST call to learn it.
    expect(h.fake.count("GET", "/repos/octo-org/widgets")).toBe(0);
    const get = await call(h.client, "discussion_read", { ...W, method: "get", number: 12 });
    expect(get.data.body).toBe("[withheld by lockdown mode: @stranger42 has no push access]");
    const comments = await call(h.client, "discussion_read", {
      ...W,
      method: "comments",
      number: 12,
      replies: true,
    });
    const [top] = comments.data.items as { body: string; replies: { body: string }[] }[];
    expect(top!.body).toBe("Set CACHE_DIR.");
    expect(top!.replies[0]!.body).toBe("[withheld by lockdown mode: @stranger42 has no push access]");
    const items = await call(h.client, "projects_read", {
      method: "list_project_items",
      owner: "octo-org",
      owner_type: "org",
      project_number: 7,
    });
    const titles = (items.data.items as { title: string }[]).map((i) => i.title);
    expect(titles).toEqual([
      "Widget crashes on start",
      "[withheld by lockdown mode: @stranger42 has no push access]",
    ]);
  });
});
