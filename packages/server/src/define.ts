/* eslint-disable @typescript-eslint/no-explicit-any -- existential types: a server holds tools, resources
   and prompts whose config and deps types differ, so the erased forms use `any` (only in this file). */
import type { Logger, McpLogLevel, ToolLogger } from "@toolshed/logging";
import type { ToolshedMetrics } from "@toolshed/metrics";
import type {
  CreateMessageRequestParams,
  CreateMessageResult,
  CreateMessageResultWithTools,
  Root,
} from "@modelcontextprotocol/server";
import type { z } from "zod";

/** Who is calling: set by an authenticator (HTTP with auth), undefined for stdio and open HTTP. */
export type { Principal } from "@toolshed/auth";
import type { Principal } from "@toolshed/auth";

/** The four MCP tool annotations; every tool states all four. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What the client declared it can do (sampling, elicitation, roots, ...). */
export interface ClientRequests {
  /** 2026-07-28: this request's `_meta` declaration; 2025: what the client declared at initialize. */
  readonly capabilities: Readonly<Record<string, unknown>>;
}

/** The user's answer to a form question: the validated content when accepted. */
export type Answer<T> =
  { action: "accept"; content: T } | { action: "decline" | "cancel"; content?: undefined };

/** A form elicitation schema written as JSON Schema (a flat object of primitive properties). */
export interface ElicitationSchema {
  type: "object";
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
}

export interface AskOptions {
  /**
   * The question's key in `inputRequests` / `inputResponses`; by default the order of the question
   * in the handler run (`q1`, `q2`, ...). Give one when a handler asks conditionally.
   */
  key?: string;
}

/**
 * `--confirm` (TOOLSHED_CONFIRM): `ask` (the default) asks a person before destructive actions and
 * refuses, doing nothing, when the client cannot be asked; `never` is for agents running without a
 * person: confirmations pass and choices are not asked.
 */
export type ConfirmPolicy = "ask" | "never";

/** A person's pick among candidates; `unavailable` when nobody can be asked (see `choose`). */
export type Choice<T extends string> =
  { action: "accept"; value: T } | { action: "decline" | "cancel" | "unavailable"; value?: undefined };

/**
 * Asking the client mid-call, on both protocol eras. The first run of a handler stops at the first
 * `await` of an unanswered question; the kit asks the client (an `input_required` result on
 * 2026-07-28, `elicitation/create` & co. on 2025) and runs the handler again from the top with the
 * answer. So: ask before side effects, and start several questions before awaiting them (or use
 * `askAll`) to ask them in one round. A client that did not declare the capability gets an error
 * naming it (a tool error on 2025, -32021 on 2026-07-28).
 */
export interface Asking {
  /** Asks the user to fill a form (elicitation); the accepted content is validated by `schema`. */
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
  /** Sends the user to a URL (URL-mode elicitation, e.g. an OAuth consent); resolves with their action. */
  askUrl(
    url: string,
    message: string,
    options?: AskOptions,
  ): Promise<{ action: "accept" | "decline" | "cancel" }>;
  /** Asks the client's model (sampling/createMessage); a reply may carry tool_use content. */
  sample(
    params: CreateMessageRequestParams,
    options?: AskOptions,
  ): Promise<CreateMessageResult | CreateMessageResultWithTools>;
  /** The client's roots (roots/list). */
  listRoots(options?: AskOptions): Promise<Root[]>;
  /**
   * Asks a person to confirm `message` (say exactly what will happen) and resolves true only when
   * they accept it. Under `--confirm never` it resolves true without asking (a function message, e.g.
   * one that looks up a title, is then never called); a client that cannot be asked gets a tool error
   * (nothing done) naming the elicitation capability and `--confirm never`. Ask before the action:
   * the handler runs again from the top with the answer. A changed message is asked again.
   */
  confirm(message: string | (() => string | Promise<string>), options?: AskOptions): Promise<boolean>;
  /**
   * Asks a person which of `choices` they meant (an enum). Resolves `unavailable` without asking
   * when nobody can be asked (no elicitation, `--confirm never`): the tool then reports the
   * candidates as it would have without asking.
   */
  choose<T extends string>(message: string, choices: readonly T[], options?: AskOptions): Promise<Choice<T>>;
  /** Asks several questions in one round: `askAll({ name: ctx.ask(...), roots: ctx.listRoots() })`. */
  askAll<T extends Record<string, Promise<unknown>>>(asks: T): Promise<{ [K in keyof T]: Awaited<T[K]> }>;
}

/** The narrow context every handler gets; never the raw SDK server. */
export interface HandlerContext<Config = unknown, Deps = unknown> extends Asking {
  readonly config: Config;
  readonly deps: Deps;
  readonly log: ToolLogger;
  /** Aborted when the client cancels, the call times out or the server shuts down. */
  readonly signal: AbortSignal;
  /** Reports progress when the client asked for it (a progressToken); a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  readonly principal: Principal | undefined;
  readonly sessionId: string | undefined;
  readonly requestId: string | number;
  /** The transport this call came on and the largest message it carries: size big answers to it. */
  readonly transport: TransportInfo;
  readonly client: ClientRequests;
  /** Announces changes to clients on every replica; see {@link ChangeNotifier}. */
  readonly notify: ChangeNotifier;
  /** Same as `notify.resourceUpdated(uri)`. */
  notifyResourceUpdated(uri: string): void;
  /**
   * Lists the named `hidden` tools from now on, to every connection of this server process, and
   * sends `notifications/tools/list_changed` when that changed the list; returns the names newly
   * listed. State of this process: other replicas do not see it (and a restart forgets it).
   */
  showTools(names: readonly string[]): string[];
}

/** The kit's default message limit on every transport (`--max-body-bytes`). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Where a call came from, for handlers that size their answers: a result message larger than
 * `maxMessageBytes` is one the other side may refuse or choke on (a stdio client drops the
 * connection), so a handler that can page keeps each answer well under it.
 */
export interface TransportInfo {
  /** `stdio`, `http` (Streamable HTTP), or `in-process` (a linked pair, as in tests). */
  readonly kind: "stdio" | "http" | "in-process";
  /**
   * The largest JSON-RPC message, in bytes, the kit takes on this transport (`--max-body-bytes`:
   * a stdio line, an HTTP body; 4 MiB by default), which Toolshed assumes its peers take too;
   * undefined where nothing is serialized (in-process). A task resumed on another replica reports
   * HTTP's default.
   */
  readonly maxMessageBytes: number | undefined;
}

/**
 * Change notifications, on both protocol eras and (with `TOOLSHED_REDIS_URL`) across replicas. Each
 * kind must be declared in the server's `notifications`, which is what the capabilities advertise;
 * an undeclared kind is dropped with a warning. Fire-and-forget: nothing is awaited.
 */
export interface ChangeNotifier {
  /** A resource's content changed: `notifications/resources/updated` to clients subscribed to `uri`. */
  resourceUpdated(uri: string, options?: NotifyOptions): void;
  /** Resources were added or removed: `notifications/resources/list_changed`. */
  resourceListChanged(options?: NotifyOptions): void;
  /** The tool list changed: `notifications/tools/list_changed`. */
  toolListChanged(options?: NotifyOptions): void;
  /** The prompt list changed: `notifications/prompts/list_changed`. */
  promptListChanged(options?: NotifyOptions): void;
}

/** How far a change notification goes. */
export interface NotifyOptions {
  /**
   * Only to this replica's clients. By default a change reaches every replica's clients (through
   * Redis when replicas share one); a change every replica hears by itself (a gateway's upstream
   * tells each replica that follows it) would then reach a client once per replica that heard it.
   */
  here?: boolean;
}

/** Which change notifications a server sends; each is advertised to clients only when true. */
export interface NotificationsDeclared {
  /** `resources.subscribe`: the server calls `notify.resourceUpdated(uri)` when a resource changes. */
  resourceUpdated?: boolean;
  /** `resources.listChanged`: the server calls `notify.resourceListChanged()`. */
  resourceListChanged?: boolean;
  /** `tools.listChanged`: the server calls `notify.toolListChanged()`. */
  toolListChanged?: boolean;
  /** `prompts.listChanged`: the server calls `notify.promptListChanged()`. */
  promptListChanged?: boolean;
}

export type ContentBlock = Record<string, unknown> & { type: string };

const REPLY = Symbol.for("toolshed.reply");

/** A handler result with explicit content blocks (images, audio, resources) next to its data. */
export interface ToolReply<Out> {
  readonly [REPLY]: true;
  readonly data: Out;
  readonly content: ContentBlock[];
}

/** Returns explicit content blocks (instead of the default text rendering) with the structured data. */
export function reply<Out>(data: Out, content: ContentBlock[]): ToolReply<Out> {
  return { [REPLY]: true, data, content };
}

export function isReply(value: unknown): value is ToolReply<unknown> {
  return typeof value === "object" && value !== null && REPLY in value;
}

export type AnyObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface ToolDefinition<
  In extends AnyObjectSchema = AnyObjectSchema,
  Out extends AnyObjectSchema = AnyObjectSchema,
  Config = unknown,
  Deps = unknown,
> {
  /** snake_case, 1-64 of [a-z0-9_]; what the model calls. */
  name: string;
  title: string;
  /** Written for a model: what it does, when to use it, what comes back, its limits. */
  description: string;
  input: In;
  /** The structured result; sent as `structuredContent` and validated before it leaves. */
  output: Out;
  annotations: ToolAnnotations;
  /**
   * The group the tool belongs to (snake_case), for servers that let an operator enable groups of
   * tools (github's `--toolsets`). The kit checks its spelling; it is not sent to clients.
   */
  toolset?: string;
  /** Scopes a principal must hold (checked when auth is on). */
  scopes?: string[];
  /** Overrides the server's default per-call timeout. */
  timeoutMs?: number;
  /**
   * Left out of tools/list until a handler shows it (`ctx.showTools`), for servers where the model
   * turns groups of tools on (github's dynamic toolsets). It can be called by name all along: hiding
   * keeps it out of the model's context, it is no access control (that is what scopes are for).
   * Needs `notifications.toolListChanged`.
   */
  hidden?: boolean;
  /**
   * Long work: the tool may run as a task (the `io.modelcontextprotocol/tasks` extension) for
   * 2026-07-28 clients that declare it. `"optional"`: such clients get a task handle and poll it,
   * others get the result as before; `"required"`: clients without the extension are refused
   * (-32021). See "Long work as tasks" in the kit's README.
   */
  task?: TaskSupport;
  /**
   * An MCP App (the `io.modelcontextprotocol/ui` extension): the `ui://` resource (one of the
   * server's fixed resources, MIME type `text/html;profile=mcp-app`) that renders this tool's
   * results. Clients that declare the extension get `_meta.ui.resourceUri` on this tool in tools/list
   * and the host feeds the page each result (its `structuredContent`); other clients see neither.
   */
  ui?: { resourceUri: string };
  /** A compact text rendering of the data for clients that read only text; compact JSON by default. */
  // Method syntax on purpose: it lets a concrete tool stand in a list of AnyTool.
  render?(data: z.output<Out>): string;
  handler(
    input: z.output<In>,
    ctx: HandlerContext<Config, Deps>,
  ): Promise<z.input<Out> | ToolReply<z.input<Out>>> | z.input<Out> | ToolReply<z.input<Out>>;
}

/** Whether a tool may (`optional`) or must (`required`) run as a task for clients of the tasks extension. */
export type TaskSupport = "optional" | "required";

/** A tool with its config and deps types erased, as a server's tool list holds it. */
export type AnyTool = ToolDefinition<AnyObjectSchema, AnyObjectSchema, any, any>;

/** One item of a resource: text, or binary as base64 `blob`. */
export type ResourceContents = (
  { uri: string; mimeType?: string; text: string } | { uri: string; mimeType?: string; blob: string }
) & {
  /** E.g. an MCP App page's `{ ui: { csp, prefersBorder } }`. */
  _meta?: Record<string, unknown>;
};

/** Context for resource handlers: everything a tool gets but progress, asking and client requests. */
export type ReadContext<Config = unknown, Deps = unknown> = Omit<
  HandlerContext<Config, Deps>,
  "progress" | "client" | "notify" | "notifyResourceUpdated" | "showTools" | "transport" | keyof Asking
>;

/**
 * What a completion callback gets besides the value typed so far: the other arguments already
 * filled in, and the server's config, deps and a logger, as handlers get them.
 */
export interface CompletionContext<Config = unknown, Deps = unknown> {
  readonly arguments: Record<string, string>;
  readonly config: Config;
  readonly deps: Deps;
  readonly log: ToolLogger;
}

/** Completes one variable or argument: the candidates for what the user has typed so far. */
export type Completer<Config = unknown, Deps = unknown> = (
  value: string,
  ctx: CompletionContext<Config, Deps>,
) => Promise<string[]> | string[];

/** Context for prompt handlers: a resource handler's, plus asking the client (see {@link Asking}). */
export type PromptContext<Config = unknown, Deps = unknown> = ReadContext<Config, Deps> &
  Asking & { readonly client: ClientRequests };

/**
 * How long a 2026-07-28 client may cache a list or read result (`ttlMs`), and whether shared caches
 * may (`public`) or only that client (`private`, the default). 2025 clients never see it.
 */
export interface CacheHint {
  ttlMs: number;
  cacheScope?: "public" | "private";
}

interface ResourceBase {
  name: string;
  title: string;
  description: string;
  mimeType: string;
  /** This resource's reads; overrides the server's `cacheHint`. */
  cacheHint?: CacheHint;
}

/** A resource at a fixed URI. */
export interface FixedResourceDefinition<Config = unknown, Deps = unknown> extends ResourceBase {
  uri: string;
  read(uri: URL, ctx: ReadContext<Config, Deps>): Promise<ResourceContents[]> | ResourceContents[];
}

/** Resources under an RFC 6570 URI template, with optional listing and variable completion. */
export interface TemplateResourceDefinition<Config = unknown, Deps = unknown> extends ResourceBase {
  uriTemplate: string;
  /** Lists concrete resources the template covers (for `resources/list`). */
  list?(
    ctx: ReadContext<Config, Deps>,
  ): Promise<{ uri: string; name: string; description?: string; mimeType?: string }[]>;
  /** Completion of template variables, by variable name. */
  complete?: Record<string, Completer<Config, Deps>>;
  read(
    uri: URL,
    variables: Record<string, string | string[]>,
    ctx: ReadContext<Config, Deps>,
  ): Promise<ResourceContents[]> | ResourceContents[];
}

export type ResourceDefinition<Config = unknown, Deps = unknown> =
  FixedResourceDefinition<Config, Deps> | TemplateResourceDefinition<Config, Deps>;

/** A resource with its config and deps types erased, as a server's resource list holds it. */
export type AnyResource = ResourceDefinition<any, any>;

export interface PromptMessage {
  role: "user" | "assistant";
  content: ContentBlock;
}

export interface PromptDefinition<Args extends PromptArgs = PromptArgs, Config = unknown, Deps = unknown> {
  name: string;
  title: string;
  description: string;
  /** String arguments (MCP prompt arguments are strings), each with a description. */
  args: Args;
  /** Completion of argument values, by argument name. */
  complete?: Partial<Record<keyof z.output<Args> & string, Completer<Config, Deps>>>;
  handler: (
    args: z.output<Args>,
    ctx: PromptContext<Config, Deps>,
  ) =>
    | Promise<{ description?: string; messages: PromptMessage[] }>
    | { description?: string; messages: PromptMessage[] };
}

/** The object schema of a prompt's arguments: MCP prompt arguments are strings. */
export type PromptArgs = z.ZodObject<Record<string, z.ZodType<string | undefined>>>;

/** With a server's toolset names given, every tool names one of them; without, `toolset` is optional. */
export type ToolsetField<Toolset extends string> = [Toolset] extends [never] ? unknown : { toolset: Toolset };

/** The typed definers of one server: its config and deps types written once, checked everywhere. */
export interface Definers<Config, Deps, Toolset extends string = never> {
  defineTool: <In extends AnyObjectSchema, Out extends AnyObjectSchema>(
    tool: ToolDefinition<In, Out, Config, Deps> & ToolsetField<Toolset>,
  ) => ToolDefinition<In, Out, Config, Deps> & ToolsetField<Toolset>;
  defineResource: {
    (resource: FixedResourceDefinition<Config, Deps>): FixedResourceDefinition<Config, Deps>;
    (resource: TemplateResourceDefinition<Config, Deps>): TemplateResourceDefinition<Config, Deps>;
  };
  definePrompt: <Args extends PromptArgs>(
    prompt: PromptDefinition<Args, Config, Deps>,
  ) => PromptDefinition<Args, Config, Deps>;
}

/**
 * `defineTool`, `defineResource` and `definePrompt` with a server's config and deps types filled in,
 * so `ctx.config` and `ctx.deps` are typed in every handler and a typo there fails to compile:
 *
 *     export const { defineTool, defineResource, definePrompt } = definers<Config, Deps>();
 *
 * A server without setup passes `undefined` for Deps (`definers<Config, undefined>()`). A server whose
 * tools come in groups an operator picks from passes the group names as a third type, and each tool
 * then names its `toolset` (`definers<Config, Deps, "repos" | "issues">()`).
 */
export function definers<Config, Deps, Toolset extends string = never>(): Definers<Config, Deps, Toolset> {
  // Identity at run time: the definers exist for their types.
  const same = <T>(definition: T): T => definition;
  return { defineTool: same, defineResource: same, definePrompt: same };
}

/**
 * The definers of a server with neither config nor deps (`ctx.config` and `ctx.deps` are `unknown`);
 * a server with either uses {@link definers}.
 */
export const { defineTool, defineResource, definePrompt }: Definers<unknown, unknown> = definers<
  unknown,
  unknown
>();

export interface SetupContext<Config> {
  config: Config;
  log: Logger;
  /** Announces changes (e.g. from a file watcher opened in setup); see {@link ChangeNotifier}. */
  notify: ChangeNotifier;
  /** Same as `notify.resourceUpdated(uri)`. */
  notifyResourceUpdated(uri: string): void;
  /** The server's metrics registry: pass it to `createHttpClient({ metrics })` so upstream calls show on /metrics. */
  metrics: ToolshedMetrics;
  /**
   * The Redis the replicas share (`TOOLSHED_REDIS_URL` / `--redis-url`), when one is configured: keep
   * state every replica must see there (connect with `connectRedis`, keys under `toolshed:<server>:`).
   * Undefined when the server runs alone, which is the default.
   */
  redisUrl?: string;
}

/** What a forwarding handler gets: who calls, the call's signal, a logger and progress to the caller. */
export interface ForwardContext {
  readonly principal: Principal | undefined;
  /** Aborted when the client cancels, the call times out or the server shuts down. */
  readonly signal: AbortSignal;
  readonly log: ToolLogger;
  readonly requestId: string | number;
  readonly client: ClientRequests;
  /** Reports progress when the client asked for it (a progressToken); a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /**
   * Whether the client asked for progress (its request has a progressToken): ask an upstream for
   * progress only then, since an upstream that reports it does more work for every call.
   */
  readonly wantsProgress: boolean;
  /**
   * The least severe level this request's client takes log messages at, as for an own tool's
   * `log`: the 2026-07-28 request's `_meta` level, the 2025 session's logging/setLevel (`warning`
   * when it set none); undefined when it takes none. Ask the upstream for this level.
   */
  readonly logLevel: McpLogLevel | undefined;
  /**
   * Passes a log message from elsewhere (an upstream's `notifications/message`) to this request's
   * client as it came (level, logger name, data), on the request's stream, when it is at or above
   * `logLevel`; dropped otherwise.
   */
  relayLog(message: { level: McpLogLevel; logger?: string; data: unknown }): void;
  /**
   * On `tools/call`, `resources/read` and `prompts/get` (the requests that may answer
   * `input_required`): asks this request's client (elicitation, sampling, roots) as `ctx.ask` and
   * friends do in a tool, on both eras. A question without an answer yet stops the request: the kit
   * answers `input_required` (2026-07-28) or asks over the session (2025) and calls the function
   * again from the top with the answer, so ask before doing anything.
   */
  readonly ask?: Asking;
  /**
   * Whether this request may be answered with a task: a 2026-07-28 request whose client declares
   * the tasks extension (`io.modelcontextprotocol/tasks`). Only then may `callTool` return a
   * CreateTaskResult (see {@link ForwardTasks}).
   */
  readonly tasks: boolean;
}

/** What a forwarded tasks/get, tasks/update or tasks/cancel gets: who asks, and a signal. */
export interface ForwardTaskContext {
  readonly principal: Principal | undefined;
  /** Aborted at the server's default deadline or shutdown. */
  readonly signal: AbortSignal;
}

/**
 * Tasks served from elsewhere (the gateway's upstreams): `callTool` may return a CreateTaskResult
 * (`resultType: "task"`, its `taskId` one this definition can route, e.g. naming the upstream) when
 * `ctx.tasks` is set; the kit binds that id to the caller (an HMAC under the request-state key, so
 * every replica with the same key verifies it and another caller's id is unknown) and hands the
 * routed id back to `get`, `update` and `cancel`, whose results' `taskId` it rewrites again.
 * Throw a ToolshedError `not_found` for a task it does not know (the caller is told it is unknown).
 */
export interface ForwardTasks<Deps = any> {
  /** Whether 2026-07-28 connections declare the extension now (asked as `completions.offered` is). */
  offered(deps: Deps): boolean;
  get(deps: Deps, taskId: string, ctx: ForwardTaskContext): Promise<WireResult>;
  update(
    deps: Deps,
    taskId: string,
    inputResponses: Record<string, unknown>,
    ctx: ForwardTaskContext,
  ): Promise<WireResult>;
  cancel(deps: Deps, taskId: string, ctx: ForwardTaskContext): Promise<WireResult>;
  /**
   * Task status notifications for a forwarded task: a caller's `subscriptions/listen` naming the
   * task's id calls this with the routed id; `onTask` is given the task each time its status
   * changes (its current state first), as tasks/get returns it (the kit puts the caller's id in).
   * Resolves, once following, with what ends it (the listen stream ended), or undefined when the
   * task cannot be followed (the listen then leaves it out of its acknowledged `taskIds`). Call
   * `lost` when following ends before the task's terminal status reached `onTask` (the caller's
   * access was taken, the task's server forgot it or could not be reached again): the kit then
   * closes the caller's listen with its result, so the caller polls tasks/get or listens again
   * instead of waiting for a status that will not come. Without `follow`, listens leave forwarded
   * tasks out and callers poll.
   */
  follow?(
    deps: Deps,
    taskId: string,
    ctx: ForwardTaskContext,
    onTask: (task: WireResult) => void,
    lost: () => void,
  ): Promise<(() => void) | undefined>;
}

/** An MCP result as it travels (tools/call, resources/read, prompts/get, lists). */
export type WireResult = Record<string, unknown>;

/** A tools/call offered to `ForwardDefinition.fastCall`. */
export interface FastToolCall {
  readonly name: string;
  readonly args: Record<string, unknown>;
  readonly principal: Principal | undefined;
  /**
   * Aborted when the client goes away, the call times out or the server shuts down. It is this
   * call's only until the call settles: the kit hands a signal that was never aborted to a later
   * call, so remove any listener added to it once the call is done.
   */
  readonly signal: AbortSignal;
  /**
   * The capabilities the caller declared that let a server ask it something (`elicitation`,
   * `sampling`, `roots`), when it declared any. The lean path cannot relay a question: declare
   * them upstream so the upstream may ask, and when it does (it answers `input_required`) resolve
   * `USUAL_PATH`, and the kit answers the call the usual way, where questions are relayed.
   */
  readonly asks?: Record<string, unknown>;
}

/**
 * What a lean call (`ForwardDefinition.fastCall`) resolves to when it must be answered the usual
 * way after all (its upstream asked the caller something): nothing has been sent to the caller yet.
 */
export const USUAL_PATH: unique symbol = Symbol("toolshed.usualPath");

/**
 * Tools, resources and prompts served from elsewhere and decided per request (the gateway): the kit
 * still owns the transports, auth, limits, metrics and deadlines, but lists and calls go to these
 * functions instead of `tools`/`resources`/`prompts`. Lists return MCP wire objects; `callTool`
 * returns a `CallToolResult` (a thrown ToolshedError becomes an `isError` result) or `undefined`
 * for a name the caller cannot see (a JSON-RPC error telling it to call tools/list).
 */
export interface ForwardDefinition<Deps = any> {
  listTools(deps: Deps, ctx: ForwardContext): Promise<WireResult[]> | WireResult[];
  callTool(
    deps: Deps,
    name: string,
    args: Record<string, unknown>,
    ctx: ForwardContext,
  ): Promise<WireResult | undefined>;
  /** Whether a tool name is one the server serves now (keeps metric labels to real names). */
  knowsTool?(deps: Deps, name: string): boolean;
  /**
   * The scopes a call of tool `name` needs from `principal`, or undefined for a tool this principal
   * is not served (its call goes on and is answered as unknown). Over HTTP with auth, a `tools/call`
   * whose principal lacks some is refused before it runs with 403 and `WWW-Authenticate: Bearer
   * error="insufficient_scope", scope="<the missing ones>"` (MCP step-up), as for own tools.
   */
  toolScopes?(deps: Deps, name: string, principal: Principal): readonly string[] | undefined;
  /**
   * A lean path for a plain 2026-07-28 `tools/call` over HTTP (no progress, logs, tasks, questions
   * or trace context asked; see http/fast-call.ts): return undefined to have the call served the
   * usual way, or the function that runs it (called once the kit's checks pass). The kit still
   * does its per-call rate limit, deadline, cancellation, shutdown, metrics, spans and error
   * mapping; a thrown error becomes the tool error result, as from `callTool`. The function may
   * resolve `USUAL_PATH` (see `FastToolCall.asks`): the call is then answered the usual way, and
   * counts once more against the per-call rate limit there.
   */
  fastCall?(deps: Deps, call: FastToolCall): (() => Promise<WireResult | typeof USUAL_PATH>) | undefined;
  resources?: {
    list(deps: Deps, ctx: ForwardContext): Promise<WireResult[]> | WireResult[];
    templates(deps: Deps, ctx: ForwardContext): Promise<WireResult[]> | WireResult[];
    /** The `resources/read` result; throw a ToolshedError `not_found` for unknown URIs. */
    read(deps: Deps, uri: string, ctx: ForwardContext): Promise<WireResult>;
    /**
     * Following resources: a 2025 `resources/subscribe`, or a 2026-07-28 `subscriptions/listen`
     * naming URIs (HTTP). `offered` decides whether a connection declares `resources.subscribe`
     * (asked as `completions.offered` is; also needs `notifications.resourceUpdated`). `subscribe`
     * starts following `uri` for `principal` (throw a ToolshedError: `not_found` for a URI it may
     * not see, as resources/read does) and returns what ends it, called once: on unsubscribe, when
     * the listen stream or the session closes. Announce updates with `notify.resourceUpdated(uri)`;
     * the kit sends them only to the clients following that URI. Call `revoked` when the principal
     * may no longer see it (a reload took its access): the kit stops delivering it to that client —
     * a 2026-07-28 listen stream naming it is closed (the client may listen again, and is refused),
     * a 2025 session is unsubscribed — and calls what ends it.
     */
    subscriptions?: {
      offered(deps: Deps): boolean;
      subscribe(
        deps: Deps,
        uri: string,
        principal: Principal | undefined,
        revoked: () => void,
      ): Promise<() => void>;
    };
  };
  prompts?: {
    list(deps: Deps, ctx: ForwardContext): Promise<WireResult[]> | WireResult[];
    get(deps: Deps, name: string, args: Record<string, string>, ctx: ForwardContext): Promise<WireResult>;
  };
  /**
   * `completion/complete` for the prompts and resource templates it serves. `offered` decides whether
   * a connection declares the `completions` capability; it is asked when the kit builds the
   * connection's server (each request on 2026-07-28, so each server/discover; once per session on
   * 2025, at initialize) and only once setup has opened the deps (before that, nothing is declared).
   * `complete` answers for a ref: the kit caps the values at 100 as the spec says (keeping `total`,
   * setting `hasMore`). Throw a ToolshedError `invalid_input` (-32602) for a prompt or template it
   * does not know, as the kit does for its own; return no values for a ref that has no completer.
   */
  completions?: {
    offered(deps: Deps): boolean;
    complete(deps: Deps, request: ForwardCompletion, ctx: ForwardContext): Promise<CompletionValues>;
  };
  /** Tasks (`io.modelcontextprotocol/tasks`) of forwarded tools; see {@link ForwardTasks}. */
  tasks?: ForwardTasks<Deps>;
}

/** One `completion/complete` request as a forwarding server gets it. */
export interface ForwardCompletion {
  ref: { type: "ref/prompt"; name: string } | { type: "ref/resource"; uri: string };
  /** The argument (or template variable) being completed and what is typed so far. */
  argument: { name: string; value: string };
  /** The arguments already given (`context.arguments`); empty when the client sent none. */
  arguments: Record<string, string>;
}

/** The suggestions of one completion (the `completion` object of a CompleteResult). */
export interface CompletionValues {
  values: string[];
  total?: number;
  hasMore?: boolean;
}

export interface ServerDefinition<ConfigSchema extends AnyObjectSchema = AnyObjectSchema, Deps = unknown> {
  /** kebab-case; the binary is `toolshed-<name>`, the package `@toolshed/server-<name>`. */
  name: string;
  version: string;
  title?: string;
  /** Sent to the client at initialize: how the tools fit together, in a few sentences. */
  instructions?: string;
  /** The server's own settings; each field is a `--kebab-flag` and a `TOOLSHED_SNAKE` env var. */
  config?: ConfigSchema;
  /** Opens dependencies once per process, lazily; failures are retried on the next call. */
  setup?: (ctx: SetupContext<z.output<ConfigSchema>>) => Promise<Deps> | Deps;
  /** Closes what setup opened, on shutdown. */
  teardown?: (deps: Deps) => Promise<void> | void;
  /**
   * Readiness beyond setup having succeeded (e.g. a ping); throw or return false when not ready, or
   * a reason (shown on the unauthenticated /readyz: no hosts or secrets in it).
   */
  ready?: (deps: Deps) => Promise<boolean | string> | boolean | string;
  /** The tools; a function of the parsed config when the config decides which (e.g. toolsets). */
  tools: AnyTool[] | ((config: z.output<ConfigSchema>) => AnyTool[]);
  resources?: AnyResource[] | ((config: z.output<ConfigSchema>) => AnyResource[]);
  prompts?: AnyPromptDefinition[] | ((config: z.output<ConfigSchema>) => AnyPromptDefinition[]);
  /** Lists and calls answered by forwarding (a gateway); excludes own resources and prompts. */
  forward?: ForwardDefinition<Deps>;
  /** Default per-call timeout; 60 s unless set. */
  defaultTimeoutMs?: number;
  /** The change notifications this server sends (`ctx.notify.*`); none unless declared. */
  notifications?: NotificationsDeclared;
  /**
   * Cache hint on tools/list, prompts/list, resources/list, resources/templates/list and
   * resources/read results for 2026-07-28 clients; `{ ttlMs: 0, cacheScope: "private" }` unless set.
   * Keep it private when auth decides what a caller sees (tools/list is filtered by scopes).
   */
  cacheHint?: CacheHint;
  /**
   * How tools/list presents the tools unless `--tool-mode` (TOOLSHED_TOOL_MODE) says: `all` lists
   * every tool; `search` lists three (search_tools, describe_tool, call_tool) that find, describe
   * and run the others; `auto` (the default) is search above `searchThreshold` tools, all otherwise.
   */
  toolMode?: "all" | "search" | "auto";
  /** `auto` mode's threshold unless `--search-threshold` says; 40 unless set. */
  searchThreshold?: number;
  /**
   * What to tell a caller of a tool name this server does not serve, added to the unknown-tool error:
   * e.g. the tool a renamed or merged one became, or the config that would enable it. Nothing unless
   * it returns a sentence. Only advice: the call is not redirected (the other tool's arguments differ).
   */
  unknownToolHint?: (name: string, config: z.output<ConfigSchema>) => string | undefined;
}

/** A server definition with its config and deps types erased, as the kit handles it. */
export type AnyServerDefinition = ServerDefinition<any, any>;

/** A server definition for one config: its tools, resources and prompts as lists. */
export type ResolvedServerDefinition = Omit<AnyServerDefinition, "tools" | "resources" | "prompts"> & {
  tools: AnyTool[];
  resources?: AnyResource[];
  prompts?: AnyPromptDefinition[];
};

/**
 * The definition's tools, resources and prompts for a parsed config (those given as functions called
 * once); without a config, for the defaults of the definition's config schema.
 */
export function resolveDefinition(def: AnyServerDefinition, config?: unknown): ResolvedServerDefinition {
  const { tools, resources, prompts, ...rest } = def;
  // The defaults are parsed only when a list is a function of the config: a config with required
  // settings (an API's base URL) has no defaults to parse, and fixed lists need none.
  const cfg = () => config ?? (def.config as AnyObjectSchema | undefined)?.parse({});
  return {
    ...rest,
    tools: typeof tools === "function" ? tools(cfg()) : tools,
    ...(resources ? { resources: typeof resources === "function" ? resources(cfg()) : resources } : {}),
    ...(prompts ? { prompts: typeof prompts === "function" ? prompts(cfg()) : prompts } : {}),
  };
}
export type AnyPromptDefinition = PromptDefinition<any, any, any>;

export function defineServer<ConfigSchema extends AnyObjectSchema = AnyObjectSchema, Deps = unknown>(
  def: ServerDefinition<ConfigSchema, Deps>,
): ServerDefinition<ConfigSchema, Deps> {
  return def;
}
