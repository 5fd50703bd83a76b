import type { Client } from "@modelcontextprotocol/client";
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { V1Client } from "./v1-client.js";

/** One change notification as a client received it. */
export interface SeenChange {
  method: string;
  uri?: string;
}

export interface ChangeRecorder {
  /** Every change notification received so far, in order. */
  readonly seen: SeenChange[];
  /** Resolves once `method` (for `uri`, when given) has arrived; rejects after `timeoutMs` (5 s). */
  until(method: string, uri?: string, timeoutMs?: number): Promise<void>;
}

/**
 * Records the four change notifications (resources updated, resource/tool/prompt list changed) a
 * client receives: an SDK v2 client on either era (2026-07-28 through its listen streams) or a v1 one.
 */
export function recordChanges(client: Client | V1Client): ChangeRecorder {
  const seen: SeenChange[] = [];
  const push = (n: { method: string; params?: object }) => {
    const uri = (n.params as { uri?: unknown } | undefined)?.uri;
    seen.push({ method: n.method, ...(typeof uri === "string" ? { uri } : {}) });
  };
  if ("listen" in client) {
    client.setNotificationHandler("notifications/resources/updated", push);
    client.setNotificationHandler("notifications/resources/list_changed", push);
    client.setNotificationHandler("notifications/tools/list_changed", push);
    client.setNotificationHandler("notifications/prompts/list_changed", push);
  } else {
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, push);
    client.setNotificationHandler(ResourceListChangedNotificationSchema, push);
    client.setNotificationHandler(ToolListChangedNotificationSchema, push);
    client.setNotificationHandler(PromptListChangedNotificationSchema, push);
  }
  return {
    seen,
    async until(method, uri, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!seen.some((s) => s.method === method && (uri === undefined || s.uri === uri))) {
        if (Date.now() > deadline) {
          throw new Error(`no ${method} ${uri ?? ""} within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Retries `attempt` every 50 ms until it resolves, or rethrows its last error after `ms`. */
export async function eventually(attempt: () => Promise<void> | void, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
