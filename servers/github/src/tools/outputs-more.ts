import { z } from "@toolshed/server";
import { b, n, s, shape } from "./outputs.js";

/*
 * Output schemas of the discussions, projects and code_quality toolsets, in outputs.ts's style (every
 * field optional, no descriptions). Kept apart from outputs.ts, whose shapes the default tools share.
 */

/** Where a page of a GraphQL list is: pass `next_cursor` as `after` for the next page. */
export const cursorPaging = { next_cursor: s, total_count: n };

export const discussion = {
  number: n,
  title: s,
  author: s,
  category: s,
  closed: b,
  answered: b,
  answer_chosen_at: s,
  comments: n,
  created_at: s,
  updated_at: s,
  url: s,
  body: s,
  body_truncated: s,
};

const discussionReply = {
  id: s,
  author: s,
  is_answer: b,
  created_at: s,
  body: s,
  body_truncated: s,
  url: s,
};

export const discussionComment = {
  ...discussionReply,
  reply_count: n,
  replies: z.array(shape(discussionReply)),
};

export const discussionCategory = { id: s, name: s, description: s, answerable: b };

export const project = {
  number: n,
  id: n,
  node_id: s,
  title: s,
  short_description: s,
  owner: s,
  owner_type: s,
  public: b,
  state: s,
  closed_at: s,
  created_at: s,
  updated_at: s,
  url: s,
};

export const projectField = {
  id: n,
  node_id: s,
  name: s,
  data_type: s,
  options: z.array(shape({ id: s, name: s })),
  iterations: z.array(shape({ id: s, title: s, start_date: s, duration: n })),
};

export const projectItem = {
  id: n,
  node_id: s,
  content_type: s,
  repo: s,
  number: n,
  title: s,
  state: s,
  author: s,
  url: s,
  fields: z.array(shape({ id: n, name: s, data_type: s, value: s })),
  archived_at: s,
  created_at: s,
  updated_at: s,
};

/** A project's status update or view: GraphQL only, so a node id, not a number id. */
export const projectStatusUpdate = {
  node_id: s,
  status: s,
  body: s,
  start_date: s,
  target_date: s,
  creator: s,
  created_at: s,
};

export const projectView = { node_id: s, number: n, name: s, layout: s, filter: s };

export const codeQualityFinding = {
  number: n,
  state: s,
  rule: s,
  rule_title: s,
  severity: s,
  category: s,
  description: s,
  message: s,
  path: s,
  start_line: n,
  end_line: n,
  created_at: s,
};
