import type { QueryValue } from "@toolshed/http-client";
import type { Ctx } from "../deps.js";
import type { PermissionKey } from "../github/permissions.js";
import { lockdown, lockdownEach } from "../github/lockdown.js";
import { pick } from "../github/shape.js";

type Json = Record<string, unknown>;

export interface ListOptions {
  path: string;
  query?: Record<string, QueryValue | readonly QueryValue[]>;
  page: number;
  per_page: number;
  fields?: string[] | undefined;
  permission: PermissionKey;
  shape: (item: unknown) => Json;
  /** Where the items are in the body (search answers put them under `items`). */
  from?: (data: unknown) => unknown[];
  /** For lockdown: the repository the items belong to, or a function naming each item's ("owner/repo"). */
  repo?: { owner: string; repo: string } | ((item: Json) => string | undefined);
  /** Lockdown that needs the raw items too (commits: who wrote one is not in its shaped form). */
  guard?: (raw: unknown[], items: Json[]) => Promise<Json[]>;
  auth?: "required";
  accept?: string;
}

/** A GET of one page of a list: trimmed items, lockdown, `fields`, and where the next page is. */
export async function listPage(ctx: Ctx, opts: ListOptions): Promise<Json> {
  const res = await ctx.deps.gh.request({
    path: opts.path,
    query: { ...opts.query, page: opts.page, per_page: opts.per_page },
    permission: opts.permission,
    signal: ctx.signal,
    page: { page: opts.page, per_page: opts.per_page },
    ...(opts.auth ? { auth: opts.auth } : {}),
    ...(opts.accept ? { accept: opts.accept } : {}),
  });
  const raw = opts.from ? opts.from(res.data) : Array.isArray(res.data) ? res.data : [];
  let items = raw.map(opts.shape);
  if (typeof opts.repo === "function") items = await lockdownEach(ctx, items, opts.repo);
  else if (opts.repo) items = await lockdown(ctx, opts.repo.owner, opts.repo.repo, items);
  if (opts.guard) items = await opts.guard(raw, items);
  // Where the next page is; not the page and per_page asked for, which the model already knows.
  const out: Json = { items: pick(items, opts.fields) };
  if (res.page?.next_page) out.next_page = res.page.next_page;
  if (res.page?.last_page) out.last_page = res.page.last_page;
  const total = (res.data as { total_count?: unknown } | undefined)?.total_count;
  if (typeof total === "number") out.total_count = total;
  return out;
}
