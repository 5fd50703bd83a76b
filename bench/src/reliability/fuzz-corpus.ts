import { JSONRPCRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Prng } from "./prng.js";
import type { ToolCall } from "./types.js";

/** One fuzz message: its bytes (no newline inside), its kind, and the id an answer must carry. */
export interface FuzzMessage {
  bytes: Buffer;
  kind: FuzzKind;
  /** `JSON.stringify(id)` when the message is a valid JSON-RPC request, which must be answered. */
  expect?: string;
}

export const FUZZ_KINDS = {
  valid: 10,
  unknown_method: 8,
  wrong_types: 14,
  huge_id: 8,
  deep_nesting: 3,
  batch: 6,
  notification_with_id: 6,
  notification: 4,
  truncated: 10,
  invalid_utf8: 8,
  mutated: 12,
  random_bytes: 5,
  response_shaped: 3,
  bare_values: 3,
} as const;
export type FuzzKind = keyof typeof FUZZ_KINDS | "oversized";

const METHODS = [
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "prompts/list",
  "completion/complete",
  "logging/setLevel",
  "initialize",
];
const UNKNOWN_METHODS = [
  "tools/explode",
  "admin/shutdown",
  "",
  " ",
  "rpc.discover",
  "__proto__",
  "tools/call/../x",
  "\u0000",
];
const WRONG_IDS: unknown[] = [null, true, false, 1.5, -0.25, [], {}, [1], { id: 1 }];
const WRONG_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  "",
  "x",
  [],
  {},
  [1, 2],
  { a: { b: [] } },
  "\u202e\u200b",
];

/**
 * A seeded stream of hostile JSON-RPC: mutations of valid calls to the target's own tools plus
 * purely random input. Pure: the same seed and calls give the same bytes.
 */
export class FuzzCorpus {
  #n = 0;

  constructor(
    private readonly rng: Prng,
    private readonly calls: readonly ToolCall[],
  ) {}

  next(): FuzzMessage {
    const kind = this.rng.weighted(FUZZ_KINDS);
    const value = this.#generate(kind);
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    // A newline would split the message in two on stdio; newline-free fuzz keeps the count honest.
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) bytes[i] = 0x20;
    return { bytes, kind, ...expectation(bytes) };
  }

  /** A valid tools/call whose argument is a `bytes`-long string: one 10 MB line. */
  oversized(bytes: number): FuzzMessage {
    const call = this.calls[0]!;
    const key = Object.keys(call.arguments)[0] ?? "message";
    const head = JSON.stringify({
      jsonrpc: "2.0",
      id: this.#id(),
      method: "tools/call",
      params: { name: call.name, arguments: { [key]: "" } },
    });
    const cut = head.lastIndexOf('""') + 1;
    const text = head.slice(0, cut) + "A".repeat(bytes) + head.slice(cut);
    const buf = Buffer.from(text, "utf8");
    return { bytes: buf, kind: "oversized", ...expectation(buf) };
  }

  #id(): number | string {
    this.#n++;
    return this.rng.chance(0.5) ? this.#n : `r-${this.#n}`;
  }

  #valid(): Record<string, unknown> {
    const method = this.rng.chance(0.6) ? "tools/call" : this.rng.pick(METHODS);
    const msg: Record<string, unknown> = { jsonrpc: "2.0", id: this.#id(), method };
    if (method === "tools/call") {
      const call = this.rng.pick(this.calls);
      msg.params = { name: call.name, arguments: structuredClone(call.arguments) };
    } else if (method === "logging/setLevel") {
      msg.params = { level: this.rng.pick(["debug", "info", "error", "nope"]) };
    } else if (method === "initialize") {
      msg.params = JSON.parse(
        `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}`,
      );
    } else if (method === "completion/complete") {
      msg.params = { ref: { type: "ref/prompt", name: "nope" }, argument: { name: "a", value: "b" } };
    }
    return msg;
  }

  #generate(kind: keyof typeof FUZZ_KINDS): string | Buffer {
    const rng = this.rng;
    switch (kind) {
      case "valid":
        return JSON.stringify(this.#valid());
      case "unknown_method":
        return JSON.stringify({
          ...this.#valid(),
          method: rng.pick(UNKNOWN_METHODS) + (rng.chance(0.5) ? String(rng.int(0, 999)) : ""),
        });
      case "wrong_types": {
        const msg = this.#valid();
        const field = rng.pick([
          "jsonrpc",
          "id",
          "method",
          "params",
          "params.name",
          "params.arguments",
          "argument",
        ]);
        const wrong = rng.pick(WRONG_VALUES);
        const params = (msg.params ?? {}) as Record<string, unknown>;
        if (field === "params.name") params.name = wrong;
        else if (field === "params.arguments") params.arguments = wrong;
        else if (field === "argument") {
          const args = (params.arguments ?? {}) as Record<string, unknown>;
          for (const key of Object.keys(args)) args[key] = rng.pick(WRONG_VALUES);
          args[rng.pick(["extra", "__proto__", "constructor"])] = wrong;
          params.arguments = args;
        } else if (field === "id") {
          // Ids of a valid type stay unique: reusing an in-flight id is its own check (duplicate_ids).
          msg.id = rng.pick(WRONG_IDS);
        } else msg[field] = wrong;
        if (field.startsWith("params.") || field === "argument") msg.params = params;
        return JSON.stringify(msg);
      }
      case "huge_id": {
        const msg = this.#valid();
        const n = this.#n;
        msg.id = rng.pick<() => unknown>([
          () => Number.MAX_SAFE_INTEGER - n,
          () => -Number.MAX_SAFE_INTEGER + n,
          () => 2 ** 64 + n * 4096,
          () => 1e300,
          () => `${"x".repeat(rng.int(1_000, 50_000))}-${n}`,
          () => `${n}`.padStart(rng.int(20, 400), "9"),
        ])();
        // A number beyond 2^53 is written out in full, the way a hostile client would send it.
        return typeof msg.id === "number" && Math.abs(msg.id) > Number.MAX_SAFE_INTEGER
          ? JSON.stringify({ ...msg, id: "@@ID@@" }).replace('"@@ID@@"', `${"9".repeat(rng.int(17, 400))}`)
          : JSON.stringify(msg);
      }
      case "deep_nesting": {
        const depth = rng.int(100, 20_000);
        const nested = rng.chance(0.5)
          ? "[".repeat(depth) + "]".repeat(depth)
          : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
        const msg = this.#valid();
        return JSON.stringify({ ...msg, params: "@@DEEP@@" }).replace(
          '"@@DEEP@@"',
          rng.chance(0.5) ? `{"name":"echo","arguments":{"message":${nested}}}` : nested,
        );
      }
      case "batch": {
        const items = Array.from({ length: rng.int(0, 6) }, () =>
          rng.chance(0.8) ? this.#valid() : rng.pick(WRONG_VALUES),
        );
        return JSON.stringify(items);
      }
      case "notification_with_id": {
        const method = rng.pick([
          "notifications/initialized",
          "notifications/cancelled",
          "notifications/progress",
          "notifications/roots/list_changed",
        ]);
        const params =
          method === "notifications/cancelled" ? { requestId: `never-sent-${this.#n}`, reason: "fuzz" } : {};
        return JSON.stringify({ jsonrpc: "2.0", id: this.#id(), method, params });
      }
      case "notification": {
        const msg = this.#valid();
        delete msg.id;
        if (rng.chance(0.5))
          msg.method = rng.pick([
            "notifications/initialized",
            "notifications/unknown",
            "notifications/cancelled",
          ]);
        if (msg.method === "notifications/cancelled") msg.params = { requestId: `never-sent-${this.#n}` };
        return JSON.stringify(msg);
      }
      case "truncated": {
        const text = JSON.stringify(this.#valid());
        return text.slice(0, rng.int(0, text.length - 1));
      }
      case "invalid_utf8": {
        const text = Buffer.from(JSON.stringify(this.#valid()), "utf8");
        const junk = Buffer.from(
          rng.pick([
            [0xff],
            [0xc3],
            [0xed, 0xa0, 0x80],
            [0xf4, 0x90, 0x80, 0x80],
            [0xc0, 0xaf],
            [0xfe, 0xfe],
          ]),
        );
        // Inside a string value when there is one (the last quote), else anywhere.
        const at = rng.chance(0.7)
          ? Math.max(1, text.lastIndexOf(0x22, text.length - 3))
          : rng.int(0, text.length);
        return Buffer.concat([text.subarray(0, at), junk, text.subarray(at)]);
      }
      case "mutated": {
        const chars = [...JSON.stringify(this.#valid())];
        const edits = rng.int(1, 4);
        for (let i = 0; i < edits; i++) {
          const at = rng.int(0, chars.length - 1);
          const op = rng.int(0, 2);
          const c = rng.pick([
            '"',
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\\",
            "0",
            "-",
            "e",
            "\u0000",
            "\u2028",
            " ",
            "null",
          ]);
          if (op === 0) chars[at] = c;
          else if (op === 1) chars.splice(at, 0, c);
          else chars.splice(at, 1);
        }
        return chars.join("");
      }
      case "random_bytes": {
        const buf = Buffer.alloc(rng.int(1, 512));
        for (let i = 0; i < buf.length; i++) buf[i] = rng.int(0, 255);
        return buf;
      }
      case "response_shaped":
        return JSON.stringify(
          rng.chance(0.5)
            ? { jsonrpc: "2.0", id: this.#id(), result: {} }
            : { jsonrpc: "2.0", id: this.#id(), error: { code: -1, message: "fuzz" } },
        );
      case "bare_values":
        return rng.pick([
          "",
          " ",
          "null",
          "[]",
          "{}",
          "0",
          '"jsonrpc"',
          "true",
          '{"jsonrpc":"2.0"}',
          "\ufeff{}",
          "\r",
        ]);
    }
  }
}

/** A valid JSON-RPC request (by the SDK's own schema) must be answered with its id. */
function expectation(bytes: Buffer): { expect?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    return {};
  }
  const request = JSONRPCRequestSchema.safeParse(parsed);
  return request.success ? { expect: JSON.stringify(request.data.id) } : {};
}

/** The key an answer is matched by; the same normalisation as `expectation`. */
export function answerKey(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  // An error without an id answers a message that could not be parsed (e.g. one over the size cap).
  if (!("id" in message)) return "error" in message ? "null" : undefined;
  if (!("result" in message) && !("error" in message)) return undefined;
  return JSON.stringify((message as { id: unknown }).id);
}
