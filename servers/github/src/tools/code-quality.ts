import { z } from "@toolshed/server";
import * as o from "./outputs.js";
import * as m from "./outputs-more.js";
import { path } from "../github/client.js";
import { cleanText } from "../github/sanitize.js";
import { compact, obj } from "../github/shape.js";
import { defineTool, owner, READ, repo } from "./common.js";

/* The code_quality toolset: one Code Quality finding (GitHub's REST API, in public preview). */

export const codeQualityFindingTool = defineTool({
  toolset: "code_quality",
  output: o.shape(m.codeQualityFinding),
  name: "get_code_quality_finding",
  title: "A code quality finding",
  description:
    "One Code Quality finding of owner/repo by number: its rule, severity, category, message and where it is (path, lines).",
  input: z.object({
    owner,
    repo,
    finding_number: z.number().int().min(1).max(1e9).describe("The finding's number"),
  }),
  annotations: READ,
  handler: async ({ owner, repo, finding_number }, ctx) => {
    const res = await ctx.deps.gh.request({
      path: path`/repos/${owner}/${repo}/code-quality/findings/${finding_number}`,
      permission: "code_quality:read",
      auth: "required",
      signal: ctx.signal,
    });
    const f = obj(res.data);
    const rule = obj(f.rule);
    const at = obj(f.location);
    return compact({
      number: f.number,
      state: f.state,
      rule: rule.id,
      rule_title: rule.title,
      severity: rule.severity,
      category: rule.category,
      description: rule.description,
      // A finding's message quotes the code it is about: text from the repository, cleaned like any other.
      message: cleanText(obj(f.message).text as string | null),
      path: at.path,
      start_line: at.start_line,
      end_line: at.end_line,
      created_at: f.created_at,
    });
  },
});

export const codeQualityTools = [codeQualityFindingTool];
