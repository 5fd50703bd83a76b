import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import * as m from "./outputs-more.js";
import { lockdown } from "../github/lockdown.js";
import { capText, cleanText } from "../github/sanitize.js";
import { asList, compact, obj, pick } from "../github/shape.js";
import type { Ctx } from "../deps.js";
import { declined, defineTool, fields, owner, perPage, READ, WRITE } from "./common.js";

/*
 * The discussions toolset, over GitHub's GraphQL API (REST has no discussions), as the official
 * server reads and writes them. Each query is named: the name says what it is in GitHub's logs, and
 * the loopback GitHub of the tests tells queries apart by it.
 */

type Json = Record<string, unknown>;

const BODY_CAP = 4000;
const COMMENT_CAP = 2000;

const after = z.string().optional().describe("Cursor: a previous answer's next_cursor");

/** A trimmed text: cleaned of hidden characters, capped with a note saying where the rest is. */
function body(text: unknown, cap: number): Json {
  const { text: t, truncated } = capText(cleanText(text as string | null), cap, "open the url for the rest");
  return truncated ? { body: t, body_truncated: truncated } : { body: t };
}

const login = (a: unknown): unknown => obj(a).login;

function discussion(d: unknown, withBody: boolean): Json {
  const x = obj(d);
  return compact({
    number: x.number,
    title: cleanText(x.title as string | null),
    author: login(x.author),
    author_association: x.authorAssociation,
    category: obj(x.category).name,
    closed: x.closed,
    answered: x.isAnswered,
    answer_chosen_at: x.answerChosenAt,
    comments: obj(x.comments).totalCount,
    created_at: x.createdAt,
    updated_at: x.updatedAt,
    url: x.url,
    ...(withBody ? body(x.body, BODY_CAP) : {}),
  });
}

function comment(c: unknown): Json {
  const x = obj(c);
  return compact({
    id: x.id,
    author: login(x.author),
    author_association: x.authorAssociation,
    is_answer: x.isAnswer,
    created_at: x.createdAt,
    ...body(x.body, COMMENT_CAP),
    url: x.url,
  });
}

/** The page after this one, when there is one. */
function cursor(connection: unknown): Json {
  const c = obj(connection);
  const info = obj(c.pageInfo);
  return compact({ next_cursor: info.hasNextPage ? info.endCursor : undefined, total_count: c.totalCount });
}

/**
 * The repository of a GraphQL answer, for lockdown: its visibility comes with the query (isPrivate),
 * so lockdown needs no REST call to learn it.
 */
function repositoryOf(ctx: Ctx, owner: string, repo: string, data: Json): Json {
  const r = data.repository;
  if (!r) {
    throw new ToolshedError(
      "not_found",
      `repository ${owner}/${repo} not found (or the token cannot see it); check owner and repo`,
    );
  }
  const x = obj(r);
  if (typeof x.isPrivate === "boolean")
    ctx.deps.visibility.set(`${owner}/${repo}`.toLowerCase(), !x.isPrivate);
  return x;
}

const FIELDS = `number title author { login } authorAssociation category { name } closed isAnswered answerChosenAt comments { totalCount } createdAt updatedAt url`;
const COMMENT_FIELDS = `id author { login } authorAssociation isAnswer createdAt body url`;

export const LIST_DISCUSSIONS = `query ListDiscussions($owner: String!, $repo: String!, $first: Int!, $after: String, $categoryId: ID, $orderBy: DiscussionOrder) {
  repository(owner: $owner, name: $repo) {
    isPrivate
    discussions(first: $first, after: $after, categoryId: $categoryId, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ${FIELDS} }
    }
  }
}`;

export const GET_DISCUSSION = `query GetDiscussion($owner: String!, $repo: String!, $number: Int!) {
  repository(owner: $owner, name: $repo) {
    isPrivate
    discussion(number: $number) { ${FIELDS} body }
  }
}`;

export const DISCUSSION_COMMENTS = `query DiscussionComments($owner: String!, $repo: String!, $number: Int!, $first: Int!, $after: String, $replies: Boolean!) {
  repository(owner: $owner, name: $repo) {
    isPrivate
    discussion(number: $number) {
      comments(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          ${COMMENT_FIELDS}
          replies(first: 100) @include(if: $replies) { totalCount nodes { ${COMMENT_FIELDS} } }
        }
      }
    }
  }
}`;

export const DISCUSSION_CATEGORIES = `query DiscussionCategories($owner: String!, $repo: String!) {
  repository(owner: $owner, name: $repo) {
    discussionCategories(first: 100) { totalCount nodes { id name description isAnswerable } }
  }
}`;

export const discussionReadTool = defineTool({
  toolset: "discussions",
  output: o.shape({
    ...m.discussion,
    ...m.cursorPaging,
    items: z.array(o.shape({ ...m.discussion, ...m.discussionComment, ...m.discussionCategory })),
  }),
  name: "discussion_read",
  title: "Read discussions",
  description:
    "method=list a repository's discussions (without repo: the org's, in its .github repository; category id, order_by), get one by number with its body, comments (replies: true nests each comment's replies), categories (their ids for list). Pages by cursor: pass next_cursor as after.",
  input: z.object({
    method: selfDescribing(z.enum(["list", "get", "comments", "categories"]).default("list")),
    owner,
    repo: z.string().optional().describe("Repo name (list, categories: default .github, the org's)"),
    number: z.number().int().min(1).optional().describe("get, comments: discussion number"),
    category: z.string().optional().describe("list: category id (from categories)"),
    order_by: z.enum(["CREATED_AT", "UPDATED_AT"]).optional().describe("list: sort key (newest first)"),
    direction: z.enum(["ASC", "DESC"]).optional().describe("list: with order_by (default DESC)"),
    replies: z.boolean().default(false).describe("comments: nest up to 100 replies each"),
    per_page: perPage,
    after,
    fields,
  }),
  annotations: READ,
  handler: async (input, ctx) => {
    const { method, owner, per_page, after, fields } = input;
    const repo = input.repo ?? ".github";
    const gql = (query: string, variables: Json) =>
      ctx.deps.gh.graphql<Json>(
        query,
        { owner, repo, ...variables },
        {
          permission: "discussions:read",
          signal: ctx.signal,
        },
      );
    const needNumber = (): number => {
      if (input.number === undefined)
        throw new ToolshedError("invalid_input", `method=${method} needs number (the discussion's)`);
      return input.number;
    };
    const found = (r: Json, n: number): Json => {
      if (!r.discussion)
        throw new ToolshedError(
          "not_found",
          `discussion #${n} not found in ${owner}/${repo}; method=list names them`,
        );
      return obj(r.discussion);
    };
    switch (method) {
      case "categories": {
        const r = repositoryOf(ctx, owner, repo, await gql(DISCUSSION_CATEGORIES, {}));
        const items = asList(obj(r.discussionCategories).nodes).map((c) =>
          compact({
            id: obj(c).id,
            name: obj(c).name,
            description: cleanText(obj(c).description as string | null) || undefined,
            answerable: obj(c).isAnswerable,
          }),
        );
        return { items: pick(items, fields) };
      }
      case "get": {
        const n = needNumber();
        const r = repositoryOf(ctx, owner, repo, await gql(GET_DISCUSSION, { number: n }));
        const [d] = await lockdown(ctx, owner, repo, [discussion(found(r, n), true)]);
        return d!;
      }
      case "comments": {
        const n = needNumber();
        const r = repositoryOf(
          ctx,
          owner,
          repo,
          await gql(DISCUSSION_COMMENTS, { number: n, first: per_page, after, replies: input.replies }),
        );
        const conn = obj(found(r, n).comments);
        const raw = asList(conn.nodes);
        const items = await lockdown(ctx, owner, repo, raw.map(comment));
        if (input.replies) {
          for (const [i, c] of raw.entries()) {
            const rs = obj(obj(c).replies);
            const replies = await lockdown(ctx, owner, repo, asList(rs.nodes).map(comment));
            items[i] = compact({ ...items[i], reply_count: rs.totalCount, replies });
          }
        }
        return { items: pick(items, fields), ...cursor(conn) };
      }
      default: {
        const order = input.order_by
          ? { field: input.order_by, direction: input.direction ?? "DESC" }
          : undefined;
        // Variables left undefined are not sent, so GitHub's defaults apply (newest updated first).
        const r = repositoryOf(
          ctx,
          owner,
          repo,
          await gql(LIST_DISCUSSIONS, { first: per_page, after, categoryId: input.category, orderBy: order }),
        );
        const conn = obj(r.discussions);
        const items = await lockdown(
          ctx,
          owner,
          repo,
          asList(conn.nodes).map((d) => discussion(d, false)),
        );
        return { items: pick(items, fields), ...cursor(conn) };
      }
    }
  },
});

export const DISCUSSION_ID = `query DiscussionId($owner: String!, $repo: String!, $number: Int!) {
  repository(owner: $owner, name: $repo) { discussion(number: $number) { id } }
}`;

export const REPLY_TARGET = `query ReplyTarget($owner: String!, $repo: String!, $number: Int!, $id: ID!) {
  repository(owner: $owner, name: $repo) { discussion(number: $number) { id } }
  node(id: $id) { ... on DiscussionComment { id discussion { id } replyTo { id } } }
}`;

export const COMMENT_FOR_DELETE = `query DiscussionCommentToDelete($id: ID!) {
  node(id: $id) { ... on DiscussionComment { author { login } body discussion { number repository { nameWithOwner } } } }
}`;

const ADD = `mutation AddDiscussionComment($input: AddDiscussionCommentInput!) {
  addDiscussionComment(input: $input) { comment { id url } }
}`;
const UPDATE = `mutation UpdateDiscussionComment($input: UpdateDiscussionCommentInput!) {
  updateDiscussionComment(input: $input) { comment { id url } }
}`;
const DELETE = `mutation DeleteDiscussionComment($input: DeleteDiscussionCommentInput!) {
  deleteDiscussionComment(input: $input) { comment { id } }
}`;
const MARK = `mutation MarkDiscussionCommentAsAnswer($input: MarkDiscussionCommentAsAnswerInput!) {
  markDiscussionCommentAsAnswer(input: $input) { discussion { number url } }
}`;
const UNMARK = `mutation UnmarkDiscussionCommentAsAnswer($input: UnmarkDiscussionCommentAsAnswerInput!) {
  unmarkDiscussionCommentAsAnswer(input: $input) { discussion { number url } }
}`;

export const discussionCommentWriteTool = defineTool({
  toolset: "discussions",
  output: o.shape({ ...o.declinedShape, id: o.s, url: o.s, deleted: o.s, discussion: o.n, answer: o.b }),
  name: "discussion_comment_write",
  title: "Comment on a discussion",
  description:
    "method=add a comment to discussion number; reply to comment_id (a top-level comment: one level of nesting); update comment_id's body; delete comment_id (asks the user to confirm); mark_answer or unmark_answer comment_id (Q&A categories). comment_id is a node id from discussion_read method=comments.",
  input: z.object({
    method: selfDescribing(z.enum(["add", "reply", "update", "delete", "mark_answer", "unmark_answer"])),
    owner: z.string().optional().describe("Repo owner (add, reply)"),
    repo: z.string().optional().describe("Repo name (add, reply)"),
    number: z.number().int().min(1).optional().describe("Discussion number (add, reply)"),
    comment_id: z.string().optional().describe("Comment node id (all but add)"),
    body: z.string().optional().describe("Markdown (add, reply, update)"),
  }),
  annotations: { ...WRITE, destructiveHint: true },
  handler: async ({ method, owner, repo, number, comment_id, body: text }, ctx) => {
    const gh = ctx.deps.gh;
    const opts = { permission: "discussions:write" as const, signal: ctx.signal };
    const need = <T>(value: T | undefined, what: string): T => {
      if (value === undefined || (typeof value === "string" && value.trim() === ""))
        throw new ToolshedError("invalid_input", `method=${method} needs ${what}`);
      return value;
    };
    const mutate = async (query: string, input: Json) => obj(await gh.graphql<Json>(query, { input }, opts));
    const written = (data: Json, key: string) => {
      const c = obj(obj(data[key]).comment);
      return compact({ id: c.id, url: c.url });
    };

    if (method === "add" || method === "reply") {
      const where = { owner: need(owner, "owner"), repo: need(repo, "repo"), number: need(number, "number") };
      const content = need(text, "body");
      let discussionId: unknown;
      let replyToId: string | undefined;
      if (method === "add") {
        const data = await gh.graphql<Json>(DISCUSSION_ID, where, opts);
        discussionId = obj(obj(data.repository).discussion).id;
      } else {
        // GitHub makes a reply to an unknown comment a top-level comment, silently: check it first.
        replyToId = need(comment_id, "comment_id (the comment to reply to)");
        const data = await gh.graphql<Json>(REPLY_TARGET, { ...where, id: replyToId }, opts);
        discussionId = obj(obj(data.repository).discussion).id;
        const target = obj(data.node);
        if (!target.id)
          throw new ToolshedError(
            "not_found",
            `comment_id ${replyToId} is not a discussion comment; discussion_read method=comments lists them`,
          );
        if (obj(target.discussion).id !== discussionId)
          throw new ToolshedError(
            "invalid_input",
            `comment_id ${replyToId} is not on discussion #${where.number} in ${where.owner}/${where.repo}`,
          );
        if (obj(target.replyTo).id)
          throw new ToolshedError(
            "invalid_input",
            `comment_id ${replyToId} is a reply; reply to its top-level comment ${String(obj(target.replyTo).id)} instead`,
          );
      }
      if (!discussionId)
        throw new ToolshedError(
          "not_found",
          `discussion #${where.number} not found in ${where.owner}/${where.repo}; discussion_read method=list names them`,
        );
      const data = await mutate(ADD, compact({ discussionId, body: content, replyToId }));
      return written(data, "addDiscussionComment");
    }

    const id = need(comment_id, "comment_id");
    switch (method) {
      case "update":
        return written(
          await mutate(UPDATE, { commentId: id, body: need(text, "body") }),
          "updateDiscussionComment",
        );
      case "delete": {
        gh.requireToken("discussions:write");
        const confirmed = await ctx.confirm(async () => {
          const data = await gh.graphql<Json>(COMMENT_FOR_DELETE, { id }, opts);
          const c = obj(data.node);
          const d = obj(c.discussion);
          const start = (cleanText(c.body as string | null) ?? "").replace(/\s+/g, " ").slice(0, 80);
          return `Delete @${String(login(c.author))}'s comment on discussion #${String(d.number)} in ${String(obj(d.repository).nameWithOwner)} (${JSON.stringify(start)})? Its replies go with it.`;
        });
        if (!confirmed) return declined(`deleting discussion comment ${id}`);
        await mutate(DELETE, { id });
        return { deleted: id };
      }
      default: {
        const mark = method === "mark_answer";
        const data = await mutate(mark ? MARK : UNMARK, { id });
        const d = obj(
          obj(data[mark ? "markDiscussionCommentAsAnswer" : "unmarkDiscussionCommentAsAnswer"]).discussion,
        );
        return compact({ id, discussion: d.number, url: d.url, answer: mark });
      }
    }
  },
});

export const discussionTools = [discussionReadTool, discussionCommentWriteTool];
