import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { path } from "../github/client.js";
import { compact, obj, userLogin } from "../github/shape.js";
import { defineTool, owner, repo, WRITE } from "./common.js";

/** The bots GitHub documents for these: the coding agent, and the code reviewer. */
export const COPILOT_AGENT = "copilot-swe-agent[bot]";
export const COPILOT_REVIEWER = "copilot-pull-request-reviewer[bot]";

export const copilotWriteTool = defineTool({
  toolset: "copilot",
  output: o.shape({ number: o.n, requested_reviewers: o.ss, assignees: o.ss, note: o.s }),
  name: "copilot_write",
  title: "Hand work to Copilot",
  description:
    "method=assign_issue: Copilot's coding agent takes issue number and opens a PR; request_review: Copilot reviews PR number.",
  input: z.object({
    method: selfDescribing(z.enum(["assign_issue", "request_review"])),
    owner,
    repo,
    number: selfDescribing(z.number().int().min(1)),
    base_branch: z.string().optional().describe("assign_issue: branch to start from"),
    instructions: z.string().optional().describe("assign_issue: extra instructions"),
  }),
  annotations: WRITE,
  handler: async ({ method, owner, repo, number, base_branch, instructions }, ctx) => {
    if (method === "request_review") {
      const res = await ctx.deps.gh.request({
        method: "POST",
        path: path`/repos/${owner}/${repo}/pulls/${number}/requested_reviewers`,
        body: { reviewers: [COPILOT_REVIEWER] },
        permission: "pulls:write",
        auth: "required",
        signal: ctx.signal,
      });
      return { number, requested_reviewers: asLogins(obj(res.data).requested_reviewers) };
    }
    const res = await ctx.deps.gh.request({
      method: "POST",
      path: path`/repos/${owner}/${repo}/issues/${number}/assignees`,
      body: {
        assignees: [COPILOT_AGENT],
        agent_assignment: compact({
          target_repo: `${owner}/${repo}`,
          base_branch,
          custom_instructions: instructions,
        }),
      },
      permission: "issues:write",
      auth: "required",
      signal: ctx.signal,
    });
    const assignees = asLogins(obj(res.data).assignees);
    if (!assignees.some((a) => a.toLowerCase().startsWith("copilot"))) {
      // GitHub drops assignees it cannot assign without an error: say why instead of claiming success.
      throw new ToolshedError(
        "forbidden",
        `GitHub did not assign Copilot to ${owner}/${repo}#${number}: the coding agent must be enabled for the repository and the token's user needs a Copilot plan that includes it`,
      );
    }
    return { number, assignees, note: "Copilot works on it and opens a pull request when done" };
  },
});

function asLogins(v: unknown): string[] {
  return Array.isArray(v) ? v.map(userLogin).filter((x): x is string => x !== null) : [];
}

export const copilotTools = [copilotWriteTool];
