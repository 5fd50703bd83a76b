import type { Client } from "@modelcontextprotocol/client";
import { modernCall, tamperedState } from "./modern-call.js";

/** What a person answers to a form question (elicitation). */
export type PersonReply =
  { action: "accept"; content: Record<string, string | boolean> } | { action: "decline" | "cancel" };

/** Ticks the box and accepts: what a person confirming an action answers. */
export const CONFIRMED: PersonReply = { action: "accept", content: { confirm: true } };

/**
 * Plays the person at `client`: answers every elicitation with `reply(message)` and returns the
 * messages they were shown, in order.
 */
export function actAsPerson(client: Client, reply: (message: string) => PersonReply): string[] {
  const asked: string[] = [];
  client.setRequestHandler("elicitation/create", (request) => {
    asked.push(request.params.message);
    return reply(request.params.message);
  });
  return asked;
}

/**
 * Calls a tool that asks for a confirmation over 2026-07-28 (raw HTTP), then retries it with the
 * confirmation accepted and the requestState tampered with: returns what the server answers to the
 * retry (a refusal, -32602, is what a server must answer).
 */
export async function confirmWithTamperedState(
  url: string,
  name: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const first = await modernCall(url, "tools/call", { name, arguments: args });
  const asked = first.result as { resultType?: string; requestState?: string; inputRequests?: object };
  if (asked?.resultType !== "input_required" || !asked.requestState || !asked.inputRequests) {
    throw new Error(`${name} did not ask for a confirmation: ${JSON.stringify(first)}`);
  }
  const [key] = Object.keys(asked.inputRequests);
  return modernCall(url, "tools/call", {
    name,
    arguments: args,
    inputResponses: { [key!]: CONFIRMED },
    requestState: tamperedState(asked.requestState),
  });
}
