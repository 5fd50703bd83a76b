import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { filePath, path } from "../github/client.js";
import { pageDiff } from "../github/diff.js";
import { lockdownCommits, withheldCommit, withholdCommit } from "../github/lockdown.js";
import { cleanText } from "../github/sanitize.js";
import { asList, commit, compact, fileChange, keep, obj, release, repository } from "../github/shape.js";
import { declined, fields, defineTool, owner, page, perPage, READ, repo, WRITE, rawText } from "./common.js";
import { listPage } from "./list.js";
import type { Ctx } from "../deps.js";

export const searchRepositoriesTool = defineTool({
  toolset: "repos",
  output: o.list({ ...o.repository, ...o.commit, repo: o.s, path: o.s }),
  name: "search_repositories",
  title: "Search repositories, code or commits",
  description:
    "GitHub search: type=repositories ('mcp language:go stars:>100'), code ('useState repo:o/r path:src', needs a token) or commits ('fix repo:o/r').",
  input: z.object({
    query: z.string().describe("GitHub search syntax"),
    type: selfDescribing(z.enum(["repositories", "code", "commits"]).default("repositories")),
    sort: z.string().optional().describe("e.g. stars, updated, author-date"),
    order: selfDescribing(z.enum(["asc", "desc"]).optional()),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: ({ query, type, sort, order, page, per_page, fields }, ctx) =>
    listPage(ctx, {
      path: `/search/${type}`,
      query: { q: query, sort, order },
      page,
      per_page,
      fields,
      permission: "contents:read",
      ...(type === "code" ? { auth: "required" as const } : {}),
      from: (d) => asList(obj(d).items),
      shape:
        type === "repositories"
          ? repository
          : type === "code"
            ? (i) =>
                compact({
                  repo: obj(obj(i).repository).full_name,
                  path: obj(i).path,
                  sha: obj(i).sha,
                })
            : (i) => ({ repo: obj(obj(i).repository).full_name, ...commit(i) }),
      ...(type === "commits"
        ? {
            guard: (raw: unknown[], items: Record<string, unknown>[]) =>
              lockdownCommits(ctx, raw, items, (c) => obj(obj(c).repository).full_name as string | undefined),
          }
        : {}),
    }),
});

const MAX_FILE = 20_000;

export const getFileContentsTool = defineTool({
  toolset: "repos",
  output: o.shape({
    path: o.s,
    type: o.s,
    target: o.s,
    sha: o.s,
    size: o.n,
    binary: o.b,
    download_url: o.s,
    total_lines: o.n,
    start_line: o.n,
    end_line: o.n,
    content: o.s,
    truncated: o.s,
    offset: o.n,
    next_offset: o.n,
    entries: z.array(o.shape({ name: o.s, type: o.s, size: o.n })),
  }),
  name: "get_file_contents",
  title: "Read a file or list a directory",
  description:
    "A file's text, paged by offset and max_bytes (next_offset if more) or by lines, with its sha (for push_files); or a directory's entries, path '' the root. Binary files: download_url.",
  input: z.object({
    owner,
    repo,
    path: selfDescribing(z.string().default("")),
    ref: z.string().optional().describe("Branch, tag or sha (default branch)"),
    offset: z.number().int().min(0).default(0).describe("Start character"),
    max_bytes: z.number().int().min(100).max(200_000).default(MAX_FILE).describe("Most characters"),
    start_line: z.number().int().min(1).optional().describe("First line (from 1), instead of offset"),
    end_line: z.number().int().min(1).optional().describe("Last line, inclusive"),
  }),
  render: rawText("content"),
  annotations: READ,
  handler: async ({ owner, repo, path: p, ref, offset, max_bytes, start_line, end_line }, ctx) => {
    if (start_line !== undefined && end_line !== undefined && end_line < start_line) {
      throw new ToolshedError("invalid_input", `end_line (${end_line}) is before start_line (${start_line})`);
    }
    const res = await ctx.deps.gh.request({
      path: `${path`/repos/${owner}/${repo}/contents`}/${filePath(p)}`,
      query: { ref },
      permission: "contents:read",
      signal: ctx.signal,
    });
    if (Array.isArray(res.data)) {
      return {
        path: p,
        entries: res.data.map((e) =>
          compact({
            name: obj(e).name,
            type: obj(e).type,
            size: obj(e).type === "file" ? obj(e).size : undefined,
          }),
        ),
      };
    }
    const f = obj(res.data);
    if (f.type !== "file") return compact({ path: f.path, type: f.type, target: f.target, sha: f.sha });
    let text: string;
    if (f.encoding === "base64" && typeof f.content === "string") {
      const bytes = Buffer.from(f.content, "base64");
      if (bytes.subarray(0, 8000).includes(0)) {
        return { path: f.path, sha: f.sha, size: f.size, binary: true, download_url: f.download_url };
      }
      text = bytes.toString("utf8");
    } else {
      // Over 1 MB the contents API leaves `content` empty; the raw media type still returns it.
      const raw = await ctx.deps.gh.request<string>({
        path: `${path`/repos/${owner}/${repo}/contents`}/${filePath(p)}`,
        query: { ref },
        accept: "application/vnd.github.raw",
        text: true,
        permission: "contents:read",
        signal: ctx.signal,
      });
      text = String(raw.data ?? "");
    }
    if (start_line !== undefined || end_line !== undefined) {
      // Lines are counted on the whole file; the range is still capped at max_bytes.
      const lines = text.split("\n");
      const first = start_line ?? 1;
      const last = Math.min(lines.length, end_line ?? lines.length);
      let content = lines.slice(first - 1, last).join("\n");
      const cut = content.length > max_bytes;
      if (cut) content = content.slice(0, max_bytes);
      return compact({
        path: f.path,
        sha: f.sha,
        size: f.size,
        total_lines: lines.length,
        start_line: first,
        end_line: cut ? first + content.split("\n").length - 1 : last,
        content,
        truncated: cut ? `the lines pass max_bytes (${max_bytes}); ask for fewer lines` : undefined,
      });
    }
    const end = Math.min(text.length, offset + max_bytes);
    return compact({
      path: f.path,
      sha: f.sha,
      size: f.size,
      content: text.slice(offset, end),
      offset: offset || undefined,
      next_offset: end < text.length ? end : undefined,
    });
  },
});

export const listCommitsTool = defineTool({
  toolset: "repos",
  output: o.list(o.commit),
  name: "list_commits",
  title: "List commits",
  description: "Commits, newest first, from sha (default branch), filtered by path, author and date range.",
  input: z.object({
    owner,
    repo,
    sha: z.string().optional().describe("Start at this branch, tag or sha"),
    path: z.string().optional().describe("Only commits touching this path"),
    author: z.string().optional().describe("GitHub login or email"),
    since: z.string().optional().describe("ISO 8601 date"),
    until: z.string().optional().describe("ISO 8601 date"),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: ({ owner, repo, sha, path: p, author, since, until, page, per_page, fields }, ctx) =>
    listPage(ctx, {
      path: path`/repos/${owner}/${repo}/commits`,
      query: { sha, path: p, author, since, until },
      page,
      per_page,
      fields,
      permission: "contents:read",
      shape: commit,
      guard: (raw, items) => lockdownCommits(ctx, raw, items, () => `${owner}/${repo}`),
    }),
});

export const getCommitTool = defineTool({
  toolset: "repos",
  output: o.shape({
    ...o.commit,
    parents: o.ss,
    // GitHub's own object, passed through: a key it adds later is dropped, not refused.
    stats: z.object({ total: o.n, additions: o.n, deletions: o.n }).partial(),
    files: z.array(o.shape(o.fileChange)),
    diff: o.s,
    offset: o.n,
    total_bytes: o.n,
    next_offset: o.n,
  }),
  name: "get_commit",
  title: "Get one commit",
  description:
    "A commit: message, author, stats and changed files; diff=true adds its unified diff, paged by file or offset/max_bytes (next_offset).",
  input: z.object({
    owner,
    repo,
    sha: z.string().describe("Commit sha, branch or tag"),
    diff: selfDescribing(z.boolean().default(false)),
    file: z.string().optional().describe("diff: one file only"),
    offset: z.number().int().min(0).default(0).describe("diff: start here"),
    max_bytes: z.number().int().min(1000).max(100_000).default(20_000).describe("diff: most characters"),
  }),
  render: rawText("diff"),
  annotations: READ,
  handler: async ({ owner, repo, sha, diff, file, offset, max_bytes }, ctx) => {
    const at = path`/repos/${owner}/${repo}/commits/${sha}`;
    const res = await ctx.deps.gh.request({ path: at, permission: "contents:read", signal: ctx.signal });
    const c = obj(res.data);
    // A stranger's diff is their text as much as their message is: neither is shown, nor the diff fetched.
    const withheld = await withheldCommit(ctx, new Map(), owner, repo, c);
    const out: Record<string, unknown> = {
      ...(withheld ? withholdCommit(commit(c), c, withheld) : commit(c)),
      parents: asList(c.parents).map((x) => obj(x).sha),
      stats: c.stats,
      files: asList(c.files).slice(0, 300).map(fileChange),
    };
    if (diff && withheld) out.diff = withheld;
    else if (diff) {
      const text = await ctx.deps.gh.request<string>({
        path: at,
        accept: "application/vnd.github.diff",
        text: true,
        permission: "contents:read",
        signal: ctx.signal,
      });
      const { files: _files, ...pageOfDiff } = pageDiff(String(text.data ?? ""), file, offset, max_bytes);
      Object.assign(out, pageOfDiff);
    }
    return out;
  },
});

export const listRefsTool = defineTool({
  toolset: "repos",
  output: o.shape({
    ...o.release,
    ...o.paging,
    sha: o.s,
    type: o.s,
    tag_sha: o.s,
    tagger: o.s,
    date: o.s,
    message: o.s,
    items: z.array(o.shape({ ...o.release, sha: o.s, protected: o.b })),
  }),
  name: "list_refs",
  title: "List branches, tags or releases",
  description:
    "kind=branches, tags, releases (notes capped), latest_release; tag: one tag (with an annotated tag's message) or release: one release, both by name.",
  input: z.object({
    owner,
    repo,
    kind: selfDescribing(z.enum(["branches", "tags", "releases", "latest_release", "tag", "release"])),
    name: z.string().optional().describe("tag, release: the tag name"),
    page,
    per_page: perPage,
  }),
  annotations: READ,
  handler: async ({ owner, repo, kind, name, page, per_page }, ctx) => {
    if (kind === "tag" || kind === "release") {
      if (!name) throw new ToolshedError("invalid_input", `kind=${kind} needs name (the tag, e.g. 'v1.2.0')`);
      const base = { permission: "contents:read" as const, signal: ctx.signal };
      if (kind === "release") {
        const res = await ctx.deps.gh.request({
          ...base,
          path: path`/repos/${owner}/${repo}/releases/tags/${name}`,
        });
        return release(res.data);
      }
      const ref = await ctx.deps.gh.request({
        ...base,
        path: path`/repos/${owner}/${repo}/git/ref/tags/${name}`,
      });
      const target = obj(obj(ref.data).object);
      if (target.type !== "tag") return compact({ name, sha: target.sha, type: target.type });
      // An annotated tag: its own object carries the tagger, message and the commit it points at.
      const tag = await ctx.deps.gh.request({
        ...base,
        path: path`/repos/${owner}/${repo}/git/tags/${String(target.sha)}`,
      });
      const t = obj(tag.data);
      return compact({
        name,
        tag_sha: t.sha,
        sha: obj(t.object).sha,
        type: obj(t.object).type,
        tagger: obj(t.tagger).name,
        date: obj(t.tagger).date,
        message: cleanText(t.message as string | null),
      });
    }
    if (kind === "latest_release") {
      const res = await ctx.deps.gh.request({
        path: path`/repos/${owner}/${repo}/releases/latest`,
        permission: "contents:read",
        signal: ctx.signal,
      });
      return release(res.data);
    }
    return listPage(ctx, {
      path: path`/repos/${owner}/${repo}/${kind}`,
      page,
      per_page,
      permission: "contents:read",
      shape:
        kind === "releases"
          ? release
          : (b) => compact({ name: obj(b).name, sha: obj(obj(b).commit).sha, protected: obj(b).protected }),
    });
  },
});

async function branchHead(ctx: Ctx, owner: string, repo: string, branch: string): Promise<string> {
  const ref = await ctx.deps.gh.request({
    path: `${path`/repos/${owner}/${repo}/git/ref/heads`}/${filePath(branch)}`,
    permission: "contents:read",
    signal: ctx.signal,
  });
  return String(obj(obj(ref.data).object).sha);
}

/** Commits one file through the contents API (the old create_or_update_file): the recorded, one-request path. */
async function putFile(
  ctx: Ctx,
  at: { owner: string; repo: string; branch: string | undefined; message: string },
  file: { path: string; content: string; sha?: string | undefined },
): Promise<Record<string, unknown>> {
  const { owner, repo, branch, message } = at;
  const res = await ctx.deps.gh.request({
    method: "PUT",
    path: `${path`/repos/${owner}/${repo}/contents`}/${filePath(file.path)}`,
    body: compact({
      message,
      content: Buffer.from(file.content, "utf8").toString("base64"),
      branch,
      sha: file.sha,
    }),
    permission: file.path.startsWith(".github/workflows/") ? "workflows:write" : "contents:write",
    auth: "required",
    signal: ctx.signal,
  });
  const d = obj(res.data);
  // The path is the model's own; the blob sha is what a later update of the file needs.
  return compact({
    branch,
    sha: obj(d.content).sha,
    commit: obj(d.commit).sha,
    url: obj(d.commit).html_url,
  });
}

export const pushFilesTool = defineTool({
  toolset: "repos",
  output: o.shape({
    ...o.declinedShape,
    branch: o.s,
    commit: o.s,
    parent: o.s,
    written: o.n,
    deleted: o.n,
    sha: o.s,
    url: o.s,
  }),
  name: "push_files",
  title: "Commit files: write, update, delete",
  description:
    "One commit writing files and deleting paths. A file written alone needs its sha (get_file_contents) to replace an existing one; several files or deletions need none. New branch: repository_write create_branch. Deleting asks the user to confirm.",
  input: z.object({
    owner,
    repo,
    branch: z.string().optional().describe("Existing branch (default: the default one)"),
    message: selfDescribing(z.string()),
    files: z
      .array(
        z.object({
          path: selfDescribing(z.string()),
          content: z.string().describe("Whole text"),
          sha: z.string().optional().describe("To replace it: its blob sha"),
        }),
      )
      .default([])
      .describe("Files to write"),
    delete: selfDescribing(z.array(z.string()).default([])),
  }),
  annotations: WRITE,
  handler: async ({ owner, repo, branch, message, files, delete: remove }, ctx) => {
    if (files.length + remove.length === 0) {
      throw new ToolshedError("invalid_input", "nothing to commit: give files to write or paths to delete");
    }
    const [only] = files;
    if (only && files.length === 1 && remove.length === 0) {
      return putFile(ctx, { owner, repo, branch, message }, only);
    }
    if (files.some((f) => f.sha !== undefined)) {
      throw new ToolshedError(
        "invalid_input",
        "files[].sha is for a single file written alone; with several files or deletions leave it out",
      );
    }
    const gh = ctx.deps.gh;
    const touchesWorkflows = [...files.map((f) => f.path), ...remove].some((f) =>
      f.startsWith(".github/workflows/"),
    );
    const permission = touchesWorkflows ? ("workflows:write" as const) : ("contents:write" as const);
    gh.requireToken(permission);
    if (remove.length > 0) {
      const listed =
        remove.slice(0, 10).join(", ") + (remove.length > 10 ? `, … (${remove.length} in all)` : "");
      const written = files.length ? ` and writing ${files.length}` : "";
      const on = branch === undefined ? "its default branch" : `branch '${branch}'`;
      const confirmed = await ctx.confirm(
        `Commit to ${owner}/${repo} ${on} deleting ${remove.length} file${remove.length === 1 ? "" : "s"} (${listed})${written}: "${message}"?`,
      );
      if (!confirmed) return declined(`deleting ${remove.length} files from ${owner}/${repo} ${on}`);
    }
    const target = branch ?? (await defaultBranch(ctx, owner, repo));
    const head = await branchHead(ctx, owner, repo, target);
    const base = await gh.request({
      path: path`/repos/${owner}/${repo}/git/commits/${head}`,
      permission,
      signal: ctx.signal,
    });
    const tree = await gh.request({
      method: "POST",
      path: path`/repos/${owner}/${repo}/git/trees`,
      body: {
        base_tree: obj(obj(base.data).tree).sha,
        tree: [
          ...files.map((f) => ({ path: f.path, mode: "100644", type: "blob", content: f.content })),
          ...remove.map((p) => ({ path: p, mode: "100644", type: "blob", sha: null })),
        ],
      },
      permission,
      auth: "required",
      signal: ctx.signal,
    });
    const created = await gh.request({
      method: "POST",
      path: path`/repos/${owner}/${repo}/git/commits`,
      body: { message, tree: obj(tree.data).sha, parents: [head] },
      permission,
      auth: "required",
      signal: ctx.signal,
    });
    const sha = String(obj(created.data).sha);
    await gh.request({
      method: "PATCH",
      path: `${path`/repos/${owner}/${repo}/git/refs/heads`}/${filePath(target)}`,
      body: { sha, force: false },
      permission,
      auth: "required",
      signal: ctx.signal,
    });
    return { branch: target, commit: sha, parent: head, written: files.length, deleted: remove.length };
  },
});

async function defaultBranch(ctx: Ctx, owner: string, repo: string): Promise<string> {
  const r = await ctx.deps.gh.request({
    path: path`/repos/${owner}/${repo}`,
    permission: "contents:read",
    signal: ctx.signal,
  });
  return String(obj(r.data).default_branch);
}

/** repository_write method=create_branch: a branch from another branch or a sha. */
async function createBranch(
  ctx: Ctx,
  owner: string,
  repo: string,
  branch: string,
  from: string | undefined,
): Promise<Record<string, unknown>> {
  const gh = ctx.deps.gh;
  gh.requireToken("contents:write");
  const source = from ?? (await defaultBranch(ctx, owner, repo));
  const sha = /^[0-9a-f]{40}$/i.test(source) ? source : await branchHead(ctx, owner, repo, source);
  await gh.request({
    method: "POST",
    path: path`/repos/${owner}/${repo}/git/refs`,
    body: { ref: `refs/heads/${branch}`, sha },
    permission: "contents:write",
    auth: "required",
    signal: ctx.signal,
  });
  return { sha, from: source };
}

export const repositoryWriteTool = defineTool({
  toolset: "repos",
  output: o.shape({ ...o.repositoryBrief, sha: o.s, from: o.s }),
  name: "repository_write",
  title: "Create, fork or branch a repository",
  description:
    "method=create: a repository named name for the user or organization. fork: forks owner/repo (into organization if set). create_branch: a branch of owner/repo.",
  input: z.object({
    method: selfDescribing(z.enum(["create", "fork", "create_branch"])),
    name: z.string().optional().describe("create: its name; fork: a new name"),
    owner: owner.optional(),
    repo: repo.optional(),
    organization: z.string().optional().describe("Org to create or fork into"),
    description: z.string().optional().describe("create: description"),
    private: z.boolean().default(true).describe("create: private or public"),
    auto_init: z.boolean().default(true).describe("create: add an initial README commit"),
    branch: z.string().optional().describe("create_branch: the new branch"),
    from: z.string().optional().describe("create_branch: from branch or 40-hex sha (default branch)"),
  }),
  annotations: WRITE,
  handler: async (input, ctx) => {
    const gh = ctx.deps.gh;
    if (input.method === "create") {
      if (!input.name) throw new ToolshedError("invalid_input", "method=create needs name");
      const res = await gh.request({
        method: "POST",
        path: input.organization ? path`/orgs/${input.organization}/repos` : "/user/repos",
        body: compact({
          name: input.name,
          description: input.description,
          private: input.private,
          auto_init: input.auto_init,
        }),
        permission: "admin:write",
        auth: "required",
        signal: ctx.signal,
      });
      return keep(repository(res.data), o.repositoryBrief);
    }
    if (!input.owner || !input.repo)
      throw new ToolshedError("invalid_input", `method=${input.method} needs owner and repo`);
    if (input.method === "create_branch") {
      if (!input.branch) throw new ToolshedError("invalid_input", "method=create_branch needs branch");
      return createBranch(ctx, input.owner, input.repo, input.branch, input.from);
    }
    const res = await gh.request({
      method: "POST",
      path: path`/repos/${input.owner}/${input.repo}/forks`,
      body: compact({ organization: input.organization, name: input.name }),
      permission: "admin:write",
      auth: "required",
      signal: ctx.signal,
    });
    return keep(repository(res.data), o.repositoryBrief);
  },
});

export const repoTools = [
  searchRepositoriesTool,
  getFileContentsTool,
  listCommitsTool,
  getCommitTool,
  listRefsTool,
  pushFilesTool,
  repositoryWriteTool,
];
