import type { AuthInfo } from "@modelcontextprotocol/server";
import { ToolshedError } from "@toolshed/errors";
import type { ForwardTasks, WireResult } from "../define.js";
import { principalFromAuthInfo } from "../principal.js";
import { RpcError } from "../rpc-error.js";
import type { Runtime } from "../runtime.js";

/**
 * Tasks of a forwarding server (the gateway): the forward definition names where a task lives (its
 * routed id, e.g. `<upstream>.<upstream's id>`), and the kit binds that id to the caller with a MAC
 * under the request-state key. The id the caller sees is `<routed id>.<mac>`: any replica with the
 * same key routes it with no shared state, and another caller's id (or a made-up one) is refused as
 * unknown, so callers who share the forward definition's one upstream credential stay apart.
 */

/** Who a task belongs to: the principal key (issuer and id) under auth, "" without. */
export function taskOwnerKey(auth: AuthInfo | undefined): string {
  const key = auth?.extra?.principalKey;
  return typeof key === "string" ? key : auth ? principalFromAuthInfo(auth).id : "";
}

function macInput(routed: string, owner: string): string {
  return `forwarded-task\n${owner}\n${routed}`;
}

/** The id the caller sees for a routed id of `owner`. */
export function sealTaskId(rt: Runtime, routed: string, owner: string): string {
  return `${routed}.${rt.requestStateKeys.mac(macInput(routed, owner))}`;
}

/** The routed id in a caller's task id, or undefined when it is not one this caller was given. */
export function openTaskId(rt: Runtime, sealed: string, owner: string): string | undefined {
  const dot = sealed.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const routed = sealed.slice(0, dot);
  return rt.requestStateKeys.verifies(macInput(routed, owner), sealed.slice(dot + 1)) ? routed : undefined;
}

/** The CreateTaskResult a forwarded tools/call returned, its id sealed for the caller. */
export function sealedCreated(rt: Runtime, created: WireResult, owner: string): WireResult {
  if (typeof created.taskId !== "string" || created.taskId === "") {
    throw new ToolshedError("internal", "a forwarded call returned a task without an id");
  }
  return { ...created, resultType: "task", taskId: sealTaskId(rt, created.taskId, owner) };
}

function unknownTask(taskId: string): RpcError {
  return new RpcError(
    -32602,
    `no task '${taskId}' is known to this server for this caller (it may have expired); start the call again`,
  );
}

function late(method: string): ToolshedError {
  return new ToolshedError("timeout", `${method} did not finish in time; retry it`, { retryable: true });
}

/** tasks/get, tasks/update or tasks/cancel of a forwarded task, answered by the forward definition. */
export async function answerForwarded(
  rt: Runtime,
  tasks: ForwardTasks,
  method: string,
  taskId: string,
  params: Record<string, unknown>,
  auth: AuthInfo | undefined,
): Promise<WireResult> {
  const owner = taskOwnerKey(auth);
  const routed = openTaskId(rt, taskId, owner);
  if (routed === undefined) throw unknownTask(taskId);
  const deps = rt.openedDeps ?? (await rt.deps());
  const call = new AbortController();
  const untrack = rt.trackCall(call);
  const timer = setTimeout(() => call.abort(new Error("deadline")), rt.defaultTimeoutMs);
  const ctx = { principal: auth ? principalFromAuthInfo(auth) : undefined, signal: call.signal };
  try {
    const result =
      method === "tasks/get"
        ? await tasks.get(deps, routed, ctx)
        : method === "tasks/update"
          ? await tasks.update(deps, routed, params.inputResponses as Record<string, unknown>, ctx)
          : await tasks.cancel(deps, routed, ctx);
    return typeof result.taskId === "string" ? { ...result, taskId } : result;
  } catch (err) {
    // A task the forward definition cannot find is an unknown task (-32602), with its reason.
    if (err instanceof ToolshedError && err.code === "not_found") throw new RpcError(-32602, err.message);
    throw RpcError.from(call.signal.aborted && !(err instanceof ToolshedError) ? late(method) : err);
  } finally {
    clearTimeout(timer);
    untrack();
  }
}
