import { selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { asList, compact, obj } from "../github/shape.js";
import { fields, defineTool, page, perPage, READ } from "./common.js";
import { listPage } from "./list.js";

export const searchUsersTool = defineTool({
  toolset: "users",
  output: o.list({ login: o.s, type: o.s }),
  name: "search_users",
  title: "Search users and organizations",
  description: "GitHub user search, e.g. 'jane in:name location:berlin' or 'type:org mcp'.",
  input: z.object({
    query: z.string().describe("GitHub search syntax"),
    sort: selfDescribing(z.enum(["followers", "repositories", "joined"]).optional()),
    order: selfDescribing(z.enum(["asc", "desc"]).optional()),
    page,
    per_page: perPage,
    fields,
  }),
  annotations: READ,
  handler: ({ query, sort, order, page, per_page, fields }, ctx) =>
    listPage(ctx, {
      path: "/search/users",
      query: { q: query, sort, order },
      page,
      per_page,
      fields,
      permission: "user:read",
      from: (d) => asList(obj(d).items),
      shape: (u) => compact({ login: obj(u).login, type: obj(u).type }),
    }),
});
