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
  if (!ctx.config.lockdown || items.length === 0) return items.map(withoutAssociation);
  if (!(await isPublic(ctx, owner, repo))) return items.map(withoutAssociation);
  return items.map((shaped) => {
    const assoc = shaped.author_association;
    const item = withoutAssociation(shaped);
    if (typeof assoc !== "string" || TRUSTED.has(assoc)) return item;
    const withheld = `[withheld by lockdown mode: @${String(item.author)} has no push access]`;
    const out: Record<string, unknown> = { ...item };
    if ("title" in out) out.title = withheld;
    if ("body" in out) out.body = withheld;
    delete out.body_truncated;
    return out as T;
  });
}

/** The item without `author_association`: lockdown reads it, answers leave it out (it costs every item bytes). */
export function withoutAssociation<T extends Record<string, unknown>>(item: T): T {
  if (!("author_association" in item)) return item;
  const { author_association: _association, ...rest } = item;
  return rest as T;
}

/** Lockdown over items from many repositories (search results), one visibility lookup per repository. */
export async function lockdownEach<T extends Record<string, unknown>>(
  ctx: Ctx,
  items: T[],
  repoOf: (item: T) => string | undefined,
): Promise<T[]> {
  if (!ctx.config.lockdown) return items.map(withoutAssociation);
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

/** `permission` values that can push: maintain reads as write there, triage as read. */
const PUSH = new Set(["admin", "write"]);

/** Push access by "owner/repo/login", for one call: it changes more often than visibility does. */
export type PushCache = Map<string, Promise<"push" | "no_push" | "unchecked">>;

function pushAccess(
  ctx: Ctx,
  cache: PushCache,
  owner: string,
  repo: string,
  login: string,
): Promise<"push" | "no_push" | "unchecked"> {
  const key = `${owner}/${repo}/${login}`.toLowerCase();
  const known = cache.get(key);
  if (known) return known;
  const asked = (async () => {
    try {
      const res = await ctx.deps.gh.request<{
        permission?: string;
        user?: { permissions?: { push?: boolean } };
      }>({
        path: path`/repos/${owner}/${repo}/collaborators/${login}/permission`,
        permission: "metadata:read",
        signal: ctx.signal,
      });
      const p = res.data.permission;
      return (typeof p === "string" && PUSH.has(p)) || res.data.user?.permissions?.push === true
        ? ("push" as const)
        : ("no_push" as const);
    } catch (err) {
      // GitHub shows permissions only to tokens that can push themselves (403 otherwise; 401 without a
      // token; 404 for an account that is gone). Nothing then says the author can push: their text is withheld.
      if (isToolshedError(err) && ["forbidden", "unauthenticated", "not_found"].includes(err.code)) {
        return "unchecked" as const;
      }
      throw err;
    }
  })();
  cache.set(key, asked);
  return asked;
}

/** A raw commit of the REST API (list, get or search), as far as lockdown reads it. */
function authorLogin(raw: unknown): string | undefined {
  const author = (raw as { author?: { login?: unknown } | null } | null)?.author;
  return typeof author?.login === "string" && author.login ? author.login : undefined;
}

/**
 * In lockdown mode on a public repository: the notice that replaces a commit's message (and diff)
 * when its author cannot push to the repository, or undefined when it may be shown. Commits carry no
 * `author_association`, so this asks GitHub for the author's permission (once per repository and
 * author in `cache`). A commit whose author email is linked to no GitHub account counts as a stranger's.
 */
export async function withheldCommit(
  ctx: Ctx,
  cache: PushCache,
  owner: string,
  repo: string,
  raw: unknown,
): Promise<string | undefined> {
  if (!ctx.config.lockdown) return undefined;
  if (!(await isPublic(ctx, owner, repo))) return undefined;
  const login = authorLogin(raw);
  if (!login) return "[withheld by lockdown mode: the commit's author has no linked GitHub account]";
  const access = await pushAccess(ctx, cache, owner, repo, login);
  if (access === "push") return undefined;
  if (access === "no_push") return `[withheld by lockdown mode: @${login} has no push access]`;
  return `[withheld by lockdown mode: @${login}'s push access could not be checked (GitHub tells it only to tokens with push access to ${owner}/${repo})]`;
}

/**
 * Lockdown over shaped commits (`shape.commit`) and the raw ones they came from: a stranger's message
 * is replaced by the notice, and so is the git author name of a commit with no linked account (it is
 * free text too). `repoOf` names each raw commit's "owner/repo".
 */
export async function lockdownCommits(
  ctx: Ctx,
  raw: unknown[],
  items: Record<string, unknown>[],
  repoOf: (raw: unknown) => string | undefined,
  cache: PushCache = new Map(),
): Promise<Record<string, unknown>[]> {
  if (!ctx.config.lockdown) return items;
  // The cache holds promises, so commits by one author share one lookup even when asked at once.
  return Promise.all(
    items.map(async (item, i) => {
      const [owner, repo] = (repoOf(raw[i]) ?? "").split("/");
      const withheld = owner && repo ? await withheldCommit(ctx, cache, owner, repo, raw[i]) : undefined;
      return withheld ? withholdCommit(item, raw[i], withheld) : item;
    }),
  );
}

/** A shaped commit with its message (and an unlinked author's free-text name) replaced by `notice`. */
export function withholdCommit(
  item: Record<string, unknown>,
  raw: unknown,
  notice: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...item, message: notice };
  if (!authorLogin(raw) && "author" in out) out.author = "(no linked GitHub account)";
  return out;
}
