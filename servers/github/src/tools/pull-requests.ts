import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { path } from "../github/client.js";
import { pageDiff } from "../github/diff.js";
import { cleanText } from "../github/sanitize.js";
import { lockdown, withoutAssociation, withheldPull } from "../github/lockdown.js";
import {
  asList,
  compact,
  fileChange,
  keep,
  obj,
  pullRequest,
  review,
  reviewComment,
} from "../github/shape.js";
import type { Ctx } from "../deps.js";
import { declined, fields, defineTool, owner, page, perPage, READ, repo, WRITE, rawText } from "./common.js";
import { listPage } from "./list.js";

const pullNumber = selfDescribing(z.number().int().min(1));

export const listPullRequestsTool = defineTool({
  toolset: "pull_requests",
  output: o.list(o.pullSummary),
  name: "list_pull_requests",
  title: "List pull requests",
  description:
    "A repository's pull requests without bodies, filtered by state, head and base. Details: pull_request_read.",
  input: z.object({
    owner,
    repo,
    state: selfDescribing(z.enum(["open", "closed", "all"]).default("open")),
    head: z.string().optional().describe("user:branch"),
    base: selfDescribing(z.string().optional()),
    sort: selfDescribing(z.enum(["created", "updated", "popularity", "long-running"]).optional()),
    direction: selfDescribing(z.enum(["asc", "desc"]).optional()),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: ({ owner, repo, page, per_page, fields, ...filters }, ctx) =>
    listPage(ctx, {
      path: path`/repos/${owner}/${repo}/pulls`,
      query: filters,
      page,
      per_page,
      fields,
      permission: "pulls:read",
      shape: (p) => pullRequest(p, false),
      repo: { owner, repo },
    }),
});

async function headSha(ctx: Ctx, owner: string, repo: string, n: number): Promise<string> {
  const res = await ctx.deps.gh.request({
    path: path`/repos/${owner}/${repo}/pulls/${n}`,
    permission: "pulls:read",
    signal: ctx.signal,
  });
  return String(obj(obj(res.data).head).sha);
}

export const pullRequestReadTool = defineTool({
  toolset: "pull_requests",
  output: o.shape({
    ...o.pullRequest,
    ...o.diffPage,
    ...o.paging,
    items: z.array(o.shape({ ...o.fileChange, ...o.review, ...o.reviewComment })),
    sha: o.s,
    failing_checks: o.n,
    statuses: z.array(o.shape({ context: o.s, state: o.s, description: o.s, url: o.s })),
    checks: z.array(o.shape({ name: o.s, status: o.s, conclusion: o.s, url: o.s })),
  }),
  name: "pull_request_read",
  title: "Read a pull request",
  description:
    "method=get: details and body; diff: unified diff paged by file or offset/max_bytes (next_offset; files lists each file's size); files; status: statuses and check runs of the head; reviews; review_comments.",
  input: z.object({
    owner,
    repo,
    pull_number: pullNumber,
    method: selfDescribing(
      z.enum(["get", "diff", "files", "status", "reviews", "review_comments"]).default("get"),
    ),
    file: z.string().optional().describe("diff: only this file"),
    offset: z.number().int().min(0).default(0).describe("diff: start here"),
    max_bytes: z.number().int().min(1000).max(100_000).default(20_000).describe("diff: most characters"),
    page,
    per_page: perPage,
  }),
  render: rawText("diff"),
  annotations: READ,
  handler: async ({ owner, repo, pull_number, method, file, offset, max_bytes, page, per_page }, ctx) => {
    const gh = ctx.deps.gh;
    const at = path`/repos/${owner}/${repo}/pulls/${pull_number}`;
    const list = { page, per_page, permission: "pulls:read" as const, repo: { owner, repo } };
    switch (method) {
      case "get": {
        const res = await gh.request({ path: at, permission: "pulls:read", signal: ctx.signal });
        const [pr] = await lockdown(ctx, owner, repo, [pullRequest(res.data, true)]);
        return pr!;
      }
      case "diff": {
        // A stranger's diff is their text as much as their description is (comments, strings).
        const withheld = await withheldPull(ctx, owner, repo, pull_number);
        if (withheld) return { withheld };
        const res = await gh.request<string>({
          path: at,
          accept: "application/vnd.github.diff",
          text: true,
          permission: "pulls:read",
          signal: ctx.signal,
        });
        return { ...pageDiff(String(res.data ?? ""), file, offset, max_bytes) };
      }
      case "files":
        return listPage(ctx, { ...list, path: `${at}/files`, shape: fileChange });
      case "reviews":
        return listPage(ctx, { ...list, path: `${at}/reviews`, shape: review });
      case "review_comments":
        return listPage(ctx, { ...list, path: `${at}/comments`, shape: reviewComment });
      case "status": {
        const sha = await headSha(ctx, owner, repo, pull_number);
        const [status, checks] = await Promise.all([
          gh.request({
            path: path`/repos/${owner}/${repo}/commits/${sha}/status`,
            permission: "checks:read",
            signal: ctx.signal,
          }),
          gh.request({
            path: path`/repos/${owner}/${repo}/commits/${sha}/check-runs`,
            query: { per_page: 100 },
            permission: "checks:read",
            signal: ctx.signal,
          }),
        ]);
        const runs = asList(obj(checks.data).check_runs).map((c) =>
          compact({
            name: obj(c).name,
            status: obj(c).status,
            conclusion: obj(c).conclusion,
            url: obj(c).html_url,
          }),
        );
        const failing = runs.filter((r) =>
          ["failure", "timed_out", "cancelled", "action_required"].includes(String(r.conclusion)),
        );
        return compact({
          sha,
          state: obj(status.data).state,
          failing_checks: failing.length,
          statuses: asList(obj(status.data).statuses).map((s) =>
            compact({
              context: obj(s).context,
              state: obj(s).state,
              description: obj(s).description,
              url: obj(s).target_url,
            }),
          ),
          checks: runs,
        });
      }
    }
  },
});

const inlineComment = z.object({
  path: z.string(),
  line: z.number().int().min(1).describe("File line"),
  side: z.enum(["LEFT", "RIGHT"]).optional().describe("RIGHT (new, default) or LEFT"),
  start_line: z.number().int().min(1).optional().describe("Range start"),
  body: z.string(),
});
type InlineComment = z.infer<typeof inlineComment>;

export const pullRequestWriteTool = defineTool({
  toolset: "pull_requests",
  output: o.shape({
    ...o.pullBrief,
    ...o.declinedShape,
    requested_reviewers: o.ss,
    message: o.s,
    merged: o.b,
    sha: o.s,
    ...o.review,
    deleted: o.n,
  }),
  name: "pull_request_write",
  title: "Create, update, review or merge a pull request",
  description:
    "method=create opens a PR from head into base; update changes pull_number (closing asks the user to confirm); both can request reviewers. update_branch merges base into the head branch. review: body, inline comments and event (none: left pending); submit_pending_review submits yours with event, delete_pending_review discards it. merge asks the user, then merges by merge_method; pass expected_head_sha, the head you reviewed, so a PR that moved since is not merged.",
  input: z.object({
    method: selfDescribing(
      z.enum([
        "create",
        "update",
        "update_branch",
        "review",
        "submit_pending_review",
        "delete_pending_review",
        "merge",
      ]),
    ),
    owner,
    repo,
    pull_number: pullNumber.optional(),
    title: z.string().optional().describe("PR title; merge: commit title"),
    body: z.string().optional().describe("Markdown description; review: summary; merge: commit message"),
    head: z.string().optional().describe("create: branch with the changes"),
    base: z.string().optional().describe("Target branch"),
    draft: selfDescribing(z.boolean().optional()),
    state: selfDescribing(z.enum(["open", "closed"]).optional()),
    maintainer_can_modify: selfDescribing(z.boolean().optional()),
    expected_head_sha: z.string().optional().describe("update_branch, merge: fail if head moved"),
    reviewers: z.array(z.string()).optional().describe("Logins to request reviews from"),
    merge_method: selfDescribing(z.enum(["merge", "squash", "rebase"]).default("merge")),
    event: selfDescribing(z.enum(["APPROVE", "REQUEST_CHANGES", "COMMENT"]).optional()),
    comments: z.array(inlineComment).optional().describe("review: inline comments"),
    commit_id: z.string().optional().describe("review: sha reviewed"),
  }),
  annotations: { ...WRITE, destructiveHint: true },
  handler: async (input, ctx) => {
    const { method, owner, repo, pull_number, expected_head_sha, reviewers, merge_method, ...rest } = input;
    const { event, comments, commit_id, ...f } = rest;
    const gh = ctx.deps.gh;
    const base = { permission: "pulls:write" as const, auth: "required" as const, signal: ctx.signal };
    const body = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    const requestReviews = async (pr: Record<string, unknown>) => {
      if (!reviewers?.length) return pr;
      await gh.request({
        ...base,
        method: "POST",
        path: path`/repos/${owner}/${repo}/pulls/${Number(pr.number)}/requested_reviewers`,
        body: { reviewers },
      });
      return { ...pr, requested_reviewers: reviewers };
    };
    if (method === "create") {
      if (!f.title || !f.head || !f.base)
        throw new ToolshedError("invalid_input", "method=create needs title, head and base");
      const res = await gh.request({
        ...base,
        method: "POST",
        path: path`/repos/${owner}/${repo}/pulls`,
        body,
      });
      return requestReviews(keep(pullRequest(res.data, false), o.pullBrief));
    }
    if (pull_number === undefined)
      throw new ToolshedError("invalid_input", `method=${method} needs pull_number`);
    if (method === "review" || method === "submit_pending_review" || method === "delete_pending_review") {
      const review = { method, owner, repo, pull_number, event, body: f.body, comments, commit_id };
      return writeReview(ctx, review);
    }
    if (method === "merge") {
      const merge = { owner, repo, pull_number, merge_method, sha: expected_head_sha };
      return mergePull(ctx, { ...merge, commit_title: f.title, commit_message: f.body });
    }
    if (method === "update_branch") {
      const res = await gh.request({
        ...base,
        method: "PUT",
        path: path`/repos/${owner}/${repo}/pulls/${pull_number}/update-branch`,
        body: compact({ expected_head_sha }),
      });
      return { number: pull_number, message: obj(res.data).message ?? "update scheduled" };
    }
    if (Object.keys(body).length === 0) {
      if (!reviewers?.length)
        throw new ToolshedError("invalid_input", "method=update needs something to change");
      return requestReviews({ number: pull_number });
    }
    if (f.state === "closed") {
      gh.requireToken("pulls:write");
      const pr = pull_number;
      const confirmed = await ctx.confirm(
        async () => `Close ${await prSummary(ctx, owner, repo, pr)} without merging?`,
      );
      if (!confirmed) return declined(`closing PR #${pull_number} in ${owner}/${repo}`);
    }
    const res = await gh.request({
      ...base,
      method: "PATCH",
      path: path`/repos/${owner}/${repo}/pulls/${pull_number}`,
      body,
    });
    return requestReviews(keep(pullRequest(res.data, false), o.pullBrief));
  },
});

/** `PR #7 "Title" (head into base) in owner/repo`, for a confirmation: one GET of the pull request. */
async function prSummary(ctx: Ctx, owner: string, repo: string, pull_number: number): Promise<string> {
  const res = await ctx.deps.gh.request({
    path: path`/repos/${owner}/${repo}/pulls/${pull_number}`,
    permission: "pulls:read",
    signal: ctx.signal,
  });
  const pr = obj(res.data);
  const head = String(obj(pr.head).label ?? obj(pr.head).ref);
  // Untrusted text shown to a person: no invisible characters that could make it read otherwise.
  return `PR #${pull_number} ${JSON.stringify(cleanText(String(pr.title)))} (${head} into ${String(obj(pr.base).ref)}) in ${owner}/${repo}`;
}

/** pull_request_write method=merge: asks the person first, then merges if the head is still `sha`. */
async function mergePull(
  ctx: Ctx,
  m: {
    owner: string;
    repo: string;
    pull_number: number;
    merge_method: "merge" | "squash" | "rebase";
    commit_title: string | undefined;
    commit_message: string | undefined;
    sha: string | undefined;
  },
): Promise<Record<string, unknown>> {
  const { owner, repo, pull_number } = m;
  const body = compact({
    merge_method: m.merge_method,
    commit_title: m.commit_title,
    commit_message: m.commit_message,
    sha: m.sha,
  });
  const gh = ctx.deps.gh;
  gh.requireToken("contents:write");
  const confirmed = await ctx.confirm(async () => {
    const pr = await prSummary(ctx, owner, repo, pull_number);
    return `Merge ${pr} by ${body.merge_method}${body.sha ? ` (only if its head is still ${body.sha})` : ""}?`;
  });
  if (!confirmed) return declined(`merging PR #${pull_number} in ${owner}/${repo}`);
  const res = await gh.request({
    method: "PUT",
    path: path`/repos/${owner}/${repo}/pulls/${pull_number}/merge`,
    body,
    permission: "contents:write",
    auth: "required",
    signal: ctx.signal,
  });
  return compact({ merged: obj(res.data).merged, sha: obj(res.data).sha, message: obj(res.data).message });
}

/** pull_request_write's review methods: a review (pending without an event), or your pending one submitted or deleted. */
async function writeReview(
  ctx: Ctx,
  r: {
    method: "review" | "submit_pending_review" | "delete_pending_review";
    owner: string;
    repo: string;
    pull_number: number;
    event: "APPROVE" | "REQUEST_CHANGES" | "COMMENT" | undefined;
    body: string | undefined;
    comments: InlineComment[] | undefined;
    commit_id: string | undefined;
  },
): Promise<Record<string, unknown>> {
  const { method, owner, repo, pull_number, event, body, comments, commit_id } = r;
  const gh = ctx.deps.gh;
  const at = path`/repos/${owner}/${repo}/pulls/${pull_number}/reviews`;
  const base = { permission: "pulls:write" as const, auth: "required" as const, signal: ctx.signal };
  if (method === "review") {
    const res = await gh.request({
      ...base,
      method: "POST",
      path: at,
      body: compact({ event, body, comments, commit_id }),
    });
    return withoutAssociation(review(res.data));
  }
  gh.requireToken("pulls:write");
  const me = await gh.request({ path: "/user", permission: "user:read", signal: ctx.signal });
  const reviews = await gh.request({
    path: at,
    query: { per_page: 100 },
    permission: "pulls:read",
    signal: ctx.signal,
  });
  const pending = asList(reviews.data).find(
    (r) => obj(r).state === "PENDING" && obj(obj(r).user).login === obj(me.data).login,
  );
  if (!pending)
    throw new ToolshedError(
      "not_found",
      "you have no pending review on this PR; start one with method=review and no event",
    );
  const id = Number(obj(pending).id);
  if (method === "delete_pending_review") {
    await gh.request({ ...base, method: "DELETE", path: `${at}/${id}` });
    return { deleted: id };
  }
  if (!event) throw new ToolshedError("invalid_input", "method=submit_pending_review needs event");
  const res = await gh.request({
    ...base,
    method: "POST",
    path: `${at}/${id}/events`,
    body: compact({ event, body }),
  });
  return withoutAssociation(review(res.data));
}

export const pullRequestTools = [listPullRequestsTool, pullRequestReadTool, pullRequestWriteTool];
