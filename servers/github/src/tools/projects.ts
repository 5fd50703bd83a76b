import type { QueryValue } from "@toolshed/http-client";
import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import * as m from "./outputs-more.js";
import { path } from "../github/client.js";
import { lockdownEach } from "../github/lockdown.js";
import { parseLink } from "../github/pagination.js";
import { cleanText } from "../github/sanitize.js";
import { asList, compact, obj, pick } from "../github/shape.js";
import type { Ctx } from "../deps.js";
import { declined, defineTool, fields, READ, WRITE } from "./common.js";

/*
 * The projects toolset (GitHub Projects, "projects v2"), over GitHub's REST API for projects: list
 * and read projects, their fields and items; add, update and delete items. A project belongs to a
 * user or an organization, which the REST paths spell differently (/users/… or /orgs/…).
 */

type Json = Record<string, unknown>;
type OwnerType = "user" | "org";

const projectOwner = z.string().describe("User or org login that owns the project");
const ownerType = z.enum(["user", "org"]).optional().describe("Whose project (default: looked up)");
const projectNumber = z.number().int().min(1).describe("The project's number");
const projectPerPage = selfDescribing(z.number().int().min(1).max(100).default(20));

/** /users/{owner}/projectsV2 or /orgs/{owner}/projectsV2, after learning which the owner is. */
async function projectsBase(
  ctx: Ctx,
  owner: string,
  type: OwnerType | undefined,
): Promise<[string, OwnerType]> {
  let t = type;
  if (!t) {
    const res = await ctx.deps.gh.request({
      path: path`/users/${owner}`,
      permission: "user:read",
      signal: ctx.signal,
    });
    t = obj(res.data).type === "Organization" ? "org" : "user";
  }
  return [t === "org" ? path`/orgs/${owner}/projectsV2` : path`/users/${owner}/projectsV2`, t];
}

/** The `after` cursor of the next page, from the Link header GitHub pages projects with. */
function nextCursor(link: string | string[] | undefined): Json {
  const next = parseLink(link).next;
  if (!next) return {};
  try {
    const after = new URL(next).searchParams.get("after");
    return after ? { next_cursor: after } : {};
  } catch {
    return {};
  }
}

function project(p: unknown, type: OwnerType): Json {
  const x = obj(p);
  return compact({
    number: x.number,
    id: x.id,
    node_id: x.node_id,
    title: cleanText(x.title as string | null),
    short_description: cleanText(x.short_description as string | null) || undefined,
    owner: obj(x.owner).login,
    owner_type: type,
    public: x.public,
    state: x.state,
    closed_at: x.closed_at,
    created_at: x.created_at,
    updated_at: x.updated_at,
  });
}

const raw = (v: unknown): unknown => {
  const x = obj(v);
  return x.raw ?? v;
};

function field(f: unknown): Json {
  const x = obj(f);
  const cfg = obj(x.configuration);
  return compact({
    id: x.id,
    node_id: x.node_id,
    name: x.name,
    data_type: x.data_type,
    options: asList(x.options).map((op) => compact({ id: obj(op).id, name: raw(obj(op).name) })),
    iterations: asList(cfg.iterations).map((it) =>
      compact({
        id: obj(it).id,
        title: raw(obj(it).title),
        start_date: obj(it).start_date,
        duration: obj(it).duration,
      }),
    ),
  });
}

/** A field value as text: an option's or iteration's name, a title's text, people's logins, a number. */
function valueText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "string") return cleanText(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    const parts = v.map(valueText).filter((p): p is string => Boolean(p));
    return parts.length ? parts.join(", ") : undefined;
  }
  const x = obj(v);
  for (const key of ["name", "title"]) {
    const inner = x[key];
    if (inner !== undefined) return valueText(typeof inner === "object" ? obj(inner).raw : inner);
  }
  if (x.raw !== undefined) return valueText(x.raw);
  if (x.login !== undefined) return valueText(x.login);
  return undefined;
}

/** "owner/repo" from an API repository URL (…/repos/owner/repo). */
function repoOfUrl(url: unknown): string | undefined {
  const m = typeof url === "string" ? /\/repos\/([^/]+\/[^/]+)$/.exec(url) : null;
  return m?.[1];
}

function item(i: unknown): Json {
  const x = obj(i);
  const c = obj(x.content);
  return compact({
    id: x.id,
    node_id: x.node_id,
    content_type: x.content_type,
    repo: repoOfUrl(c.repository_url),
    number: c.number,
    title: cleanText(c.title as string | null),
    state: c.merged_at ? "merged" : c.state,
    author: obj(c.user).login,
    author_association: c.author_association,
    url: c.html_url,
    fields: asList(x.fields)
      .map((f) =>
        compact({
          id: obj(f).id,
          name: obj(f).name,
          data_type: obj(f).data_type,
          value: valueText(obj(f).value),
        }),
      )
      .filter((f) => f.name !== "Title"),
    archived_at: x.archived_at,
    created_at: x.created_at,
    updated_at: x.updated_at,
  });
}

/** Field ids by name, case-insensitively, from one page of the project's fields; a name not found is an error. */
async function fieldsByName(ctx: Ctx, base: string, n: number, names: readonly string[]): Promise<Json[]> {
  const res = await ctx.deps.gh.request({
    path: `${base}/${n}/fields`,
    query: { per_page: 100 },
    permission: "projects:read",
    auth: "required",
    signal: ctx.signal,
  });
  const all = asList(res.data).map(obj);
  return names.map((name) => {
    const f = all.find((x) => String(x.name).toLowerCase() === name.toLowerCase());
    if (!f)
      throw new ToolshedError(
        "invalid_input",
        `project #${n} has no field '${name}'; its fields are: ${all.map((x) => String(x.name)).join(", ")}`,
      );
    return f;
  });
}

/*
 * Status updates and views exist only in GraphQL; a project is reached there through its owner,
 * `organization(login:)` or `user(login:)`.
 */
const holder = (type: OwnerType) => (type === "org" ? "organization" : "user");
const STATUS_FIELDS = "id status body startDate targetDate createdAt creator { login }";
const VIEW_FIELDS = "id number name layout filter";

export const statusUpdatesQuery = (
  type: OwnerType,
) => `query ProjectStatusUpdates($owner: String!, $number: Int!, $first: Int!, $after: String) {
  ${holder(type)}(login: $owner) {
    projectV2(number: $number) {
      statusUpdates(first: $first, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {
        pageInfo { hasNextPage endCursor }
        nodes { ${STATUS_FIELDS} }
      }
    }
  }
}`;

export const viewsQuery = (
  type: OwnerType,
) => `query ProjectViews($owner: String!, $number: Int!, $first: Int!, $after: String) {
  ${holder(type)}(login: $owner) {
    projectV2(number: $number) {
      views(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { ${VIEW_FIELDS} }
      }
    }
  }
}`;

const NODE_QUERY = `query ProjectNode($id: ID!) {
  node(id: $id) {
    ... on ProjectV2StatusUpdate { __typename ${STATUS_FIELDS} }
    ... on ProjectV2View { __typename ${VIEW_FIELDS} }
  }
}`;

function statusUpdate(u: unknown): Json {
  const x = obj(u);
  return compact({
    node_id: x.id,
    status: x.status,
    body: cleanText(x.body as string | null) || undefined,
    start_date: x.startDate,
    target_date: x.targetDate,
    creator: obj(x.creator).login,
    created_at: x.createdAt,
  });
}

function view(v: unknown): Json {
  const x = obj(v);
  return compact({
    node_id: x.id,
    number: x.number,
    name: x.name,
    // GitHub's enum (BOARD_LAYOUT…) as the official server and REST spell it (board…).
    layout: typeof x.layout === "string" ? x.layout.replace(/_LAYOUT$/, "").toLowerCase() : undefined,
    filter: x.filter || undefined,
  });
}

/** One page of a project's status updates or views (GraphQL). */
async function projectConnection(
  ctx: Ctx,
  type: OwnerType,
  which: "statusUpdates" | "views",
  vars: Json,
): Promise<Json> {
  const query = which === "views" ? viewsQuery(type) : statusUpdatesQuery(type);
  const data = await ctx.deps.gh.graphql<Json>(query, vars, {
    permission: "projects:read",
    signal: ctx.signal,
  });
  const p = obj(data[holder(type)]).projectV2;
  if (!p)
    throw new ToolshedError(
      "not_found",
      `project #${String(vars.number)} of ${String(vars.owner)} not found`,
    );
  const conn = obj(obj(p)[which]);
  const info = obj(conn.pageInfo);
  const items = asList(conn.nodes).map(which === "views" ? view : statusUpdate);
  return compact({ items, next_cursor: info.hasNextPage ? info.endCursor : undefined });
}

export const projectsReadTool = defineTool({
  toolset: "projects",
  output: o.shape({
    ...m.project,
    ...m.projectField,
    ...m.projectItem,
    ...m.projectStatusUpdate,
    ...m.projectView,
    next_cursor: o.s,
    items: z.array(
      o.shape({
        ...m.project,
        ...m.projectField,
        ...m.projectItem,
        ...m.projectStatusUpdate,
        ...m.projectView,
      }),
    ),
  }),
  name: "projects_read",
  title: "Read GitHub Projects",
  description:
    "method=list_projects of owner (query: e.g. 'roadmap is:open'); get_project, list_project_fields, get_project_field (field_id), list_project_items (query: project filter syntax), get_project_item (item_id), list_project_status_updates, list_project_views of project_number; get_project_status_update, get_project_view by node_id. Items show only their title unless field_ids or field_names name the fields to show. Pages by cursor: pass next_cursor as after.",
  input: z.object({
    method: selfDescribing(
      z.enum([
        "list_projects",
        "get_project",
        "list_project_fields",
        "get_project_field",
        "list_project_items",
        "get_project_item",
        "list_project_status_updates",
        "get_project_status_update",
        "list_project_views",
        "get_project_view",
      ]),
    ),
    owner: projectOwner,
    owner_type: ownerType,
    project_number: projectNumber.optional(),
    field_id: z.number().int().min(1).optional().describe("get_project_field: the field"),
    item_id: z.number().int().min(1).optional().describe("get_project_item: the item"),
    node_id: z.string().optional().describe("get_project_status_update, get_project_view: its node id"),
    field_ids: z.array(z.number().int()).optional().describe("Items: show these fields' values"),
    field_names: z.array(z.string()).optional().describe("Items: show these fields' values, by name"),
    query: z.string().optional().describe("list_projects, list_project_items: filter"),
    per_page: projectPerPage,
    after: z.string().optional().describe("Cursor: a previous answer's next_cursor"),
    fields,
  }),
  annotations: READ,
  handler: async (input, ctx) => {
    const { method, owner, per_page, after, fields: keep } = input;
    if (method === "get_project_status_update" || method === "get_project_view") {
      if (!input.node_id)
        throw new ToolshedError("invalid_input", `method=${method} needs node_id (from the list method)`);
      const data = await ctx.deps.gh.graphql<Json>(
        NODE_QUERY,
        { id: input.node_id },
        {
          permission: "projects:read",
          signal: ctx.signal,
        },
      );
      const node = obj(data.node);
      const want = method === "get_project_view" ? "ProjectV2View" : "ProjectV2StatusUpdate";
      if (node.__typename !== want)
        throw new ToolshedError("not_found", `${input.node_id} is not a ${want}; the list method names them`);
      return method === "get_project_view" ? view(node) : statusUpdate(node);
    }
    const [base, type] = await projectsBase(ctx, owner, input.owner_type);
    const get = (p: string, query: Record<string, QueryValue> = {}) =>
      ctx.deps.gh.request({
        path: p,
        query,
        permission: "projects:read",
        auth: "required",
        signal: ctx.signal,
      });
    if (method === "list_projects") {
      const res = await get(base, { q: input.query, per_page, after });
      const items = asList(res.data).map((p) => project(p, type));
      return { items: pick(items, keep), ...nextCursor(res.headers.link) };
    }
    const n = input.project_number;
    if (n === undefined) throw new ToolshedError("invalid_input", `method=${method} needs project_number`);
    const at = `${base}/${n}`;
    switch (method) {
      case "get_project":
        return project((await get(at)).data, type);
      case "list_project_fields": {
        const res = await get(`${at}/fields`, { per_page, after });
        return { items: pick(asList(res.data).map(field), keep), ...nextCursor(res.headers.link) };
      }
      case "list_project_status_updates":
      case "list_project_views": {
        const which = method === "list_project_views" ? "views" : "statusUpdates";
        const page = await projectConnection(ctx, type, which, { owner, number: n, first: per_page, after });
        return { ...page, items: pick(asList(page.items).map(obj), keep) };
      }
      case "get_project_field": {
        if (input.field_id === undefined)
          throw new ToolshedError("invalid_input", "method=get_project_field needs field_id");
        return field((await get(`${at}/fields/${input.field_id}`)).data);
      }
      default: {
        if (input.field_ids?.length && input.field_names?.length)
          throw new ToolshedError("invalid_input", "give field_ids or field_names, not both");
        const ids = input.field_names?.length
          ? (await fieldsByName(ctx, base, n, input.field_names)).map((f) => Number(f.id))
          : (input.field_ids ?? []);
        const shown = ids.length ? { fields: ids.join(",") } : {};
        const repoOf = (i: Json) => (typeof i.repo === "string" ? i.repo : undefined);
        if (method === "get_project_item") {
          if (input.item_id === undefined)
            throw new ToolshedError("invalid_input", "method=get_project_item needs item_id");
          const res = await get(`${at}/items/${input.item_id}`, shown);
          return (await lockdownEach(ctx, [item(res.data)], repoOf))[0]!;
        }
        const res = await get(`${at}/items`, { q: input.query, per_page, after, ...shown });
        const items = await lockdownEach(ctx, asList(res.data).map(item), repoOf);
        return { items: pick(items, keep), ...nextCursor(res.headers.link) };
      }
    }
  },
});

/** The value GitHub's item update takes: an option's or iteration's id for those fields, else the value. */
function fieldValue(f: Json, value: string | number | null): string | number | null {
  if (value === null) return null;
  const type = f.data_type;
  if (type === "number") {
    const v = Number(value);
    if (Number.isNaN(v)) throw new ToolshedError("invalid_input", `field '${String(f.name)}' takes a number`);
    return v;
  }
  const choose = (list: unknown[], label: (x: Json) => unknown, what: string) => {
    const want = String(value).toLowerCase();
    const hit = list
      .map(obj)
      .find((x) => String(x.id) === String(value) || String(label(x)).toLowerCase() === want);
    if (!hit)
      throw new ToolshedError(
        "invalid_input",
        `field '${String(f.name)}' has no ${what} '${String(value)}'; its ${what}s are: ${list.map((x) => String(label(obj(x)))).join(", ")}`,
      );
    return String(hit.id);
  };
  if (type === "single_select") return choose(asList(f.options), (x) => raw(x.name), "option");
  if (type === "iteration")
    return choose(asList(obj(f.configuration).iterations), (x) => raw(x.title), "iteration");
  return value;
}

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD, e.g. 2026-01-31");

const CREATE_STATUS_UPDATE = `mutation CreateProjectV2StatusUpdate($input: CreateProjectV2StatusUpdateInput!) {
  createProjectV2StatusUpdate(input: $input) { statusUpdate { ${STATUS_FIELDS} } }
}`;
const CREATE_PROJECT = `mutation CreateProjectV2($input: CreateProjectV2Input!) {
  createProjectV2(input: $input) { projectV2 { id number title url } }
}`;

const VIEW_PARENT = `query ProjectViewParent($id: ID!) {
  node(id: $id) { ... on ProjectV2View { id name project { number } } }
}`;
const UPDATE_VIEW = `mutation UpdateProjectV2View($input: UpdateProjectV2ViewInput!) {
  updateProjectV2View(input: $input) { projectV2View { ${VIEW_FIELDS} } }
}`;
const DELETE_VIEW = `mutation DeleteProjectV2View($input: DeleteProjectV2ViewInput!) {
  deleteProjectV2View(input: $input) { projectV2View { id } }
}`;
const CREATE_FIELD = `mutation CreateProjectV2Field($input: CreateProjectV2FieldInput!) {
  createProjectV2Field(input: $input) { projectV2Field { ... on ProjectV2IterationField { id name } } }
}`;
const UPDATE_ITERATIONS = `mutation UpdateProjectV2Field($input: UpdateProjectV2FieldInput!) {
  updateProjectV2Field(input: $input) {
    projectV2Field {
      ... on ProjectV2IterationField { id name configuration { iterations { id title startDate duration } } }
    }
  }
}`;

export const projectsWriteTool = defineTool({
  toolset: "projects",
  output: o.shape({
    ...m.projectItem,
    ...m.projectStatusUpdate,
    ...m.projectView,
    ...o.declinedShape,
    deleted: o.n,
    deleted_view: o.s,
    number: o.n,
    title: o.s,
    url: o.s,
    updated: o.n,
    items: z.array(o.shape(m.projectItem)),
    iterations: z.array(o.shape({ id: o.s, title: o.s, start_date: o.s, duration: o.n })),
  }),
  name: "projects_write",
  title: "Change a GitHub Project's items",
  description:
    "method=add_project_item adds item_owner/item_repo's issue or PR (item_type, number) to project_number; update_project_item sets one field of item_id, or of item_owner/item_repo's issue number (field_id or field_name; value: text, number, date YYYY-MM-DD, an option or iteration by name or id, null clears); delete_project_item removes item_id from the project (asks the user to confirm; the issue itself stays); update_project_items sets that field on every item_ids (up to 50); create_project_status_update (status, body, start_date, target_date); create_project (title) for owner; create_project_view (name, layout, filter, visible_fields), update_project_view, delete_project_view (view_id; asks the user to confirm); create_iteration_field (name, start_date, duration: days, optional iterations).",
  input: z.object({
    method: selfDescribing(
      z.enum([
        "add_project_item",
        "update_project_item",
        "delete_project_item",
        "update_project_items",
        "create_project_status_update",
        "create_project",
        "create_project_view",
        "update_project_view",
        "delete_project_view",
        "create_iteration_field",
      ]),
    ),
    owner: projectOwner,
    owner_type: ownerType,
    project_number: projectNumber.optional(),
    item_id: z.number().int().min(1).optional().describe("update, delete: the project item's id"),
    item_type: z.enum(["issue", "pull_request"]).default("issue").describe("add: what to add"),
    item_owner: z.string().optional().describe("add (update): the issue's repo owner"),
    item_repo: z.string().optional().describe("add (update): the issue's repo name"),
    number: z.number().int().min(1).optional().describe("add (update): the issue or PR number"),
    field_id: z.number().int().min(1).optional().describe("update: the field"),
    field_name: z.string().optional().describe("update: the field, by name"),
    value: z.union([z.string(), z.number(), z.null()]).optional().describe("update: the new value"),
    status: z
      .enum(["ON_TRACK", "AT_RISK", "OFF_TRACK", "COMPLETE", "INACTIVE"])
      .optional()
      .describe("status update: the project's status"),
    body: z.string().optional().describe("status update: markdown"),
    start_date: date.optional().describe("status update: YYYY-MM-DD"),
    target_date: date.optional().describe("status update: YYYY-MM-DD"),
    title: z.string().optional().describe("create_project: its title"),
    item_ids: z.array(z.number().int().min(1)).max(50).optional().describe("update_project_items: the items"),
    view_id: z.string().optional().describe("update, delete view: its node id"),
    name: z.string().optional().describe("view or iteration field: its name"),
    layout: z.enum(["table", "board", "roadmap"]).optional().describe("view: layout"),
    filter: z.string().optional().describe("view: filter ('' clears)"),
    visible_fields: z.array(z.number().int()).optional().describe("create view: field ids shown"),
    duration: z.number().int().min(1).max(365).optional().describe("iteration field: days each"),
    iterations: z
      .array(
        z.object({
          title: z.string().describe("e.g. Sprint 1"),
          start_date: date.describe("YYYY-MM-DD"),
          duration: z.number().int().min(1).max(365).describe("Days"),
        }),
      )
      .optional()
      .describe("iteration field: its iterations (default: GitHub makes three)"),
  }),
  annotations: { ...WRITE, destructiveHint: true },
  handler: async (input, ctx) => {
    const { method, owner } = input;
    const gh = ctx.deps.gh;
    gh.requireToken("projects:write");
    const write = { permission: "projects:write" as const, auth: "required" as const, signal: ctx.signal };
    if (method === "create_project") {
      if (!input.title) throw new ToolshedError("invalid_input", "method=create_project needs title");
      // The owner's node id, which the mutation takes, is in its REST answer.
      const res = await gh.request({
        path: path`/users/${owner}`,
        permission: "user:read",
        signal: ctx.signal,
      });
      const data = await gh.graphql<Json>(
        CREATE_PROJECT,
        { input: { ownerId: obj(res.data).node_id, title: input.title } },
        { permission: "projects:write", signal: ctx.signal },
      );
      const p = obj(obj(data.createProjectV2).projectV2);
      return compact({
        number: p.number,
        node_id: p.id,
        title: cleanText(p.title as string | null),
        url: p.url,
      });
    }
    const n = input.project_number;
    if (n === undefined) throw new ToolshedError("invalid_input", `method=${method} needs project_number`);
    const [base, type] = await projectsBase(ctx, owner, input.owner_type);
    const at = `${base}/${n}`;
    if (method === "create_project_status_update") {
      // The project's node id, which the mutation takes, is in its REST answer.
      const res = await gh.request({ ...write, permission: "projects:read", path: at });
      const data = await gh.graphql<Json>(
        CREATE_STATUS_UPDATE,
        {
          input: compact({
            projectId: obj(res.data).node_id,
            status: input.status,
            body: input.body,
            startDate: input.start_date,
            targetDate: input.target_date,
          }),
        },
        { permission: "projects:write", signal: ctx.signal },
      );
      return statusUpdate(obj(obj(data.createProjectV2StatusUpdate).statusUpdate));
    }
    if (method === "add_project_item") {
      if (!input.item_owner || !input.item_repo || input.number === undefined)
        throw new ToolshedError(
          "invalid_input",
          "method=add_project_item needs item_owner, item_repo and number",
        );
      const res = await gh.request({
        ...write,
        method: "POST",
        path: `${at}/items`,
        body: {
          type: input.item_type === "pull_request" ? "PullRequest" : "Issue",
          owner: input.item_owner,
          repo: input.item_repo,
          number: input.number,
        },
      });
      const x = obj(res.data);
      return compact({
        id: x.id,
        node_id: x.node_id,
        content_type: x.content_type,
        created_at: x.created_at,
      });
    }
    if (method === "create_project_view") {
      if (!input.name || !input.layout)
        throw new ToolshedError("invalid_input", "method=create_project_view needs name and layout");
      // GitHub's REST path for a user's project views takes the user's numeric id, not the login.
      const viewsAt =
        type === "org"
          ? `${at}/views`
          : `/users/${Number(obj((await gh.request({ path: path`/users/${owner}`, permission: "user:read", signal: ctx.signal })).data).id)}/projectsV2/${n}/views`;
      const res = await gh.request({
        ...write,
        method: "POST",
        path: viewsAt,
        body: compact({
          name: input.name,
          layout: input.layout,
          filter: input.filter,
          visible_fields: input.layout === "roadmap" ? undefined : input.visible_fields,
        }),
      });
      const x = obj(res.data);
      return compact({
        node_id: x.node_id,
        number: x.number,
        name: x.name,
        layout: x.layout,
        filter: x.filter || undefined,
      });
    }
    if (method === "update_project_view" || method === "delete_project_view") {
      const viewId = input.view_id;
      if (!viewId)
        throw new ToolshedError(
          "invalid_input",
          `method=${method} needs view_id (list_project_views names them)`,
        );
      // The view must be this project's: a node id alone could name any project's view.
      const found = obj(
        obj(
          (
            await gh.graphql<Json>(
              VIEW_PARENT,
              { id: viewId },
              { permission: "projects:read", signal: ctx.signal },
            )
          ).node,
        ),
      );
      if (!found.id || obj(found.project).number !== n)
        throw new ToolshedError(
          "invalid_input",
          `view_id ${viewId} is not a view of project #${n} of ${owner}; projects_read method=list_project_views names them`,
        );
      if (method === "delete_project_view") {
        const confirmed = await ctx.confirm(
          `Delete view ${JSON.stringify(cleanText(String(found.name)))} of project #${n} of ${owner}? Its layout, filter and sorting are lost; the items stay.`,
        );
        if (!confirmed) return declined(`deleting view ${viewId} of project #${n} of ${owner}`);
        await gh.graphql(
          DELETE_VIEW,
          { input: { viewId } },
          { permission: "projects:write", signal: ctx.signal },
        );
        return { deleted_view: viewId };
      }
      if (input.name === undefined && input.layout === undefined && input.filter === undefined)
        throw new ToolshedError("invalid_input", "method=update_project_view needs name, layout or filter");
      const data = await gh.graphql<Json>(
        UPDATE_VIEW,
        {
          input: compact({
            viewId,
            name: input.name,
            layout: input.layout ? `${input.layout.toUpperCase()}_LAYOUT` : undefined,
            filter: input.filter,
          }),
        },
        { permission: "projects:write", signal: ctx.signal },
      );
      return view(obj(obj(data.updateProjectV2View).projectV2View));
    }
    if (method === "create_iteration_field") {
      if (!input.name || !input.start_date || input.duration === undefined)
        throw new ToolshedError(
          "invalid_input",
          "method=create_iteration_field needs name, start_date and duration",
        );
      const project = await gh.request({ ...write, permission: "projects:read", path: at });
      const opts = { permission: "projects:write" as const, signal: ctx.signal };
      // As the official server does: create the field, then give it its iterations.
      const created = await gh.graphql<Json>(
        CREATE_FIELD,
        { input: { projectId: obj(project.data).node_id, dataType: "ITERATION", name: input.name } },
        opts,
      );
      const fieldId = obj(obj(created.createProjectV2Field).projectV2Field).id;
      const updated = await gh.graphql<Json>(
        UPDATE_ITERATIONS,
        {
          input: {
            fieldId,
            iterationConfiguration: {
              startDate: input.start_date,
              duration: input.duration,
              iterations: (input.iterations ?? []).map((i) => ({
                title: i.title,
                startDate: i.start_date,
                duration: i.duration,
              })),
            },
          },
        },
        opts,
      );
      const f = obj(obj(updated.updateProjectV2Field).projectV2Field);
      return compact({
        node_id: f.id,
        name: f.name,
        iterations: asList(obj(f.configuration).iterations).map((i) =>
          compact({
            id: obj(i).id,
            title: obj(i).title,
            start_date: obj(i).startDate,
            duration: obj(i).duration,
          }),
        ),
      });
    }
    if (method === "update_project_items") {
      const ids = input.item_ids ?? [];
      if (ids.length === 0)
        throw new ToolshedError("invalid_input", "method=update_project_items needs item_ids");
      const f = await fieldOf(ctx, base, at, n, input);
      const items: Json[] = [];
      // One PATCH per item, in order: a failure stops the batch and says how many were updated.
      for (const id of ids) {
        try {
          items.push(await patchItem(ctx, at, id, f, input.value));
        } catch (err) {
          if (items.length === 0) throw err;
          throw new ToolshedError(
            "upstream_error",
            `updated ${items.length} of ${ids.length} items (${ids.slice(0, items.length).join(", ")}); item ${id} failed: ${(err as Error).message}`,
          );
        }
      }
      return { updated: items.length, items };
    }
    let itemId = input.item_id;
    if (
      itemId === undefined &&
      method === "update_project_item" &&
      input.item_owner &&
      input.item_repo &&
      input.number
    )
      itemId = await itemOfIssue(ctx, at, input.item_owner, input.item_repo, input.number);
    if (itemId === undefined)
      throw new ToolshedError(
        "invalid_input",
        method === "update_project_item"
          ? "method=update_project_item needs item_id, or item_owner, item_repo and number (the issue's)"
          : `method=${method} needs item_id`,
      );
    if (method === "delete_project_item") {
      const confirmed = await ctx.confirm(async () => {
        const res = await gh.request({
          ...write,
          permission: "projects:read",
          path: `${at}/items/${itemId}`,
        });
        const i = item(res.data);
        const what = i.number
          ? `${String(i.repo)}#${Number(i.number)} ${JSON.stringify(i.title)}`
          : JSON.stringify(i.title);
        return `Remove ${what} from project #${n} of ${owner}? Its field values in the project are lost; the issue itself stays.`;
      });
      if (!confirmed) return declined(`removing item ${itemId} from project #${n} of ${owner}`);
      await gh.request({ ...write, method: "DELETE", path: `${at}/items/${itemId}` });
      return { deleted: itemId };
    }
    return patchItem(ctx, at, itemId, await fieldOf(ctx, base, at, n, input), input.value);
  },
});

const ISSUE_PROJECT_ITEMS = `query IssueProjectItems($owner: String!, $repo: String!, $number: Int!) {
  repository(owner: $owner, name: $repo) {
    issue(number: $number) { projectItems(first: 50, includeArchived: true) { nodes { fullDatabaseId project { id } } } }
  }
}`;

/** The id of the item an issue is on the project `at`, as the official server finds it (GraphQL). */
async function itemOfIssue(
  ctx: Ctx,
  at: string,
  owner: string,
  repo: string,
  number: number,
): Promise<number> {
  const project = await ctx.deps.gh.request({
    path: at,
    permission: "projects:read",
    auth: "required",
    signal: ctx.signal,
  });
  const projectId = obj(project.data).node_id;
  const data = await ctx.deps.gh.graphql<Json>(
    ISSUE_PROJECT_ITEMS,
    { owner, repo, number },
    { permission: "projects:read", signal: ctx.signal },
  );
  const items = asList(obj(obj(obj(obj(data.repository).issue).projectItems)).nodes).map(obj);
  const hit = items.find((i) => obj(i.project).id === projectId);
  if (!hit)
    throw new ToolshedError(
      "not_found",
      `${owner}/${repo}#${number} is not an item of this project (among its first 50 projects); add it with method=add_project_item`,
    );
  return Number(hit.fullDatabaseId);
}

/** The field an update names (field_id or field_name), checked to exist, and the value given. */
async function fieldOf(
  ctx: Ctx,
  base: string,
  at: string,
  n: number,
  input: { field_id?: number | undefined; field_name?: string | undefined; value?: unknown },
): Promise<Json> {
  if (input.value === undefined)
    throw new ToolshedError("invalid_input", "an item update needs value (null clears the field)");
  if (input.field_id !== undefined) {
    const res = await ctx.deps.gh.request({
      path: `${at}/fields/${input.field_id}`,
      permission: "projects:read",
      auth: "required",
      signal: ctx.signal,
    });
    return obj(res.data);
  }
  if (input.field_name) return (await fieldsByName(ctx, base, n, [input.field_name]))[0]!;
  throw new ToolshedError("invalid_input", "an item update needs field_id or field_name");
}

/** One item's field set to `value` (an option or iteration by name or id), the item as it is after. */
async function patchItem(
  ctx: Ctx,
  at: string,
  itemId: number,
  f: Json,
  value: string | number | null | undefined,
): Promise<Json> {
  const res = await ctx.deps.gh.request({
    method: "PATCH",
    path: `${at}/items/${itemId}`,
    body: { fields: [{ id: Number(f.id), value: fieldValue(f, value ?? null) }] },
    permission: "projects:write",
    auth: "required",
    signal: ctx.signal,
  });
  const [updated] = await lockdownEach(ctx, [item(res.data)], (i) =>
    typeof i.repo === "string" ? i.repo : undefined,
  );
  return updated!;
}

export const projectTools = [projectsReadTool, projectsWriteTool];
