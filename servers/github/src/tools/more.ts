import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { filePath, path } from "../github/client.js";
import type { PermissionKey } from "../github/permissions.js";
import { cleanText } from "../github/sanitize.js";
import { asList, compact, obj, repository } from "../github/shape.js";
import type { Ctx } from "../deps.js";
import {
  declined,
  fields,
  defineTool,
  owner,
  page,
  perPage,
  READ,
  repo,
  WRITE,
  type Toolset,
} from "./common.js";
import { listPage } from "./list.js";

/* The official server's non-default toolsets: gists, stargazers, labels, git, security alerts, advisories. */

const gist = (g: unknown, withFiles: boolean) => {
  const x = obj(g);
  const files = Object.values(obj(x.files)).map((f) =>
    compact({
      filename: obj(f).filename,
      language: obj(f).language,
      size: obj(f).size,
      ...(withFiles ? { content: obj(f).content, truncated: obj(f).truncated || undefined } : {}),
    }),
  );
  return compact({
    id: x.id,
    description: cleanText(x.description as string | null),
    public: x.public,
    owner: obj(x.owner).login,
    files,
    updated_at: x.updated_at,
    url: x.html_url,
  });
};

export const gistReadTool = defineTool({
  toolset: "gists",
  output: o.shape({ ...o.paging, ...o.gist, items: z.array(o.shape(o.gist)) }),
  name: "gist_read",
  title: "List gists or read one",
  description: "gist_id: one gist with its files' content; otherwise the gists of username (default: yours).",
  input: z.object({
    gist_id: z.string().optional().describe("One gist"),
    username: z.string().optional().describe("Whose gists (default: yours)"),
    since: z.string().optional().describe("Updated after (ISO 8601)"),
    page,
    per_page: perPage,
  }),
  annotations: READ,
  handler: async ({ gist_id, username, since, page, per_page }, ctx) => {
    if (gist_id) {
      const res = await ctx.deps.gh.request({
        path: path`/gists/${gist_id}`,
        permission: "user:read",
        signal: ctx.signal,
      });
      return gist(res.data, true);
    }
    return listPage(ctx, {
      path: username ? path`/users/${username}/gists` : "/gists",
      query: { since },
      page,
      per_page,
      permission: "user:read",
      ...(username ? {} : { auth: "required" as const }),
      shape: (g) => gist(g, false),
    });
  },
});

export const gistWriteTool = defineTool({
  toolset: "gists",
  output: o.shape(o.gist),
  name: "gist_write",
  title: "Create or update a gist",
  description:
    "method=create makes a gist (secret unless public=true); update changes gist_id's description and files (content '' deletes a file).",
  input: z.object({
    method: selfDescribing(z.enum(["create", "update"])),
    gist_id: z.string().optional().describe("update: the gist"),
    description: z.string().optional().describe("Description"),
    public: z.boolean().default(false).describe("create: public gist"),
    files: z.record(z.string(), z.string()).describe("filename to content"),
  }),
  annotations: WRITE,
  handler: async ({ method, gist_id, description, public: isPublic, files }, ctx) => {
    if (method === "update" && !gist_id)
      throw new ToolshedError("invalid_input", "method=update needs gist_id");
    const body: Record<string, unknown> = {
      files: Object.fromEntries(
        Object.entries(files).map(([name, content]) => [
          name,
          method === "update" && content === "" ? null : { content },
        ]),
      ),
    };
    if (description !== undefined) body.description = description;
    if (method === "create") body.public = isPublic;
    const res = await ctx.deps.gh.request({
      method: method === "create" ? "POST" : "PATCH",
      path: method === "create" ? "/gists" : path`/gists/${gist_id!}`,
      body,
      permission: "gists:write",
      auth: "required",
      signal: ctx.signal,
    });
    return gist(res.data, false);
  },
});

export const listStarredTool = defineTool({
  toolset: "stargazers",
  output: o.list(o.repository),
  name: "list_starred_repositories",
  title: "Repositories someone starred",
  description: "Repositories starred by username (default: you), most recently starred first.",
  input: z.object({
    username: z.string().optional().describe("Whose stars (default: yours)"),
    sort: selfDescribing(z.enum(["created", "updated"]).optional()),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: ({ username, sort, page, per_page, fields }, ctx) =>
    listPage(ctx, {
      path: username ? path`/users/${username}/starred` : "/user/starred",
      query: { sort },
      page,
      per_page,
      fields,
      permission: "user:read",
      ...(username ? {} : { auth: "required" as const }),
      shape: repository,
    }),
});

export const starWriteTool = defineTool({
  toolset: "stargazers",
  output: o.shape({ repo: o.s, starred: o.b }),
  name: "star_write",
  title: "Star or unstar a repository",
  description: "method=star or unstar owner/repo as you.",
  input: z.object({ method: selfDescribing(z.enum(["star", "unstar"])), owner, repo }),
  annotations: { ...WRITE, idempotentHint: true },
  handler: async ({ method, owner, repo }, ctx) => {
    await ctx.deps.gh.request({
      method: method === "star" ? "PUT" : "DELETE",
      path: path`/user/starred/${owner}/${repo}`,
      permission: "starring:write",
      auth: "required",
      signal: ctx.signal,
    });
    return { repo: `${owner}/${repo}`, starred: method === "star" };
  },
});

export const labelWriteTool = defineTool({
  toolset: "labels",
  output: o.shape({ ...o.declinedShape, deleted: o.s, name: o.s, color: o.s, description: o.s }),
  name: "label_write",
  title: "Create, update or delete a label",
  description:
    "method=create a label (name, color hex without #); update name's new_name, color, description; delete name (asks the user to confirm).",
  input: z.object({
    method: selfDescribing(z.enum(["create", "update", "delete"])),
    owner,
    repo,
    name: z.string().describe("Label name"),
    new_name: z.string().optional().describe("update: rename to"),
    color: z
      .string()
      .regex(/^[0-9a-fA-F]{6}$/, "a 6-digit hex color without #, e.g. 'd73a4a'")
      .optional()
      .describe("Hex, no #"),
    description: z.string().optional().describe("Description"),
  }),
  annotations: { ...WRITE, destructiveHint: true },
  handler: async ({ method, owner, repo, name, new_name, color, description }, ctx) => {
    const base = { permission: "issues:write" as const, auth: "required" as const, signal: ctx.signal };
    if (method === "delete") {
      ctx.deps.gh.requireToken("issues:write");
      const confirmed = await ctx.confirm(
        `Delete label '${name}' from ${owner}/${repo}? It comes off every issue and pull request that has it.`,
      );
      if (!confirmed) return declined(`deleting label '${name}' from ${owner}/${repo}`);
      await ctx.deps.gh.request({
        ...base,
        method: "DELETE",
        path: path`/repos/${owner}/${repo}/labels/${name}`,
      });
      return { deleted: name };
    }
    const res = await ctx.deps.gh.request({
      ...base,
      method: method === "create" ? "POST" : "PATCH",
      path:
        method === "create"
          ? path`/repos/${owner}/${repo}/labels`
          : path`/repos/${owner}/${repo}/labels/${name}`,
      body: compact(method === "create" ? { name, color, description } : { new_name, color, description }),
    });
    return compact({
      name: obj(res.data).name,
      color: obj(res.data).color,
      description: obj(res.data).description,
    });
  },
});

const MAX_TREE = 1000;

export const getRepositoryTreeTool = defineTool({
  toolset: "git",
  output: o.shape({
    sha: o.s,
    entries: z.array(o.shape({ path: o.s, type: o.s, size: o.n })),
    truncated: o.b,
    note: o.s,
  }),
  name: "get_repository_tree",
  title: "A repository's file tree",
  description: `Every path under ref (recursive; at most ${MAX_TREE}, path_filter prefix narrows), with type and size.`,
  input: z.object({
    owner,
    repo,
    ref: z.string().optional().describe("Branch, tag or sha (default branch)"),
    path_filter: z.string().optional().describe("Only paths under this prefix"),
  }),
  annotations: READ,
  handler: async ({ owner, repo, ref, path_filter }, ctx) => {
    let sha = ref;
    if (!sha) {
      const r = await ctx.deps.gh.request({
        path: path`/repos/${owner}/${repo}`,
        permission: "contents:read",
        signal: ctx.signal,
      });
      sha = String(obj(r.data).default_branch);
    }
    const res = await ctx.deps.gh.request({
      path: `${path`/repos/${owner}/${repo}/git/trees`}/${filePath(sha)}`,
      query: { recursive: 1 },
      permission: "contents:read",
      signal: ctx.signal,
    });
    const prefix = path_filter?.replace(/^\/+/, "");
    const all = asList(obj(res.data).tree).filter((e) => !prefix || String(obj(e).path).startsWith(prefix));
    const entries = all
      .slice(0, MAX_TREE)
      .map((e) => compact({ path: obj(e).path, type: obj(e).type, size: obj(e).size }));
    return compact({
      sha: obj(res.data).sha,
      entries,
      truncated: obj(res.data).truncated || all.length > MAX_TREE || undefined,
      note: all.length > MAX_TREE ? `${all.length} paths; narrow with path_filter` : undefined,
    });
  },
});

/** Code scanning, secret scanning and Dependabot alerts share one shape: list a repo's, or get one. */
function alertsTool(
  toolset: Toolset,
  name: string,
  kind: string,
  api: string,
  permission: PermissionKey,
  shape: (a: Record<string, unknown>) => Record<string, unknown>,
  fields: z.ZodRawShape,
) {
  return defineTool({
    toolset: toolset,
    output: o.shape({ ...o.paging, ...fields, items: z.array(o.shape(fields)) }),
    name,
    title: `${kind} alerts`,
    description: `A repository's ${kind} alerts (state, severity filters), or alert_number's details.`,
    input: z.object({
      owner,
      repo,
      alert_number: z.number().int().min(1).optional().describe("One alert"),
      state: z.string().optional().describe("e.g. open, dismissed, fixed, resolved"),
      severity: z.string().optional().describe("e.g. critical, high"),
      page,
      per_page: perPage,
    }),
    annotations: READ,
    handler: async ({ owner, repo, alert_number, state, severity, page, per_page }, ctx: Ctx) => {
      const base = path`/repos/${owner}/${repo}` + api;
      if (alert_number !== undefined) {
        const res = await ctx.deps.gh.request({
          path: `${base}/${alert_number}`,
          permission,
          auth: "required",
          signal: ctx.signal,
        });
        return shape(obj(res.data));
      }
      return listPage(ctx, {
        path: base,
        query: { state, severity },
        page,
        per_page,
        permission,
        auth: "required",
        shape: (a) => shape(obj(a)),
      });
    },
  });
}

export const codeScanningTool = alertsTool(
  "code_security",
  "code_scanning_alerts",
  "Code scanning",
  "/code-scanning/alerts",
  "code_scanning:read",
  (a) =>
    compact({
      number: a.number,
      state: a.state,
      rule: obj(a.rule).id,
      severity: obj(a.rule).security_severity_level ?? obj(a.rule).severity,
      description: obj(a.rule).description,
      tool: obj(a.tool).name,
      path: obj(obj(a.most_recent_instance).location).path,
      line: obj(obj(a.most_recent_instance).location).start_line,
      created_at: a.created_at,
      url: a.html_url,
    }),
  {
    number: o.n,
    state: o.s,
    rule: o.s,
    severity: o.s,
    description: o.s,
    tool: o.s,
    path: o.s,
    line: o.n,
    created_at: o.s,
    url: o.s,
  },
);

export const secretScanningTool = alertsTool(
  "secret_protection",
  "secret_scanning_alerts",
  "Secret scanning",
  "/secret-scanning/alerts",
  "secret_scanning:read",
  (a) =>
    // The secret itself is never returned: a model has no use for it and it must not reach a transcript.
    compact({
      number: a.number,
      state: a.state,
      secret_type: a.secret_type_display_name ?? a.secret_type,
      validity: a.validity,
      resolution: a.resolution,
      created_at: a.created_at,
      url: a.html_url,
    }),
  { number: o.n, state: o.s, secret_type: o.s, validity: o.s, resolution: o.s, created_at: o.s, url: o.s },
);

export const dependabotTool = alertsTool(
  "dependabot",
  "dependabot_alerts",
  "Dependabot",
  "/dependabot/alerts",
  "dependabot:read",
  (a) =>
    compact({
      number: a.number,
      state: a.state,
      package: obj(obj(a.dependency).package).name,
      ecosystem: obj(obj(a.dependency).package).ecosystem,
      manifest: obj(a.dependency).manifest_path,
      severity: obj(a.security_advisory).severity,
      ghsa_id: obj(a.security_advisory).ghsa_id,
      summary: obj(a.security_advisory).summary,
      fixed_in: obj(obj(a.security_vulnerability).first_patched_version).identifier,
      url: a.html_url,
    }),
  {
    number: o.n,
    state: o.s,
    package: o.s,
    ecosystem: o.s,
    manifest: o.s,
    severity: o.s,
    ghsa_id: o.s,
    summary: o.s,
    fixed_in: o.s,
    url: o.s,
  },
);

const advisory = (a: unknown) => {
  const x = obj(a);
  return compact({
    ghsa_id: x.ghsa_id,
    cve_id: x.cve_id,
    severity: x.severity,
    summary: cleanText(x.summary as string | null),
    state: x.state,
    published_at: x.published_at,
    packages: asList(x.vulnerabilities).map((v) => obj(obj(v).package).name),
    url: x.html_url,
  });
};

export const advisoriesTool = defineTool({
  toolset: "security_advisories",
  output: o.shape({ ...o.advisory, description: o.s.nullable(), items: z.array(o.shape(o.advisory)) }),
  name: "security_advisories",
  title: "Security advisories",
  description:
    "method=list_global (GitHub Advisory Database: ecosystem, package, severity, cve_id), get_global (ghsa_id), list_repo (owner+repo's), list_org (owner's repositories').",
  input: z.object({
    method: selfDescribing(z.enum(["list_global", "get_global", "list_repo", "list_org"])),
    ghsa_id: z.string().optional().describe("get_global: GHSA id"),
    owner: z.string().optional().describe("list_repo, list_org: owner"),
    repo: z.string().optional().describe("list_repo: repo"),
    ecosystem: z.string().optional().describe("e.g. npm, pip, go"),
    package: z.string().optional().describe("Package name"),
    severity: z.string().optional().describe("low, medium, high, critical"),
    cve_id: z.string().optional().describe("CVE id"),
    per_page: perPage,
  }),
  annotations: READ,
  handler: async (
    { method, ghsa_id, owner, repo, ecosystem, package: pkg, severity, cve_id, per_page },
    ctx,
  ) => {
    if (method === "get_global") {
      if (!ghsa_id)
        throw new ToolshedError(
          "invalid_input",
          "method=get_global needs ghsa_id (e.g. GHSA-xxxx-xxxx-xxxx)",
        );
      const res = await ctx.deps.gh.request({
        path: path`/advisories/${ghsa_id}`,
        permission: "user:read",
        signal: ctx.signal,
      });
      return { ...advisory(res.data), description: cleanText(obj(res.data).description as string | null) };
    }
    if (method !== "list_global" && !owner)
      throw new ToolshedError("invalid_input", `method=${method} needs owner`);
    if (method === "list_repo" && !repo)
      throw new ToolshedError("invalid_input", "method=list_repo needs repo");
    // Advisory lists page by cursor (no `page` parameter): the first per_page are returned.
    const res = await ctx.deps.gh.request({
      path:
        method === "list_global"
          ? "/advisories"
          : method === "list_repo"
            ? path`/repos/${owner!}/${repo!}/security-advisories`
            : path`/orgs/${owner!}/security-advisories`,
      query:
        method === "list_global" ? { ecosystem, affects: pkg, severity, cve_id, per_page } : { per_page },
      permission: method === "list_global" ? "user:read" : "advisories:read",
      ...(method === "list_global" ? {} : { auth: "required" as const }),
      signal: ctx.signal,
    });
    return { items: asList(res.data).map(advisory) };
  },
});

export const moreTools = [
  gistReadTool,
  gistWriteTool,
  listStarredTool,
  starWriteTool,
  labelWriteTool,
  getRepositoryTreeTool,
  codeScanningTool,
  secretScanningTool,
  dependabotTool,
  advisoriesTool,
];
