import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { path } from "../github/client.js";
import { lockdown } from "../github/lockdown.js";
import { cleanText } from "../github/sanitize.js";
import { asList, comment, compact, issue, keep, obj } from "../github/shape.js";
import type { Ctx } from "../deps.js";
import { declined, fields, defineTool, owner, page, perPage, READ, repo, WRITE } from "./common.js";
import { listPage } from "./list.js";

const issueNumber = selfDescribing(z.number().int().min(1));

// list_issues leaves pull requests out, so its items never say is_pull_request.
const { is_pull_request: _isPull, ...issueOnly } = o.issue;

export const listIssuesTool = defineTool({
  toolset: "issues",
  output: o.list(issueOnly),
  name: "list_issues",
  title: "List a repository's issues",
  description:
    "A repository's issues without bodies (pull requests left out: list_pull_requests), filtered. Text search: search_issues; one issue with comments: get_issue.",
  input: z.object({
    owner,
    repo,
    state: selfDescribing(z.enum(["open", "closed", "all"]).default("open")),
    labels: z.array(z.string()).optional().describe("All of these labels"),
    assignee: z.string().optional().describe("Login, 'none' or '*'"),
    creator: z.string().optional().describe("Author login"),
    since: z.string().optional().describe("Updated at or after (ISO 8601)"),
    sort: selfDescribing(z.enum(["created", "updated", "comments"]).optional()),
    direction: selfDescribing(z.enum(["asc", "desc"]).optional()),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: ({ owner, repo, labels, page, per_page, fields, ...filters }, ctx) =>
    listPage(ctx, {
      path: path`/repos/${owner}/${repo}/issues`,
      query: { ...filters, labels: labels?.join(",") },
      page,
      per_page,
      fields,
      permission: "issues:read",
      // GitHub's issues endpoint returns pull requests too; a page may hold fewer than per_page.
      from: (d) => asList(d).filter((i) => !obj(i).pull_request),
      shape: (i) => issue(i, false),
      repo: { owner, repo },
    }),
});

export const getIssueTool = defineTool({
  toolset: "issues",
  output: o.shape({
    ...o.issue,
    ...o.body,
    comment_list: z.array(o.shape(o.comment)),
    comments_next_page: o.n,
    sub_issue_list: z.array(o.shape(o.issueBrief)),
  }),
  name: "get_issue",
  title: "Get an issue with its comments",
  description:
    "One issue (or PR) with its body (capped), a page of comments (oldest first; comments_page for more) and optionally its sub-issues.",
  input: z.object({
    owner,
    repo,
    issue_number: issueNumber,
    comments: z.number().int().min(0).max(100).default(10).describe("Comments per page, 0 for none"),
    comments_page: selfDescribing(z.number().int().min(1).default(1)),
    sub_issues: selfDescribing(z.boolean().default(false)),
  }),
  annotations: READ,
  handler: async ({ owner, repo, issue_number, comments, comments_page, sub_issues }, ctx) => {
    const gh = ctx.deps.gh;
    const at = path`/repos/${owner}/${repo}/issues/${issue_number}`;
    const res = await gh.request({ path: at, permission: "issues:read", signal: ctx.signal });
    const [shaped] = await lockdown(ctx, owner, repo, [issue(res.data, true)]);
    const out: Record<string, unknown> = { ...shaped };
    if (comments > 0 && Number(obj(res.data).comments) > 0) {
      const page = await listPage(ctx, {
        path: `${at}/comments`,
        page: comments_page,
        per_page: comments,
        permission: "issues:read",
        shape: comment,
        repo: { owner, repo },
      });
      out.comment_list = page.items;
      if (page.next_page) out.comments_next_page = page.next_page;
    }
    if (sub_issues) {
      const subs = await listPage(ctx, {
        path: `${at}/sub_issues`,
        page: 1,
        per_page: 100,
        permission: "issues:read",
        shape: (i) => issue(i, false),
        repo: { owner, repo },
      });
      out.sub_issue_list = (subs.items as Record<string, unknown>[]).map((i) => keep(i, o.issueBrief));
    }
    return out;
  },
});

export const searchIssuesTool = defineTool({
  toolset: "issues",
  output: o.list({ ...o.issue, repo: o.s }),
  name: "search_issues",
  title: "Search issues and pull requests",
  description:
    "GitHub issue search across repositories, e.g. 'repo:o/r is:issue is:open label:bug crash' or 'is:pr author:me review:required'. Include is:issue or is:pr. Items without bodies.",
  input: z.object({
    query: z.string().describe("GitHub search syntax"),
    sort: selfDescribing(z.enum(["comments", "reactions", "created", "updated"]).optional()),
    order: selfDescribing(z.enum(["asc", "desc"]).optional()),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: async ({ query, sort, order, page, per_page, fields }, ctx) => {
    const out = await listPage(ctx, {
      path: "/search/issues",
      query: { q: query, sort, order },
      page,
      per_page,
      fields: fields && [...fields, "repo"],
      permission: "issues:read",
      from: (d) => asList(obj(d).items),
      shape: (i) => ({
        repo: (typeof obj(i).repository_url === "string" ? (obj(i).repository_url as string) : "").replace(
          /^.*\/repos\//,
          "",
        ),
        ...issue(i, false),
      }),
      repo: (item) => (typeof item.repo === "string" ? item.repo : undefined),
    });
    return out;
  },
});

/** issue_write method=comment: a comment on an issue or PR, or a reply to a PR review comment. */
async function addComment(
  ctx: Ctx,
  c: { owner: string; repo: string; issue_number: number; body: string; reply_to: number | undefined },
): Promise<Record<string, unknown>> {
  const { owner, repo, issue_number, reply_to } = c;
  const res = await ctx.deps.gh.request({
    method: "POST",
    path:
      reply_to === undefined
        ? path`/repos/${owner}/${repo}/issues/${issue_number}/comments`
        : path`/repos/${owner}/${repo}/pulls/${issue_number}/comments/${reply_to}/replies`,
    body: { body: c.body },
    permission: reply_to === undefined ? "issues:write" : "pulls:write",
    auth: "required",
    signal: ctx.signal,
  });
  return { id: obj(res.data).id, url: obj(res.data).html_url };
}

export const issueWriteTool = defineTool({
  toolset: "issues",
  output: o.shape({
    ...o.issueBrief,
    ...o.declinedShape,
    id: o.n,
    url: o.s,
  }),
  name: "issue_write",
  title: "Create, update or comment on an issue",
  description:
    "method=create opens an issue (title required); update changes issue_number (closing asks the user to confirm); comment posts body on issue or PR issue_number, or with reply_to answers that PR review comment; *_sub_issue: adds, removes or reorders sub_issue under parent issue_number.",
  input: z.object({
    method: selfDescribing(
      z.enum(["create", "update", "comment", "add_sub_issue", "remove_sub_issue", "reprioritize_sub_issue"]),
    ),
    owner,
    repo,
    issue_number: issueNumber.optional(),
    title: selfDescribing(z.string().optional()),
    body: z.string().optional().describe("Markdown body"),
    labels: z.array(z.string()).optional().describe("Label names (replace all)"),
    assignees: z.array(z.string()).optional().describe("Logins (replace all)"),
    milestone: z.number().int().min(1).nullable().optional().describe("Milestone number, null to clear"),
    state: selfDescribing(z.enum(["open", "closed"]).optional()),
    state_reason: z
      .enum(["completed", "not_planned", "duplicate", "reopened"])
      .optional()
      .describe("Why closed"),
    type: z.string().optional().describe("Issue type, if the org has types"),
    reply_to: z.number().int().min(1).optional().describe("comment: PR review comment id"),
    sub_issue: z.number().int().min(1).optional().describe("Its number (same repo)"),
    replace_parent: z.boolean().optional().describe("add_sub_issue: move from its parent"),
    after: z.number().int().min(1).optional().describe("reprioritize: after this sub-issue"),
    before: z.number().int().min(1).optional().describe("reprioritize: before this sub-issue"),
  }),
  annotations: WRITE,
  handler: async ({ method, owner, repo, issue_number, reply_to, ...rest }, ctx) => {
    const { sub_issue, replace_parent, after, before, ...fieldsIn } = rest;
    if (method === "add_sub_issue" || method === "remove_sub_issue" || method === "reprioritize_sub_issue") {
      if (issue_number === undefined || sub_issue === undefined) {
        throw new ToolshedError(
          "invalid_input",
          `method=${method} needs issue_number (the parent) and sub_issue`,
        );
      }
      const subIssue = { method, owner, repo, issue_number, sub_issue, replace_parent, after, before };
      return writeSubIssue(ctx, subIssue);
    }
    if (method === "comment") {
      if (issue_number === undefined || !fieldsIn.body)
        throw new ToolshedError("invalid_input", "method=comment needs issue_number and body");
      return addComment(ctx, { owner, repo, issue_number, body: fieldsIn.body, reply_to });
    }
    // Another method's fields would be dropped without a word: say so instead.
    const stray = Object.entries({ reply_to, sub_issue, replace_parent, after, before })
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (stray.length > 0) {
      throw new ToolshedError(
        "invalid_input",
        `method=${method} takes no ${stray.join(", ")} (reply_to is for method=comment; sub_issue, replace_parent, after and before for the *_sub_issue methods)`,
      );
    }
    const body = Object.fromEntries(Object.entries(fieldsIn).filter(([, v]) => v !== undefined));
    if (method === "create" && !fieldsIn.title)
      throw new ToolshedError("invalid_input", "method=create needs a title");
    if (method === "update" && issue_number === undefined) {
      throw new ToolshedError("invalid_input", "method=update needs issue_number");
    }
    if (method === "update" && fieldsIn.state === "closed") {
      const gh = ctx.deps.gh;
      gh.requireToken("issues:write");
      const confirmed = await ctx.confirm(async () => {
        const res = await gh.request({
          path: path`/repos/${owner}/${repo}/issues/${issue_number!}`,
          permission: "issues:read",
          signal: ctx.signal,
        });
        const title = JSON.stringify(cleanText(String(obj(res.data).title)));
        return `Close issue #${issue_number!} ${title} in ${owner}/${repo}${fieldsIn.state_reason ? ` as ${fieldsIn.state_reason}` : ""}?`;
      });
      if (!confirmed) return declined(`closing issue #${issue_number!} in ${owner}/${repo}`);
    }
    const res = await ctx.deps.gh.request({
      method: method === "create" ? "POST" : "PATCH",
      path:
        method === "create"
          ? path`/repos/${owner}/${repo}/issues`
          : path`/repos/${owner}/${repo}/issues/${issue_number!}`,
      body,
      permission: "issues:write",
      auth: "required",
      signal: ctx.signal,
    });
    return keep(issue(res.data, false), o.issueBrief);
  },
});

const ISSUE_FIELD = `__typename id name description dataType visibility`;
const ISSUE_FIELDS_QUERY = (
  inRepo: boolean,
) => `query(${inRepo ? "$owner: String!, $name: String!" : "$owner: String!"}) {
  ${inRepo ? "repository(owner: $owner, name: $name)" : "organization(login: $owner)"} { issueFields(first: 100) { nodes {
    ... on IssueFieldText { ${ISSUE_FIELD} }
    ... on IssueFieldNumber { ${ISSUE_FIELD} }
    ... on IssueFieldDate { ${ISSUE_FIELD} }
    ... on IssueFieldSingleSelect { ${ISSUE_FIELD} options { name description } }
  } } }
}`;

export const listIssueOptionsTool = defineTool({
  toolset: "issues",
  output: o.shape({
    ...o.paging,
    name: o.s,
    color: o.s,
    description: o.s,
    items: z.array(
      o.shape({
        name: o.s,
        color: o.s,
        description: o.s,
        type: o.s,
        options: o.ss,
        login: o.s,
        permission: o.s,
      }),
    ),
  }),
  name: "list_issue_options",
  title: "Issue labels, types, fields and collaborators",
  description:
    "What issue_write accepts: kind=labels (label: one by name), types (the org's issue types), fields (custom fields; repo optional), collaborators (with their permission).",
  input: z.object({
    owner,
    repo: z.string().optional().describe("Repo name (types: unused)"),
    kind: selfDescribing(z.enum(["labels", "label", "types", "fields", "collaborators"]).default("labels")),
    name: z.string().optional().describe("label: its name"),
    page,
    per_page: perPage,
  }),
  annotations: READ,
  handler: async ({ owner, repo, kind, name, page, per_page }, ctx) => {
    const label = (l: unknown) =>
      compact({ name: obj(l).name, color: obj(l).color, description: obj(l).description });
    const needRepo = (): string => {
      if (!repo) throw new ToolshedError("invalid_input", `kind=${kind} needs repo`);
      return repo;
    };
    switch (kind) {
      case "types": {
        const res = await ctx.deps.gh.request({
          path: path`/orgs/${owner}/issue-types`,
          permission: "issues:read",
          signal: ctx.signal,
        });
        return {
          items: asList(res.data).map((t) =>
            compact({ name: obj(t).name, description: obj(t).description, color: obj(t).color }),
          ),
        };
      }
      case "fields": {
        const data = await ctx.deps.gh.graphql(
          ISSUE_FIELDS_QUERY(Boolean(repo)),
          repo ? { owner, name: repo } : { owner },
          { permission: "issues:read", signal: ctx.signal, features: ["issue_fields", "repo_issue_fields"] },
        );
        const holder = obj(repo ? data.repository : data.organization);
        return {
          items: asList(obj(holder.issueFields).nodes).map((f) =>
            compact({
              name: obj(f).name,
              type: obj(f).dataType,
              description: obj(f).description,
              options: asList(obj(f).options).map((o) => obj(o).name),
            }),
          ),
        };
      }
      case "label": {
        if (!name) throw new ToolshedError("invalid_input", "kind=label needs name");
        const res = await ctx.deps.gh.request({
          path: path`/repos/${owner}/${needRepo()}/labels/${name}`,
          permission: "issues:read",
          signal: ctx.signal,
        });
        return label(res.data);
      }
      case "collaborators":
        return listPage(ctx, {
          path: path`/repos/${owner}/${needRepo()}/collaborators`,
          page,
          per_page,
          permission: "contents:read",
          auth: "required",
          shape: (u) => compact({ login: obj(u).login, permission: obj(u).role_name }),
        });
      default:
        return listPage(ctx, {
          path: path`/repos/${owner}/${needRepo()}/labels`,
          page,
          per_page,
          permission: "issues:read",
          shape: label,
        });
    }
  },
});

async function issueId(ctx: Ctx, owner: string, repo: string, n: number): Promise<number> {
  const res = await ctx.deps.gh.request({
    path: path`/repos/${owner}/${repo}/issues/${n}`,
    permission: "issues:read",
    signal: ctx.signal,
  });
  return Number(obj(res.data).id);
}

/** issue_write's sub-issue methods, on parent issue_number: add, remove or reprioritize sub_issue. */
async function writeSubIssue(
  ctx: Ctx,
  w: {
    method: `${"add" | "remove" | "reprioritize"}_sub_issue`;
    owner: string;
    repo: string;
    issue_number: number;
    sub_issue: number;
    replace_parent: boolean | undefined;
    after: number | undefined;
    before: number | undefined;
  },
): Promise<Record<string, unknown>> {
  const { method, owner, repo, issue_number, sub_issue, replace_parent, after, before } = w;
  const gh = ctx.deps.gh;
  if (method === "reprioritize_sub_issue" && (after === undefined) === (before === undefined)) {
    throw new ToolshedError(
      "invalid_input",
      "method=reprioritize_sub_issue needs exactly one of after or before",
    );
  }
  gh.requireToken("issues:write");
  const sub_issue_id = await issueId(ctx, owner, repo, sub_issue);
  const at = path`/repos/${owner}/${repo}/issues/${issue_number}`;
  const base = { permission: "issues:write" as const, auth: "required" as const, signal: ctx.signal };
  if (method === "add_sub_issue") {
    await gh.request({
      ...base,
      method: "POST",
      path: `${at}/sub_issues`,
      body: compact({ sub_issue_id, replace_parent }),
    });
  } else if (method === "remove_sub_issue") {
    await gh.request({ ...base, method: "DELETE", path: `${at}/sub_issue`, body: { sub_issue_id } });
  } else {
    const other = await issueId(ctx, owner, repo, (after ?? before)!);
    await gh.request({
      ...base,
      method: "PATCH",
      path: `${at}/sub_issues/priority`,
      body: after !== undefined ? { sub_issue_id, after_id: other } : { sub_issue_id, before_id: other },
    });
  }
  // The model named the parent and the sub-issue: the answer need not say them again.
  return { done: true };
}

export const issueTools = [
  listIssuesTool,
  getIssueTool,
  searchIssuesTool,
  issueWriteTool,
  listIssueOptionsTool,
];
