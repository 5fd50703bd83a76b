import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  CLIENT_CAPABILITIES_META_KEY,
  MissingRequiredClientCapabilityError,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  isSpecType,
  type CreateMessageRequestParams,
  type CreateMessageResult,
  type CreateMessageResultWithTools,
  type InputRequest,
  type InputRequiredResult,
  type McpServer,
  type RequestStateCodec,
  type Root,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { ToolshedError } from "@toolshed/errors";
import type { Logger } from "@toolshed/logging";
import { z } from "zod";
import type {
  AnyObjectSchema,
  Answer,
  AskOptions,
  Asking,
  Choice,
  ConfirmPolicy,
  ElicitationSchema,
} from "./define.js";
import { RpcError } from "./rpc-error.js";

/**
 * Asking the client mid-call (elicitation, sampling, roots), one handler API on both protocol eras.
 *
 * A handler calls `ctx.ask(...)` and friends. When the answer is not there yet, the call rejects with
 * an internal signal, the handler stops, and the kit answers the request with an `input_required`
 * result listing every question asked in that run, plus a signed `requestState` holding the answers
 * of earlier rounds. The client answers and retries; the kit verifies the state and runs the handler
 * again from the top, and this time `ctx.ask` resolves with the answer. Handlers must therefore do
 * their side effects after their questions (or make them idempotent).
 *
 * On 2026-07-28 the client does the retrying; on 2025 the SDK's legacy shim sends `elicitation/create`
 * / `sampling/createMessage` / `roots/list` over the session and re-runs the handler itself, so the
 * handler cannot tell the eras apart. The state is HMAC-signed and carries everything, so any replica
 * sharing the key resumes it.
 */

/** How long a minted requestState may be echoed back. */
export const DEFAULT_REQUEST_STATE_TTL_SECONDS = 600;

/** What a verified requestState carries: the answers so far, bound to one call. */
interface StatePayload {
  /** Answers of earlier rounds, by input key (the client's own replies, checked when first used). */
  a: Record<string, unknown>;
  /** Hash of who called what with which arguments; a state minted for another call is refused. */
  c: string;
}

let randomKey: string | undefined;
let warnedRandomKey = false;

/**
 * The HMAC keys of a process: the first signs, every key verifies, so a key rotates by putting the
 * new one first and keeping the old one until in-flight retries are done (ttl).
 */
export class RequestStateKeys {
  readonly #codecs: RequestStateCodec<StatePayload>[];
  readonly #keys: string[];
  readonly #random: boolean;

  constructor(
    keys: readonly string[] | undefined,
    private readonly logger: Logger,
    ttlSeconds = DEFAULT_REQUEST_STATE_TTL_SECONDS,
  ) {
    const configured = (keys ?? []).filter((k) => k !== "");
    for (const key of configured) {
      if (Buffer.byteLength(key, "utf8") < 32) {
        throw new ToolshedError(
          "invalid_input",
          "every request-state key must be at least 32 bytes long; generate one with `openssl rand -base64 32`",
        );
      }
    }
    this.#random = configured.length === 0;
    const used = this.#random ? [(randomKey ??= randomBytes(32).toString("base64url"))] : configured;
    this.#keys = used;
    this.#codecs = used.map((key) => createRequestStateCodec<StatePayload>({ key, ttlSeconds }));
  }

  async mint(payload: StatePayload): Promise<string> {
    if (this.#random && !warnedRandomKey) {
      warnedRandomKey = true;
      this.logger.warn(
        "no --request-state-key (TOOLSHED_REQUEST_STATE_KEYS) is set: questions to the user are signed with a random key of this process, so a retry that reaches another replica is refused; multi-replica deployments need one shared key",
      );
    }
    return this.#codecs[0]!.mint(payload);
  }

  /**
   * A MAC of `data` under the signing key (base64url, 128 bits), for ids that must come back
   * unchanged from the same caller (forwarded task ids); `verifies` accepts one under any key.
   */
  mac(data: string): string {
    return macOf(this.#keys[0]!, data);
  }

  verifies(data: string, mac: string): boolean {
    const given = Buffer.from(mac);
    return this.#keys.some((key) => {
      const expected = Buffer.from(macOf(key, data));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }

  /** The payload of a state this process signed, or the reason it is refused. */
  async verify(state: string, ctx: ServerContext): Promise<StatePayload | { refused: string }> {
    let reason = "mac";
    for (const codec of this.#codecs) {
      try {
        return await codec.verify(state, ctx);
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
        // A bad MAC under this key may be a good one under an older key; anything else is final.
        if (reason !== "mac") break;
      }
    }
    return { refused: reason };
  }
}

function macOf(key: string, data: string): string {
  return createHmac("sha256", key).update(data).digest("base64url").slice(0, 22);
}

/** The signal that stops a handler whose question has no answer yet; never reaches a client. */
export class InputNeeded extends Error {
  constructor() {
    super("the handler asked the client a question that has no answer yet");
  }
}

/** Deeper arguments than this cannot be bound to a question's state (and no real tool takes them). */
const MAX_IDENTITY_DEPTH = 512;

/** Stable JSON (sorted keys), so a retry with the same arguments hashes the same. */
function canonical(value: unknown, depth = 0): string {
  if (depth > MAX_IDENTITY_DEPTH) {
    throw new ToolshedError(
      "invalid_input",
      `arguments nested deeper than ${MAX_IDENTITY_DEPTH} levels cannot be carried across a question; flatten them`,
    );
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v, depth + 1)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The call a question's state is bound to (caller, method and name, arguments), computed on first
 * use: only a handler that asks, or a retry that carries state, pays for hashing its arguments.
 */
export function callIdentity(principalId: string | undefined, target: string, args: unknown): () => string {
  let memo: string | undefined;
  return () =>
    (memo ??= createHash("sha256")
      .update(`${principalId ?? ""}\0${target}\0${canonical(args ?? {})}`)
      .digest("base64url")
      .slice(0, 32));
}

/** The form a confirmation shows: one checkbox, which must be ticked for the action to go ahead. */
const CONFIRM_SCHEMA = z.object({
  confirm: z.boolean().describe("Tick to go ahead; leave unticked or decline to do nothing."),
});

function isZodObject(schema: unknown): schema is AnyObjectSchema {
  return typeof (schema as { safeParse?: unknown }).safeParse === "function";
}

/** Where questions go once a call has become a task: answered later, by tasks/update (tasks/manager.ts). */
export interface QuestionInbox {
  ask<T>(key: string, request: InputRequest, read: (response: unknown) => T | undefined): Promise<T>;
}

/**
 * One run of a handler that may ask: the answers it can use (earlier rounds from the verified state,
 * this round from `inputResponses`) and the questions still open.
 */
export class AskRound implements Asking {
  readonly #answers: Record<string, unknown>;
  readonly #fresh: Record<string, unknown>;
  /** Answers the handler used in this run: what the next state carries. */
  readonly #used: Record<string, unknown> = {};
  readonly #pending = new Map<string, InputRequest>();
  #sequence = 0;
  #inbox: QuestionInbox | undefined;

  private constructor(
    private readonly keys: RequestStateKeys,
    private readonly extra: ServerContext,
    private readonly mcp: McpServer,
    private readonly identity: () => string,
    private readonly cannotAsk: string | undefined,
    private readonly confirmPolicy: ConfirmPolicy,
    earlier: Record<string, unknown>,
  ) {
    const fresh = extra.mcpReq.inputResponses;
    this.#fresh = fresh && typeof fresh === "object" ? { ...fresh } : {};
    this.#answers = { ...earlier, ...this.#fresh };
  }

  /**
   * Starts a run: verifies the echoed requestState (if any) and its binding to this call. A state that
   * fails is a JSON-RPC error (-32602), never a tool result: the client must start the call over.
   */
  static async open(options: {
    keys: RequestStateKeys;
    extra: ServerContext;
    mcp: McpServer;
    identity: () => string;
    /** Why this client cannot be asked at all (a 2025 client under --stateless or --json-response). */
    cannotAsk: string | undefined;
    /** --confirm: whether `confirm` and `choose` ask a person (`ask`) or never do (`never`). */
    confirm?: ConfirmPolicy;
    logger: Logger;
  }): Promise<AskRound> {
    const { keys, extra, identity, logger } = options;
    const raw: unknown = extra.mcpReq.requestState();
    let earlier: Record<string, unknown> = {};
    if (raw !== undefined) {
      const verified = typeof raw === "string" ? await keys.verify(raw, extra) : { refused: "malformed" };
      const refused =
        "refused" in verified ? verified.refused : verified.c !== identity() ? "another call" : undefined;
      if (refused !== undefined) {
        logger.warn({ reason: refused, rpc_id: extra.mcpReq.id }, "requestState refused");
        throw new RpcError(
          -32602,
          refused === "expired"
            ? "the requestState has expired; call again without requestState and inputResponses to start over"
            : refused === "another call"
              ? "the requestState belongs to another call (other name, arguments or caller); send it only with the call that returned it, or call again without it"
              : "the requestState failed its integrity check (altered, or signed with a key this server does not hold); call again without requestState and inputResponses to start over",
          { reason: "invalid_request_state" },
        );
      }
      earlier = (verified as StatePayload).a ?? {};
    }
    return new AskRound(
      keys,
      extra,
      options.mcp,
      identity,
      options.cannotAsk,
      options.confirm ?? "ask",
      earlier,
    );
  }

  /**
   * From now on, a question without an answer waits in `inbox` (the task's inputRequests) instead of
   * stopping the handler for an input_required result: the call has become a task.
   */
  deferTo(inbox: QuestionInbox): void {
    this.#inbox = inbox;
  }

  /** Every answer this call has (echoed in its requestState or sent with it): what a re-run starts from. */
  get answers(): Record<string, unknown> {
    return { ...this.#answers };
  }

  /** Whether the handler asked something that has no answer yet. */
  get waiting(): boolean {
    return this.#pending.size > 0;
  }

  /** The input_required result for the open questions, with the answers so far in a signed state. */
  async inputRequired(): Promise<InputRequiredResult> {
    const requestState = await this.keys.mint({ a: this.#used, c: this.identity() });
    return inputRequired({ inputRequests: Object.fromEntries(this.#pending), requestState });
  }

  ask<S extends AnyObjectSchema>(
    schema: S,
    message: string,
    options?: AskOptions,
  ): Promise<Answer<z.output<S>>>;
  ask(
    schema: ElicitationSchema,
    message: string,
    options?: AskOptions,
  ): Promise<Answer<Record<string, unknown>>>;
  ask(
    schema: AnyObjectSchema | ElicitationSchema,
    message: string,
    options?: AskOptions,
  ): Promise<Answer<unknown>> {
    return this.#take(
      options?.key,
      "elicitation",
      () =>
        inputRequired.elicit({
          mode: "form",
          message,
          requestedSchema: schema as never,
        }),
      (response) => {
        const view = inputResponse({ r: response }, "r");
        if (view.kind !== "elicit") return undefined;
        if (view.action !== "accept") return { action: view.action };
        const content = view.content;
        if (!content || typeof content !== "object" || Array.isArray(content)) return undefined;
        if (isZodObject(schema)) {
          const parsed = schema.safeParse(content);
          return parsed.success ? { action: "accept", content: parsed.data } : undefined;
        }
        return { action: "accept", content };
      },
    );
  }

  askUrl(
    url: string,
    message: string,
    options?: AskOptions,
  ): Promise<{ action: "accept" | "decline" | "cancel" }> {
    return this.#take(
      options?.key,
      "elicitation.url",
      () => inputRequired.elicitUrl({ message, url }),
      (response) => {
        const view = inputResponse({ r: response }, "r");
        return view.kind === "elicit" ? { action: view.action } : undefined;
      },
    );
  }

  sample(
    params: CreateMessageRequestParams,
    options?: AskOptions,
  ): Promise<CreateMessageResult | CreateMessageResultWithTools> {
    const tools = Boolean(params.tools || params.toolChoice);
    return this.#take(
      options?.key,
      tools ? "sampling.tools" : "sampling",
      () => inputRequired.createMessage(params),
      (response) =>
        // Replies may carry tool_use blocks (and content arrays) whether or not this request offered
        // tools: the wider result type accepts both shapes.
        isSpecType.CreateMessageResultWithTools(response) || isSpecType.CreateMessageResult(response)
          ? response
          : undefined,
    );
  }

  listRoots(options?: AskOptions): Promise<Root[]> {
    return this.#take(
      options?.key,
      "roots",
      () => inputRequired.listRoots(),
      (response) => (isSpecType.ListRootsResult(response) ? response.roots : undefined),
    );
  }

  async confirm(what: string | (() => string | Promise<string>), options?: AskOptions): Promise<boolean> {
    if (this.confirmPolicy === "never") return true;
    const message = typeof what === "string" ? what : await what();
    const why = this.#unavailable("elicitation");
    if (why !== undefined) {
      throw new ToolshedError(
        "forbidden",
        `nothing was done: this needs a person to confirm (${message}), but ${why}. Use a client that supports elicitation, or, for an agent running without a person, start the server with --confirm never (TOOLSHED_CONFIRM=never)`,
        { details: { confirmation: message, unavailable: "elicitation" } },
      );
    }
    // The answer is keyed by what was shown: if the action changed between rounds (another count,
    // another title), the person is asked again instead of their answer carrying over.
    const key = options?.key ?? `confirm-${createHash("sha256").update(message).digest("hex").slice(0, 12)}`;
    const answer = await this.ask(CONFIRM_SCHEMA, message, { key });
    return answer.action === "accept" && answer.content.confirm;
  }

  async choose<T extends string>(
    message: string,
    choices: readonly T[],
    options?: AskOptions,
  ): Promise<Choice<T>> {
    if (choices.length === 0) return { action: "unavailable" };
    if (this.confirmPolicy === "never" || this.#unavailable("elicitation") !== undefined) {
      return { action: "unavailable" };
    }
    const schema: ElicitationSchema = {
      type: "object",
      properties: { choice: { type: "string", title: "Choice", enum: [...choices] } },
      required: ["choice"],
    };
    const answer = await this.ask(schema, message, { key: options?.key ?? "choice" });
    if (answer.action !== "accept") return { action: answer.action };
    const picked = answer.content.choice;
    // The client's reply is checked against the candidates; anything else is no choice.
    const value = choices.find((c) => c === picked);
    return value === undefined ? { action: "cancel" } : { action: "accept", value };
  }

  async askAll<T extends Record<string, Promise<unknown>>>(
    asks: T,
  ): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
    const keys = Object.keys(asks);
    const values = await Promise.all(keys.map((k): Promise<unknown> => asks[k]!));
    return Object.fromEntries(keys.map((k, i) => [k, values[i]])) as { [K in keyof T]: Awaited<T[K]> };
  }

  #take<T>(
    explicitKey: string | undefined,
    capability: Capability,
    build: () => InputRequest,
    read: (response: unknown) => T | undefined,
  ): Promise<T> {
    this.#sequence += 1;
    const key = explicitKey ?? `q${this.#sequence}`;
    let result: Promise<T>;
    try {
      if (key in this.#answers) {
        const answer = read(this.#answers[key]);
        if (answer !== undefined) {
          this.#used[key] = this.#answers[key];
          return Promise.resolve(answer);
        }
        // An answer of the wrong shape (or one the schema refuses) is asked again.
      }
      this.#check(capability);
      if (this.#inbox) {
        result = this.#inbox.ask(key, build(), read);
      } else {
        this.#pending.set(key, build());
        result = Promise.reject(new InputNeeded());
      }
    } catch (err) {
      result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // A handler that starts several questions before awaiting them must not crash the process with
    // an unhandled rejection; the kit reads the open questions from the round, not from the promise.
    result.catch(() => {});
    return result;
  }

  /** Why this client cannot be asked for `capability`, or undefined when it can. */
  #unavailable(capability: Capability): string | undefined {
    if (this.cannotAsk !== undefined) return this.cannotAsk;
    const [family, feature] = capability.split(".") as [string, string | undefined];
    if (hasCapability(this.#declared(), family, feature)) return undefined;
    return `this client did not declare the '${feature ? `${family}.${feature}` : family}' capability`;
  }

  #declared(): Record<string, Record<string, unknown> | undefined> {
    const envelope = this.extra.mcpReq.envelope as Record<string, unknown> | undefined;
    return ((envelope ? envelope[CLIENT_CAPABILITIES_META_KEY] : this.mcp.server.getClientCapabilities()) ??
      {}) as Record<string, Record<string, unknown> | undefined>;
  }

  /** Refuses at once, naming the capability, instead of asking a client that cannot answer. */
  #check(capability: Capability): void {
    const envelope = this.extra.mcpReq.envelope as Record<string, unknown> | undefined;
    const [family, feature] = capability.split(".") as [string, string | undefined];
    if (this.cannotAsk !== undefined) {
      throw new ToolshedError(
        "invalid_input",
        `this needs to ask the client (${family}), but ${this.cannotAsk}, or connect with protocol 2026-07-28, to use it`,
        { details: { unavailable: capability } },
      );
    }
    if (hasCapability(this.#declared(), family, feature)) return;
    const name = feature ? `${family}.${feature}` : family;
    const message = `this needs the client's '${name}' capability, which this client did not declare; use a client that supports ${name}`;
    if (envelope) {
      throw new MissingRequiredClientCapabilityError(
        { requiredCapabilities: { [family]: feature ? { [feature]: {} } : {} } },
        message,
      );
    }
    throw new ToolshedError("invalid_input", message, { details: { missingCapability: name } });
  }
}

type Capability = "elicitation" | "elicitation.url" | "sampling" | "sampling.tools" | "roots";

function hasCapability(
  declared: Record<string, Record<string, unknown> | undefined>,
  family: string,
  feature: string | undefined,
): boolean {
  const cap = declared[family];
  if (!cap || typeof cap !== "object") return false;
  if (family === "elicitation" && feature === undefined) {
    // A bare `elicitation: {}` means form mode (the meaning before modes existed).
    return cap.form !== undefined || cap.url === undefined;
  }
  return feature === undefined || cap[feature] !== undefined;
}

/**
 * The names a person may have meant by `name`, for `ctx.choose` when nothing is named exactly that:
 * the same name in another case, then names that start with it, then names that contain it (at most
 * `max`, in that order). Empty when nothing is close.
 */
export function similarNames(name: string, names: Iterable<string>, max = 10): string[] {
  const wanted = name.toLowerCase();
  if (wanted === "") return [];
  const ranked: [number, string][] = [];
  for (const candidate of names) {
    const c = candidate.toLowerCase();
    const rank = c === wanted ? 0 : c.startsWith(wanted) ? 1 : c.includes(wanted) ? 2 : -1;
    if (rank >= 0) ranked.push([rank, candidate]);
  }
  return ranked
    .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .slice(0, max)
    .map(([, n]) => n);
}
