import type { UpstreamTask } from "@toolshed/client";
import { ToolshedError, type ForwardTaskContext, type ForwardTasks, type WireResult } from "@toolshed/server";
import { accessFor } from "./catalog.js";
import type { GatewayDeps } from "./server.js";
import type { Upstream } from "./upstream.js";

/**
 * Tasks through the gateway: a call the upstream runs as a task comes back with a routed id,
 * `<upstream>.<the upstream's task id, base64url>`, which names the upstream so any replica can
 * send tasks/get, tasks/update and tasks/cancel there with no shared state. The kit binds that id
 * to the caller (an HMAC, see `ForwardTasks`), since every caller reaches the upstream with the
 * gateway's one credential and the upstream cannot tell them apart.
 */

/** The task as the gateway's caller gets it from tools/call: the upstream's, under a routed id. */
export function routedTask(upstream: Upstream, task: UpstreamTask): WireResult {
  return { ...task, taskId: `${upstream.name}.${Buffer.from(task.taskId).toString("base64url")}` };
}

/** The upstream a routed id names and the upstream's own id, if this caller may still reach it. */
function target(
  deps: GatewayDeps,
  routed: string,
  ctx: ForwardTaskContext,
): { upstream: Upstream; id: string } {
  const dot = routed.indexOf(".");
  const name = routed.slice(0, dot);
  const upstream = deps.gateway.upstreams.get(name);
  const access = accessFor(deps.gateway.file, ctx.principal);
  if (!upstream || !deps.gateway.catalog.reachableUpstreams(access).includes(upstream)) {
    throw new ToolshedError(
      "not_found",
      `the task's server '${name}' is no longer one this gateway serves you (it was removed from the gateway config or your access changed); call the tool again`,
    );
  }
  return { upstream, id: Buffer.from(routed.slice(dot + 1), "base64url").toString() };
}

/** An upstream's "no such task" (-32602, invalid_input here) as the gateway's, naming the upstream. */
function forgotten(upstream: Upstream, err: unknown): unknown {
  if (!(err instanceof ToolshedError) || err.code !== "invalid_input") return err;
  return new ToolshedError(
    "not_found",
    `upstream '${upstream.name}' no longer knows this task (it expired, or the upstream lost it when it restarted); call the tool again`,
  );
}

async function forward(
  deps: GatewayDeps,
  method: "tasks/get" | "tasks/update" | "tasks/cancel",
  routed: string,
  ctx: ForwardTaskContext,
  inputResponses?: Record<string, unknown>,
): Promise<WireResult> {
  const { upstream, id } = target(deps, routed, ctx);
  try {
    return await upstream.taskRequest(
      method,
      { taskId: id, ...(inputResponses ? { inputResponses } : {}) },
      { signal: ctx.signal },
    );
  } catch (err) {
    throw forgotten(upstream, err);
  }
}

/** The gateway's ForwardTasks: offered while some connected upstream runs tasks. */
export const gatewayTasks: ForwardTasks<GatewayDeps> = {
  offered: (deps) => [...deps.gateway.upstreams.values()].some((u) => u.runsTasks),
  get: (deps, routed, ctx) => forward(deps, "tasks/get", routed, ctx),
  update: (deps, routed, responses, ctx) => forward(deps, "tasks/update", routed, ctx, responses),
  cancel: (deps, routed, ctx) => forward(deps, "tasks/cancel", routed, ctx),
  // A listen naming the task follows it on the upstream's own listen stream: one listen request
  // (counted against the upstream's rate limit like a poll), then notifications at no cost.
  async follow(deps, routed, ctx, onTask, lost) {
    const { upstream, id } = target(deps, routed, ctx);
    await upstream.admit();
    let over = false;
    let end: (() => Promise<void>) | undefined;
    const stop = () => {
      over = true;
      const current = end;
      end = undefined;
      void current?.().catch(() => {});
    };
    // Following that ends before the terminal status (access taken, the upstream forgot the task,
    // or its stream could not be reopened) closes the caller's listen, so the caller polls.
    const lose = () => {
      if (over) return;
      stop();
      lost();
    };
    const follow = { signal: ctx.signal, onStop: lose };
    end = await upstream.followTask(id, onTask, follow);
    if (!end) return undefined;
    const { name } = upstream;
    const log = deps.gateway.logger.child({ upstream: name, task: id });
    // A reload that replaces the upstream (a new URL, command, header or credential) retires the
    // connection this follow listens on: it follows the task on the new one, whose catch-up
    // tasks/get delivers what changed meanwhile. An upstream that keeps its tasks where a new
    // process finds them (Redis, as Toolshed's replicas do) still knows it; one that does not
    // ends the follow as a removed upstream does (tasks/get then says why).
    const moved = (next: Upstream, firstTry: Promise<void>) => {
      void (async () => {
        await firstTry;
        if (over) return;
        log.info(
          "the gateway config replaced the task's upstream; following its task on the replacing connection",
        );
        const again = await next.followTask(id, onTask, follow).catch((err: unknown) => {
          log.warn({ err }, "following the task on the replacing connection failed");
          return undefined;
        });
        const previous = end;
        end = again;
        void previous?.().catch(() => {});
        if (over) stop();
        else if (!again) {
          log.warn("the replacing connection does not follow the task (down, or it does not know the task)");
          lose();
        }
      })();
    };
    // A reload that takes the caller's access to the upstream (or removes it) ends the follow and
    // the caller's listen; its tasks/get then says the task's server is no longer one it serves.
    const unwatch = deps.gateway.watchAccess(
      name,
      () => deps.gateway.serves(name, ctx.principal),
      lose,
      moved,
    );
    return () => {
      unwatch();
      stop();
    };
  },
};
