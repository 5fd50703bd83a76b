import { z } from "@toolshed/server";

/*
 * Output schemas: the shapes of github/shape.ts and the handlers. Every field is optional, since
 * compact() drops empty ones and `fields` keeps only some; no descriptions, since the names say it
 * and every byte is sent in tools/list. Fields GitHub passes through keep GitHub's types.
 */

const s = z.string();
const n = z.number();
const b = z.boolean();
const ss = z.array(s);

/**
 * An object whose every field may be missing. Strict: a field a handler adds without declaring it
 * here is refused (and fails the tests) rather than silently dropped by the kit's check. Its static
 * type is a plain record on purpose: handlers shape GitHub's untyped JSON, checked at run time.
 */
export const shape = (fields: z.ZodRawShape): Loose => z.strictObject(fields).partial();
// The static type only (a record of unknowns); the schema itself is the partial object above.
const _loose = z.object({}).catchall(z.unknown());
type Loose = typeof _loose;

/** Where the next page of a list is (listPage), and how many there are when GitHub says. */
export const paging = { next_page: n, last_page: n, total_count: n };

/** One page of a list (listPage): the items and where the next page is. */
export const list = (item: z.ZodRawShape): Loose => shape({ items: z.array(shape(item)), ...paging });

const authored = { author: s, created_at: s };
/** A capped body (github/shape.ts `body`): only where a shaper sends one, not in lists without bodies. */
export const body = { body: s, body_truncated: s };
/** Comments, reviews and releases keep their link: a capped body points to it. */
const linked = { ...authored, ...body, url: s };

/** Who a token is: what a later call names them by. */
export const user = { login: s, name: s };

export const repository = {
  full_name: s,
  description: s,
  private: b,
  fork: b,
  archived: b,
  language: s,
  stars: n,
  forks: n,
  open_issues: n,
  default_branch: s,
  topics: ss,
  updated_at: s,
};

/** What a write answers about the repository it created or forked. */
export const repositoryBrief = { full_name: s, private: b, fork: b, default_branch: s };

export const issue = {
  ...authored,
  number: n,
  title: s,
  state: s,
  state_reason: s,
  is_pull_request: b,
  labels: ss,
  assignees: ss,
  milestone: s,
  comments: n,
  sub_issues: n,
  updated_at: s,
  closed_at: s,
};

/** What a write answers about the issue it opened or changed: its number and what a write sets. */
export const issueBrief = {
  number: n,
  title: s,
  state: s,
  state_reason: s,
  labels: ss,
  assignees: ss,
  milestone: s,
};

export const comment = { ...linked, id: n };

export const pullSummary = {
  ...authored,
  number: n,
  title: s,
  state: s,
  draft: b,
  head: s,
  base: s,
  labels: ss,
  updated_at: s,
  merged_at: s,
};

/** What a write answers about the pull request it opened or changed. */
export const pullBrief = { number: n, title: s, state: s, draft: b, head: s, base: s };

/** With full details and the body (pull_request_read method=get). */
export const pullRequest = {
  ...pullSummary,
  ...body,
  head_sha: s,
  base_sha: s,
  mergeable: b,
  mergeable_state: s,
  merged_by: s,
  assignees: ss,
  requested_reviewers: ss,
  additions: n,
  deletions: n,
  changed_files: n,
  comments: n,
  review_comments: n,
};

export const commit = { sha: s, message: s, author: s, date: s };

export const fileChange = { filename: s, status: s, additions: n, deletions: n, previous_filename: s };

export const review = { ...linked, id: n, state: s, submitted_at: s, commit_id: s };

export const reviewComment = { ...linked, id: n, review_id: n, in_reply_to: n, path: s, line: n, side: s };

export const release = {
  tag: s,
  name: s,
  draft: b,
  prerelease: b,
  author: s,
  published_at: s,
  url: s,
  body: s,
  body_truncated: s,
};

/** A page of a diff (github/diff.ts), or the lockdown notice that replaces it. */
export const diffPage = {
  files: z.array(shape({ file: s, bytes: n })),
  diff: s,
  offset: n,
  total_bytes: n,
  next_offset: n,
  withheld: s,
};

export const run = {
  id: n,
  name: s,
  run_number: n,
  status: s,
  conclusion: s,
  branch: s,
  sha: s,
  event: s,
  actor: s,
  created_at: s,
  url: s,
};

export const job = {
  id: n,
  name: s,
  status: s,
  conclusion: s,
  started_at: s,
  completed_at: s,
  failed_steps: ss,
  url: s,
};

/** The tail of a job's log. */
export const log = { job_id: n, total_lines: n, tail: s };

export const thread = { id: s, reason: s, unread: b, repo: s, title: s, type: s, updated_at: s };

const gistFile = { filename: s, language: s, size: n, content: s, truncated: b };
export const gist = {
  id: s,
  description: s,
  public: b,
  owner: s,
  files: z.array(shape(gistFile)),
  updated_at: s,
  url: s,
};

export const advisory = {
  ghsa_id: s,
  cve_id: s,
  severity: s,
  summary: s,
  state: s,
  published_at: s,
  packages: ss,
  url: s,
};

/** What a write that asked the user answers when they did not confirm (common.ts `declined`). */
export const declinedShape = { done: b, declined: s };

export { s, n, b, ss };
