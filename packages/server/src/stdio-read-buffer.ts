import { parseJSONRPCMessage, type JSONRPCMessage } from "@modelcontextprotocol/server";

export type InvalidLine = "not_json" | "batch" | "not_jsonrpc";

/**
 * The stdio transport's line reader, replacing the SDK's, which skips a line that is not JSON without
 * a word and reports a batch or a non-message only as a transport error. Each such line is reported
 * here (with the request id when one can be read), so the client gets an error answer and the
 * operator a log line.
 */
export class ReportingReadBuffer {
  #buffer: Buffer | undefined;

  constructor(private readonly onInvalid: (kind: InvalidLine, id: string | number | null) => void) {}

  append(chunk: Buffer): void {
    this.#buffer = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
  }

  readMessage(): JSONRPCMessage | null {
    while (this.#buffer) {
      const index = this.#buffer.indexOf(10);
      if (index === -1) return null;
      const line = this.#buffer.toString("utf8", 0, index);
      this.#buffer = this.#buffer.subarray(index + 1);
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        this.onInvalid("not_json", null);
        continue;
      }
      if (Array.isArray(value)) {
        this.onInvalid("batch", null);
        continue;
      }
      try {
        return parseJSONRPCMessage(value);
      } catch {
        const id = (value as { id?: unknown } | null)?.id;
        // Echoed only when it is a valid request id (a string or an integer), so the answer parses.
        this.onInvalid(
          "not_jsonrpc",
          typeof id === "string" || Number.isSafeInteger(id) ? (id as string | number) : null,
        );
      }
    }
    return null;
  }

  clear(): void {
    this.#buffer = undefined;
  }
}

const ANSWERS: Record<InvalidLine, [number, string]> = {
  not_json: [-32700, "Parse error: a line on stdin is not JSON; send one JSON-RPC message per line"],
  batch: [-32600, "JSON-RPC batches are not supported; send one message per line"],
  not_jsonrpc: [-32600, "Invalid Request: the line is not a JSON-RPC 2.0 request, notification or response"],
};

/** The error line answering an invalid input line; without an id when none could be read. */
export function invalidLineAnswer(kind: InvalidLine, id: string | number | null): string {
  const [code, message] = ANSWERS[kind];
  // MCP's schema lets an error omit its id when it is unknowable (a null id would not parse).
  return `${JSON.stringify({ jsonrpc: "2.0", ...(id === null ? {} : { id }), error: { code, message } })}\n`;
}
