import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { path } from "../github/client.js";
import { cleanText } from "../github/sanitize.js";
import { compact, obj } from "../github/shape.js";
import { fields, defineTool, page, perPage, READ, WRITE } from "./common.js";
import { listPage } from "./list.js";

export const listNotificationsTool = defineTool({
  toolset: "notifications",
  output: o.shape({
    ...o.paging,
    ...o.thread,
    subject_url: o.s.nullable(),
    last_read_at: o.s.nullable(),
    items: z.array(o.shape(o.thread)),
  }),
  name: "list_notifications",
  title: "List your notifications",
  description:
    "Your GitHub notifications, newest first: thread id, reason, unread, repo, subject title and type. Unread only unless all=true; owner+repo for one repository; thread_id for one thread's details. Needs a classic token with the notifications scope.",
  input: z.object({
    thread_id: z.string().optional().describe("One thread's details"),
    all: z.boolean().default(false).describe("Include read ones"),
    participating: z.boolean().default(false).describe("Only where you participate"),
    since: z.string().optional().describe("Updated after (ISO 8601)"),
    owner: z.string().optional().describe("With repo: one repository"),
    repo: z.string().optional().describe("With owner: one repository"),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: async ({ thread_id, all, participating, since, owner, repo, page, per_page, fields }, ctx) => {
    if (thread_id !== undefined) {
      const res = await ctx.deps.gh.request({
        path: path`/notifications/threads/${thread_id}`,
        permission: "notifications",
        auth: "required",
        signal: ctx.signal,
      });
      return {
        ...thread(res.data),
        subject_url: obj(obj(res.data).subject).url,
        last_read_at: obj(res.data).last_read_at,
      };
    }
    return listPage(ctx, {
      path: owner && repo ? path`/repos/${owner}/${repo}/notifications` : "/notifications",
      query: { all, participating, since },
      page,
      per_page,
      fields,
      permission: "notifications",
      auth: "required",
      shape: thread,
    });
  },
});

const thread = (n: unknown) =>
  compact({
    id: obj(n).id,
    reason: obj(n).reason,
    unread: obj(n).unread,
    repo: obj(obj(n).repository).full_name,
    title: cleanText(obj(obj(n).subject).title as string | null),
    type: obj(obj(n).subject).type,
    updated_at: obj(n).updated_at,
  });

export const notificationWriteTool = defineTool({
  toolset: "notifications",
  output: o.shape({ subscription: o.s, subscribed: o.b, ignored: o.b, marked: o.s, thread_id: o.s }),
  name: "notification_write",
  title: "Mark notifications, manage subscriptions",
  description:
    "method=read: marks thread_id read; done: marks thread_id done; read_all: marks everything (or owner+repo's) read up to now; watch, ignore, unwatch: subscription of thread_id, or of owner+repo.",
  input: z.object({
    method: selfDescribing(z.enum(["read", "done", "read_all", "watch", "ignore", "unwatch"])),
    thread_id: z.string().optional().describe("Thread id from list_notifications"),
    owner: z.string().optional().describe("Repository owner"),
    repo: z.string().optional().describe("Repository name"),
  }),
  annotations: { ...WRITE, idempotentHint: true },
  handler: async ({ method, thread_id, owner, repo }, ctx) => {
    const base = { permission: "notifications" as const, auth: "required" as const, signal: ctx.signal };
    if (method === "watch" || method === "ignore" || method === "unwatch") {
      const where = thread_id
        ? path`/notifications/threads/${thread_id}/subscription`
        : owner && repo
          ? path`/repos/${owner}/${repo}/subscription`
          : undefined;
      if (!where)
        throw new ToolshedError("invalid_input", `method=${method} needs thread_id, or owner and repo`);
      if (method === "unwatch") {
        await ctx.deps.gh.request({ ...base, method: "DELETE", path: where });
        return { subscription: "removed" };
      }
      const ignored = method === "ignore";
      const res = await ctx.deps.gh.request({
        ...base,
        method: "PUT",
        path: where,
        body: thread_id ? { ignored } : { subscribed: !ignored, ignored },
      });
      return compact({ subscribed: obj(res.data).subscribed, ignored: obj(res.data).ignored });
    }
    if (method === "read_all") {
      await ctx.deps.gh.request({
        ...base,
        method: "PUT",
        path: owner && repo ? path`/repos/${owner}/${repo}/notifications` : "/notifications",
        body: { last_read_at: new Date().toISOString() },
      });
      return { marked: "all" };
    }
    if (!thread_id) throw new ToolshedError("invalid_input", `method=${method} needs thread_id`);
    await ctx.deps.gh.request({
      ...base,
      method: method === "read" ? "PATCH" : "DELETE",
      path: path`/notifications/threads/${thread_id}`,
    });
    return { thread_id, marked: method };
  },
});

export const notificationTools = [listNotificationsTool, notificationWriteTool];
