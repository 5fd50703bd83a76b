import { isToolshedError } from "@toolshed/server";
import type { Ctx } from "../deps.js";
import { path } from "./client.js";

/** Authors whose association with a repository implies they can push to it. */
const TRUSTED = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);

async function isPublic(ctx: Ctx, owner: string, repo: string): Promise<boolean> {
  const key = `${owner}/${repo}`.toLowerCase();
  const known = ctx.deps.visibility.get(key);
  if (known !== undefined) return known;
  let pub = true;
  try {
    const res = await ctx.deps.gh.request<{ private?: boolean }>({
      path: path`/repos/${owner}/${repo}`,
      permission: "contents:read",
      signal: ctx.signal,
    });
    pub = res.data.private !== true;
  } catch (err) {
    // A repository whose visibility cannot be read is treated as public: its strangers' text is withheld.
    if (!isToolshedError(err) || err.code !== "not_found") throw err;
  }
  ctx.deps.visibility.set(key, pub);
  return pub;
}

/**
 * In lockdown mode on a public repository, the text of items written by authors without push
 * access is replaced by a notice, so a stranger's issue cannot steer the model. It goes by GitHub's
 * `author_association` (OWNER, MEMBER, COLLABORATOR), which costs no extra request per author.
 */
export async function lockdown<T extends Record<string, unknown>>(
  ctx: Ctx,
  owner: string,
  repo: string,
  items: T[],
): Promise<T[]> {
  if (!ctx.config.lockdown || items.length === 0) return items;
  if (!(await isPublic(ctx, owner, repo))) return items;
  return items.map((item) => {
    const assoc = item.author_association;
    if (typeof assoc !== "string" || TRUSTED.has(assoc)) return item;
    const withheld = `[withheld by lockdown mode: @${String(item.author)} has no push access]`;
    const out: Record<string, unknown> = { ...item };
    if ("title" in out) out.title = withheld;
    if ("body" in out) out.body = withheld;
    delete out.body_truncated;
    return out as T;
  });
}

/** Lockdown over items from many repositories (search results), one visibility lookup per repository. */
export async function lockdownEach<T extends Record<string, unknown>>(
  ctx: Ctx,
  items: T[],
  repoOf: (item: T) => string | undefined,
): Promise<T[]> {
  if (!ctx.config.lockdown) return items;
  const out: T[] = [];
  for (const item of items) {
    const [owner, repo] = (repoOf(item) ?? "").split("/");
    out.push(owner && repo ? (await lockdown(ctx, owner, repo, [item]))[0]! : item);
  }
  return out;
}

/**
 * In lockdown mode on a public repository: the notice that replaces a pull request's diff and
 * patches when its author has no push access, or undefined when they may be shown.
 */
export async function withheldPull(
  ctx: Ctx,
  owner: string,
  repo: string,
  pullNumber: number,
): Promise<string | undefined> {
  if (!ctx.config.lockdown) return undefined;
  if (!(await isPublic(ctx, owner, repo))) return undefined;
  const res = await ctx.deps.gh.request<{ author_association?: string; user?: { login?: string } }>({
    path: path`/repos/${owner}/${repo}/pulls/${pullNumber}`,
    permission: "pulls:read",
    signal: ctx.signal,
  });
  const assoc = res.data.author_association;
  if (typeof assoc === "string" && TRUSTED.has(assoc)) return undefined;
  return `[withheld by lockdown mode: @${String(res.data.user?.login)} has no push access]`;
}
