import type { ReadContext, ResourceContents } from "@toolshed/server";
import type { Config } from "./config.js";
import type { Deps } from "./deps.js";
import { filePath, path, type GitHub } from "./github/client.js";
import { asList, obj } from "./github/shape.js";
import { asCaller, defineResource } from "./tools/common.js";

/* repo:// resources, as the official server names them: a repository's files at its default
   branch, a branch, a tag or a commit, with completion of branches, tags and paths. */

type Ctx = ReadContext<Config, Deps>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join("/") : (v ?? ""));

async function contents(
  uri: URL,
  vars: Record<string, string | string[]>,
  ref: string | undefined,
  ctx0: Ctx,
): Promise<ResourceContents[]> {
  const ctx = await asCaller(ctx0);
  const owner = one(vars.owner);
  const repo = one(vars.repo);
  const p = one(vars.path);
  const res = await ctx.deps.gh.request({
    path: `${path`/repos/${owner}/${repo}/contents`}/${filePath(p)}`,
    query: { ref },
    permission: "contents:read",
    signal: ctx.signal,
  });
  if (Array.isArray(res.data)) {
    // A directory: one line per entry, directories marked with a trailing slash.
    const text = res.data.map((e) => `${String(obj(e).name)}${obj(e).type === "dir" ? "/" : ""}`).join("\n");
    return [{ uri: uri.href, mimeType: "text/directory", text }];
  }
  const f = obj(res.data);
  const bytes = Buffer.from(typeof f.content === "string" ? f.content : "", "base64");
  if (bytes.subarray(0, 8000).includes(0)) {
    return [{ uri: uri.href, mimeType: "application/octet-stream", blob: bytes.toString("base64") }];
  }
  return [{ uri: uri.href, mimeType: "text/plain", text: bytes.toString("utf8") }];
}

/* Completions use the server's token (a caller's own token is used for reads). */

async function refNames(gh: GitHub, args: Record<string, string>, kind: "branches" | "tags", prefix: string) {
  if (!args.owner || !args.repo) return [];
  const res = await gh.request({
    path: path`/repos/${args.owner}/${args.repo}/${kind}`,
    query: { per_page: 100 },
    permission: "contents:read",
    signal: AbortSignal.timeout(10_000),
  });
  return asList(res.data)
    .map((b) => String(obj(b).name))
    .filter((n) => n.startsWith(prefix));
}

/** Paths for completion: the entries of the directory the typed prefix is in. */
async function pathNames(gh: GitHub, args: Record<string, string>, prefix: string, ref?: string) {
  if (!args.owner || !args.repo) return [];
  const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
  const res = await gh.request({
    path: `${path`/repos/${args.owner}/${args.repo}/contents`}/${filePath(dir)}`,
    query: { ref },
    permission: "contents:read",
    signal: AbortSignal.timeout(10_000),
  });
  return asList(res.data)
    .map((e) => `${String(obj(e).path)}${obj(e).type === "dir" ? "/" : ""}`)
    .filter((n) => n.startsWith(prefix));
}

const base = { mimeType: "text/plain" } as const;

export const repoResources = [
  defineResource({
    ...base,
    name: "repository_content",
    title: "Repository file or directory",
    description: "A file's text (or a directory's entries) at the default branch.",
    uriTemplate: "repo://{owner}/{repo}/contents/{+path}",
    complete: { path: (value, { arguments: a, deps }) => pathNames(deps.gh, a, value) },
    read: (uri, vars, ctx) => contents(uri, vars, undefined, ctx),
  }),
  defineResource({
    ...base,
    name: "repository_content_branch",
    title: "Repository file at a branch",
    description: "A file's text (or a directory's entries) at a branch.",
    uriTemplate: "repo://{owner}/{repo}/refs/heads/{branch}/contents/{+path}",
    complete: {
      branch: (value, { arguments: a, deps }) => refNames(deps.gh, a, "branches", value),
      path: (value, { arguments: a, deps }) => pathNames(deps.gh, a, value, a.branch),
    },
    read: (uri, vars, ctx) => contents(uri, vars, one(vars.branch), ctx),
  }),
  defineResource({
    ...base,
    name: "repository_content_tag",
    title: "Repository file at a tag",
    description: "A file's text (or a directory's entries) at a tag.",
    uriTemplate: "repo://{owner}/{repo}/refs/tags/{tag}/contents/{+path}",
    complete: { tag: (value, { arguments: a, deps }) => refNames(deps.gh, a, "tags", value) },
    read: (uri, vars, ctx) => contents(uri, vars, one(vars.tag), ctx),
  }),
  defineResource({
    ...base,
    name: "repository_content_sha",
    title: "Repository file at a commit",
    description: "A file's text (or a directory's entries) at a commit sha.",
    uriTemplate: "repo://{owner}/{repo}/sha/{sha}/contents/{+path}",
    read: (uri, vars, ctx) => contents(uri, vars, one(vars.sha), ctx),
  }),
];
