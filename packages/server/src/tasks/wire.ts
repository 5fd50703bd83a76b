import {
  CLIENT_CAPABILITIES_META_KEY,
  SERVER_INFO_META_KEY,
  type AuthInfo,
  type JSONRPCMessage,
  type McpServer,
  type Transport,
} from "@modelcontextprotocol/server";
import { principalFromAuthInfo } from "../principal.js";
import { RpcError } from "../rpc-error.js";
import type { Runtime } from "../runtime.js";
import { answerForwarded } from "./forwarded.js";
import { TASKS_EXTENSION } from "./manager.js";

/**
 * The tasks extension on the wire, for 2026-07-28 connections. The SDK v2 serves no `tasks/*`
 * method on that revision (its era gate answers -32601 before any handler), so the kit answers
 * `tasks/get`, `tasks/update` and `tasks/cancel` at the transport, before the SDK sees them; and a
 * `tools/call` that became a task is answered with its CreateTaskResult here, in place of the
 * placeholder the SDK's tools/call result validation lets through. `tasks/result` and `tasks/list`
 * (removed by the extension) still reach the SDK, which answers -32601.
 */

export const TASK_METHODS: ReadonlySet<string> = new Set(["tasks/get", "tasks/update", "tasks/cancel"]);

const announced = new WeakMap<McpServer, Map<string | number, Record<string, unknown>>>();

/** Makes the response to request `id` on `mcp` the given CreateTaskResult. */
export function announceTask(mcp: McpServer, id: string | number, result: Record<string, unknown>): void {
  let pending = announced.get(mcp);
  if (!pending) announced.set(mcp, (pending = new Map<string | number, Record<string, unknown>>()));
  pending.set(id, result);
}

/** Whether a request's own `_meta` declares the tasks extension (2026-07-28 per-request capabilities). */
export function declaresTasks(envelope: Record<string, unknown> | undefined): boolean {
  const caps = envelope?.[CLIENT_CAPABILITIES_META_KEY] as
    { extensions?: Record<string, unknown> } | undefined;
  const declared = caps?.extensions?.[TASKS_EXTENSION];
  return declared !== undefined && declared !== null;
}

export function missingTasksCapability(what: string): RpcError {
  return new RpcError(
    -32021,
    `${what} needs the '${TASKS_EXTENSION}' extension, which this request's client capabilities do not declare; declare it under _meta["${CLIENT_CAPABILITIES_META_KEY}"].extensions`,
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
  );
}

/** Installs the tasks methods on a 2026-07-28 connection's transport (call after connect). */
export function serveTaskMethods(rt: Runtime, mcp: McpServer, transport: Transport): void {
  const { name, version, title } = rt.def;
  const serverInfo = { name, version, ...(title ? { title } : {}) };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if ("result" in message && message.id !== undefined) {
      const created = announced.get(mcp)?.get(message.id);
      if (created) {
        announced.get(mcp)!.delete(message.id);
        const meta = (message.result as { _meta?: unknown })._meta;
        message = { ...message, result: { ...created, ...(meta ? { _meta: meta } : {}) } } as JSONRPCMessage;
      }
    }
    return send(message, options);
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (!("method" in message) || !("id" in message) || !TASK_METHODS.has(message.method)) {
      onmessage?.(message, extra);
      return;
    }
    const { id } = message;
    const params = (message.params ?? {}) as Record<string, unknown>;
    void answer(rt, message.method, params, extra?.authInfo).then(
      (result) =>
        transport.send({
          jsonrpc: "2.0",
          id,
          result: { ...result, resultType: "complete", _meta: { [SERVER_INFO_META_KEY]: serverInfo } },
        }),
      (err: unknown) => {
        const e = RpcError.from(err);
        return transport.send({
          jsonrpc: "2.0",
          id,
          error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) },
        });
      },
    );
  };
}

async function answer(
  rt: Runtime,
  method: string,
  params: Record<string, unknown>,
  auth: AuthInfo | undefined,
): Promise<Record<string, unknown>> {
  if (!declaresTasks(params._meta as Record<string, unknown> | undefined))
    throw missingTasksCapability(method);
  const taskId = params.taskId;
  if (typeof taskId !== "string" || taskId === "") {
    throw new RpcError(-32602, `${method} needs params.taskId, the id a CreateTaskResult returned`);
  }
  const responses = params.inputResponses;
  if (
    method === "tasks/update" &&
    (!responses || typeof responses !== "object" || Array.isArray(responses))
  ) {
    throw new RpcError(
      -32602,
      "tasks/update needs params.inputResponses, an object of answers keyed like the task's inputRequests",
    );
  }
  // A forwarding server's tasks live where it forwarded the call (tasks/forwarded.ts).
  const forwarded = rt.def.forward?.tasks;
  if (forwarded) return answerForwarded(rt, forwarded, method, taskId, params, auth);
  const owner = auth ? principalFromAuthInfo(auth).id : "";
  const tasks = rt.tasks;
  switch (method) {
    case "tasks/get":
      return tasks.get(taskId, owner);
    case "tasks/update": {
      await tasks.update(taskId, owner, responses as Record<string, unknown>);
      return {};
    }
    default:
      await tasks.cancel(taskId, owner);
      return {};
  }
}
