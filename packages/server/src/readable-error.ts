import type { JSONRPCMessage } from "@modelcontextprotocol/server";

interface Issue {
  path?: (string | number)[];
  message?: string;
}

/**
 * The SDK answers malformed request params with the raw JSON of zod's issue list as the message
 * (and some handlers with -32603). A client, or the model behind it, needs one readable line and the
 * invalid-params code: "invalid params for tools/call: params.name: expected string, received number".
 */
export function readableError(message: JSONRPCMessage, method: string | undefined): JSONRPCMessage {
  if (!("error" in message) || message.id === undefined) return message;
  const { code, message: text } = message.error;
  const at = text.indexOf("[");
  if (at === -1 || (code !== -32602 && code !== -32603)) return message;
  let issues: Issue[];
  try {
    issues = JSON.parse(text.slice(at)) as Issue[];
  } catch {
    return message;
  }
  if (!Array.isArray(issues) || !issues.length || !issues.every((i) => typeof i?.message === "string")) {
    return message;
  }
  const lines = issues
    .slice(0, 10)
    .map((i) => (i.path?.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
  return {
    ...message,
    error: {
      ...message.error,
      code: -32602,
      message: `invalid params${method ? ` for ${method}` : ""}: ${lines}; see the method's params in the MCP specification`,
    },
  };
}
