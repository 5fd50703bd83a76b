import { ToolshedError, selfDescribing, z } from "@toolshed/server";
import * as o from "./outputs.js";
import { path } from "../github/client.js";
import { asList, compact, obj } from "../github/shape.js";
import type { Ctx } from "../deps.js";
import { defineTool, owner, page, perPage, READ, repo, WRITE, rawText } from "./common.js";
import { listPage } from "./list.js";

type Json = Record<string, unknown>;

const run = (r: unknown): Json => {
  const x = obj(r);
  return compact({
    id: x.id,
    name: x.name,
    run_number: x.run_number,
    status: x.status,
    conclusion: x.conclusion,
    branch: x.head_branch,
    sha: x.head_sha,
    event: x.event,
    actor: obj(x.actor).login,
    created_at: x.created_at,
    url: x.html_url,
  });
};

const job = (j: unknown): Json => {
  const x = obj(j);
  const failed = asList(x.steps)
    .filter((s) => obj(s).conclusion === "failure")
    .map((s) => obj(s).name);
  return compact({
    id: x.id,
    name: x.name,
    status: x.status,
    conclusion: x.conclusion,
    started_at: x.started_at,
    completed_at: x.completed_at,
    failed_steps: failed,
    url: x.html_url,
  });
};

/** The last `lines` lines of a job's log (GitHub redirects to a short-lived download URL). */
async function logTail(ctx: Ctx, owner: string, repo: string, jobId: number, lines: number): Promise<Json> {
  const res = await ctx.deps.gh.request<string>({
    path: path`/repos/${owner}/${repo}/actions/jobs/${jobId}/logs`,
    text: true,
    permission: "actions:read",
    auth: "required",
    signal: ctx.signal,
  });
  const all = String(res.data ?? "").split("\n");
  const tail = all.slice(-lines).map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ""));
  return { job_id: jobId, total_lines: all.length, tail: tail.join("\n") };
}

export const actionsReadTool = defineTool({
  toolset: "actions",
  output: o.shape({
    ...o.paging,
    ...o.run,
    ...o.job,
    path: o.s,
    state: o.s,
    items: z.array(o.shape({ ...o.run, ...o.job, path: o.s, state: o.s })),
    run_id: o.n,
    failed_jobs: o.n,
    jobs: z.array(o.shape({ ...o.job, ...o.log })),
    ...o.log,
  }),
  name: "actions_read",
  title: "Read GitHub Actions runs, jobs and logs",
  description:
    "method=list_workflows; list_runs (filter by workflow, branch, status); get_run (run_id); list_jobs (run_id, failed steps named); failed_logs: the last tail_lines log lines of each failed job of run_id; job_log: one job_id's tail.",
  input: z.object({
    method: selfDescribing(
      z.enum(["list_workflows", "list_runs", "get_run", "list_jobs", "failed_logs", "job_log"]),
    ),
    owner,
    repo,
    run_id: z.number().int().min(1).optional().describe("Workflow run id"),
    job_id: z.number().int().optional().describe("job_log: job id"),
    workflow: z.string().optional().describe("list_runs: workflow file name or id"),
    branch: z.string().optional().describe("list_runs: branch"),
    status: z.string().optional().describe("list_runs: e.g. failure, success, in_progress"),
    tail_lines: z.number().int().min(1).max(500).default(80).describe("Log lines per job"),
    page,
    per_page: perPage,
  }),
  render: rawText("tail"),
  annotations: READ,
  task: "optional", // log downloads run as a task for clients of the tasks extension
  handler: async (
    { method, owner, repo, run_id, job_id, workflow, branch, status, tail_lines, page, per_page },
    ctx,
  ) => {
    const at = path`/repos/${owner}/${repo}/actions`;
    const list = { page, per_page, permission: "actions:read" as const };
    const needRun = (): number => {
      if (run_id === undefined)
        throw new ToolshedError("invalid_input", `method=${method} needs run_id (from list_runs)`);
      return run_id;
    };
    switch (method) {
      case "list_workflows":
        return listPage(ctx, {
          ...list,
          path: `${at}/workflows`,
          from: (d) => asList(obj(d).workflows),
          shape: (w) => compact({ id: obj(w).id, name: obj(w).name, path: obj(w).path, state: obj(w).state }),
        });
      case "list_runs":
        return listPage(ctx, {
          ...list,
          path: workflow ? `${at}/workflows/${encodeURIComponent(workflow)}/runs` : `${at}/runs`,
          query: { branch, status },
          from: (d) => asList(obj(d).workflow_runs),
          shape: run,
        });
      case "get_run": {
        const res = await ctx.deps.gh.request({
          path: `${at}/runs/${needRun()}`,
          permission: "actions:read",
          signal: ctx.signal,
        });
        return run(res.data);
      }
      case "list_jobs":
        return listPage(ctx, {
          ...list,
          path: `${at}/runs/${needRun()}/jobs`,
          from: (d) => asList(obj(d).jobs),
          shape: job,
        });
      case "failed_logs": {
        const jobs = await ctx.deps.gh.request({
          path: `${at}/runs/${needRun()}/jobs`,
          query: { per_page: 100, filter: "latest" },
          permission: "actions:read",
          signal: ctx.signal,
        });
        const failed = asList(obj(jobs.data).jobs)
          .map(job)
          .filter((j) => j.conclusion === "failure")
          .slice(0, 5);
        const logs = [];
        for (const [i, j] of failed.entries()) {
          await ctx.progress(i, failed.length, `downloading the log of job ${String(j.id)}`);
          logs.push({ ...j, ...(await logTail(ctx, owner, repo, Number(j.id), tail_lines)) });
        }
        return { run_id, failed_jobs: logs.length, jobs: logs };
      }
      case "job_log":
        if (job_id === undefined)
          throw new ToolshedError("invalid_input", "method=job_log needs job_id (from list_jobs)");
        await ctx.progress(0, 1, `downloading the log of job ${job_id}`);
        return logTail(ctx, owner, repo, job_id, tail_lines);
    }
  },
});

export const actionsRunWriteTool = defineTool({
  toolset: "actions",
  output: o.shape({ dispatched: o.s, ref: o.s, run_id: o.n, done: o.s }),
  name: "actions_run_write",
  title: "Re-run, cancel or dispatch workflows",
  description:
    "method=rerun or rerun_failed (run_id), cancel (run_id), dispatch (workflow file or id, ref, inputs) to start a workflow_dispatch workflow.",
  input: z.object({
    method: selfDescribing(z.enum(["rerun", "rerun_failed", "cancel", "dispatch"])),
    owner,
    repo,
    run_id: z.number().int().optional().describe("Run id"),
    workflow: z.string().optional().describe("dispatch: workflow file name or id"),
    ref: z.string().optional().describe("dispatch: branch or tag"),
    inputs: z.record(z.string(), z.string()).optional().describe("dispatch: workflow inputs"),
  }),
  annotations: WRITE,
  handler: async ({ method, owner, repo, run_id, workflow, ref, inputs }, ctx) => {
    const at = path`/repos/${owner}/${repo}/actions`;
    const base = {
      method: "POST" as const,
      permission: "actions:write" as const,
      auth: "required" as const,
      signal: ctx.signal,
    };
    if (method === "dispatch") {
      if (!workflow || !ref)
        throw new ToolshedError("invalid_input", "method=dispatch needs workflow and ref");
      await ctx.deps.gh.request({
        ...base,
        path: `${at}/workflows/${encodeURIComponent(workflow)}/dispatches`,
        body: compact({ ref, inputs }),
      });
      return { dispatched: workflow, ref };
    }
    if (run_id === undefined) throw new ToolshedError("invalid_input", `method=${method} needs run_id`);
    const suffix = method === "rerun" ? "rerun" : method === "rerun_failed" ? "rerun-failed-jobs" : "cancel";
    await ctx.deps.gh.request({ ...base, path: `${at}/runs/${run_id}/${suffix}` });
    return { run_id, done: method };
  },
});

export const actionTools = [actionsReadTool, actionsRunWriteTool];
