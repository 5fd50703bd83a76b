import { ToolshedError } from "@toolshed/server";
import { capText, cleanText } from "./sanitize.js";

/*
 * Trimmed forms of GitHub objects: the fields a model acts on, untrusted text cleaned. Issues, pull
 * requests, commits and repositories carry no html_url (it follows from repo and number or sha);
 * comments, reviews and releases keep theirs, which their capped bodies point to.
 */

type Json = Record<string, unknown>;
const o = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});
const login = (u: unknown): string | null => (o(u).login as string | undefined) ?? null;
const logins = (us: unknown): string[] => (Array.isArray(us) ? us.map(login).filter((x) => x !== null) : []);
const labelNames = (ls: unknown): string[] =>
  Array.isArray(ls) ? ls.map((l) => (typeof l === "string" ? l : String(o(l).name))) : [];
/** Drops null, undefined and empty arrays: they cost context and say nothing. */
export function compact<T extends Json>(value: T): T {
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}

export const BODY_CAP = 4000;
export const COMMENT_CAP = 2000;

function body(text: unknown, cap: number, more: string): Json {
  const { text: t, truncated } = capText(cleanText(text as string | null), cap, more);
  return truncated ? { body: t, body_truncated: truncated } : { body: t };
}

export function user(u: unknown): Json {
  const x = o(u);
  return compact({
    login: x.login,
    name: cleanText(x.name as string | null),
  });
}

export function repository(r: unknown): Json {
  const x = o(r);
  return compact({
    full_name: x.full_name,
    description: cleanText(x.description as string | null),
    private: x.private,
    fork: x.fork || undefined,
    archived: x.archived || undefined,
    language: x.language,
    stars: x.stargazers_count,
    forks: x.forks_count,
    open_issues: x.open_issues_count,
    default_branch: x.default_branch,
    topics: x.topics,
    updated_at: x.updated_at,
  });
}

export function issue(i: unknown, withBody: boolean, bodyCap = BODY_CAP): Json {
  const x = o(i);
  return compact({
    number: x.number,
    title: cleanText(x.title as string | null),
    state: x.state,
    state_reason: x.state_reason,
    is_pull_request: x.pull_request ? true : undefined,
    author: login(x.user),
    author_association: x.author_association,
    labels: labelNames(x.labels),
    assignees: logins(x.assignees),
    milestone: o(x.milestone).title,
    comments: x.comments,
    sub_issues: o(x.sub_issues_summary).total || undefined,
    created_at: x.created_at,
    updated_at: x.updated_at,
    closed_at: x.closed_at,
    ...(withBody ? body(x.body, bodyCap, "the body is capped") : {}),
  });
}

export function comment(c: unknown): Json {
  const x = o(c);
  return compact({
    id: x.id,
    author: login(x.user),
    author_association: x.author_association,
    created_at: x.created_at,
    ...body(x.body, COMMENT_CAP, "open the url for the rest"),
    url: x.html_url,
  });
}

export function pullRequest(p: unknown, full: boolean): Json {
  const x = o(p);
  const head = o(x.head);
  const base = o(x.base);
  return compact({
    number: x.number,
    title: cleanText(x.title as string | null),
    state: x.merged_at ? "merged" : x.state,
    draft: x.draft || undefined,
    author: login(x.user),
    author_association: x.author_association,
    head: head.label ?? head.ref,
    base: base.ref,
    labels: labelNames(x.labels),
    created_at: x.created_at,
    updated_at: x.updated_at,
    merged_at: x.merged_at,
    ...(full
      ? {
          head_sha: head.sha,
          base_sha: base.sha,
          mergeable: x.mergeable,
          mergeable_state: x.mergeable_state,
          merged_by: login(x.merged_by),
          assignees: logins(x.assignees),
          requested_reviewers: logins(x.requested_reviewers),
          additions: x.additions,
          deletions: x.deletions,
          changed_files: x.changed_files,
          comments: x.comments,
          review_comments: x.review_comments,
          ...body(x.body, BODY_CAP, "the body is capped"),
        }
      : {}),
  });
}

export function commit(c: unknown): Json {
  const x = o(c);
  const inner = o(x.commit);
  const message = cleanText((inner.message as string | undefined) ?? "") ?? "";
  return compact({
    sha: x.sha,
    message: message.length > 500 ? `${message.slice(0, 500)}…` : message,
    author: login(x.author) ?? o(inner.author).name,
    date: o(inner.author).date,
  });
}

export function fileChange(f: unknown): Json {
  const x = o(f);
  return compact({
    filename: x.filename,
    status: x.status,
    additions: x.additions,
    deletions: x.deletions,
    previous_filename: x.previous_filename,
  });
}

export function review(r: unknown): Json {
  const x = o(r);
  return compact({
    id: x.id,
    author: login(x.user),
    author_association: x.author_association,
    state: x.state,
    submitted_at: x.submitted_at,
    commit_id: x.commit_id,
    ...body(x.body, COMMENT_CAP, "open the url for the rest"),
    url: x.html_url,
  });
}

export function reviewComment(c: unknown): Json {
  const x = o(c);
  return compact({
    id: x.id,
    review_id: x.pull_request_review_id,
    in_reply_to: x.in_reply_to_id,
    author: login(x.user),
    author_association: x.author_association,
    path: x.path,
    line: x.line ?? x.original_line,
    side: x.side,
    created_at: x.created_at,
    ...body(x.body, COMMENT_CAP, "open the url for the rest"),
    url: x.html_url,
  });
}

export function release(r: unknown): Json {
  const x = o(r);
  return compact({
    tag: x.tag_name,
    name: cleanText(x.name as string | null),
    draft: x.draft || undefined,
    prerelease: x.prerelease || undefined,
    author: login(x.author),
    published_at: x.published_at,
    url: x.html_url,
    ...body(x.body, 1500, "open the url for the rest"),
  });
}

/** The item with only the fields an output shape declares: a brief form, such as what a write answers. */
export function keep(item: Json, shape: Record<string, unknown>): Json {
  return Object.fromEntries(Object.entries(item).filter(([k]) => k in shape));
}

/** Keeps only `fields` of each item; an unknown field name is an error listing the known ones. */
export function pick(items: Json[], fields: readonly string[] | undefined): Json[] {
  if (!fields || fields.length === 0) return items;
  const known = new Set(items.flatMap((i) => Object.keys(i)));
  const unknown = fields.filter((f) => !known.has(f));
  if (items.length > 0 && unknown.length === fields.length) {
    throw new ToolshedError(
      "invalid_input",
      `unknown field(s) ${unknown.join(", ")}; the items here have: ${[...known].sort().join(", ")}`,
    );
  }
  return items.map((i) => Object.fromEntries(fields.filter((f) => f in i).map((f) => [f, i[f]])));
}

export const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const obj = o;
export const userLogin = login;
