import { ToolshedError, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { path } from "../github/client.js";
import { asList, compact, obj, user } from "../github/shape.js";
import { defineTool, READ } from "./common.js";

export const getMeTool = defineTool({
  toolset: "context",
  output: o.shape({
    ...o.user,
    authenticated: o.b,
    note: o.s,
    teams: z.array(o.shape({ team: o.s, name: o.s })),
    team_members: o.ss,
    rate_limits: z.record(o.s, o.shape({ limit: o.n, remaining: o.n, reset: o.s })),
  }),
  name: "get_me",
  title: "Who am I on GitHub",
  description:
    "The token's user and the rate limits seen so far (authenticated=false without a token); optionally your teams or a team's members.",
  input: z.object({
    teams: z.boolean().default(false).describe("Add your teams"),
    team: z.string().optional().describe("org/slug: add its members"),
  }),
  annotations: READ,
  handler: async ({ teams, team }, ctx) => {
    const gh = ctx.deps.gh;
    if (!gh.authenticated) {
      // Answered without a request, so a model learns its footing even when GitHub is unreachable.
      return {
        authenticated: false,
        note: "no GitHub token: public data only, 60 requests/hour; writes, code search and notifications need GITHUB_TOKEN",
        rate_limits: gh.rateLimits(),
      };
    }
    const me = await gh.request({
      path: "/user",
      permission: "user:read",
      auth: "required",
      signal: ctx.signal,
    });
    const out: Record<string, unknown> = {
      authenticated: true,
      ...user(me.data),
    };
    if (teams) {
      const t = await gh.request({
        path: "/user/teams",
        query: { per_page: 100 },
        permission: "members:read",
        auth: "required",
        signal: ctx.signal,
      });
      out.teams = asList(t.data).map((x) =>
        compact({
          team: `${String(obj(obj(x).organization).login)}/${String(obj(x).slug)}`,
          name: obj(x).name,
        }),
      );
    }
    if (team !== undefined) {
      const [org, slug, ...rest] = team.split("/");
      if (!org || !slug || rest.length) {
        throw new ToolshedError(
          "invalid_input",
          `team must be 'org/slug' (e.g. 'github/docs'), not '${team}'`,
        );
      }
      const m = await gh.request({
        path: path`/orgs/${org}/teams/${slug}/members`,
        query: { per_page: 100 },
        permission: "members:read",
        auth: "required",
        signal: ctx.signal,
      });
      out.team_members = asList(m.data).map((x) => obj(x).login);
    }
    out.rate_limits = gh.rateLimits();
    return compact(out);
  },
});
