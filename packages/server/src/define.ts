/* eslint-disable @typescript-eslint/no-explicit-any -- existential types: a server holds tools, resources
   and prompts whose config and deps types differ, so the erased forms use `any` (only in this file). */
import type { Logger, ToolLogger } from "@toolshed/logging";
import type { ToolshedMetrics } from "@toolshed/metrics";
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

/** What the client can do for a handler (sampling, elicitation), asked through the kit. */
export interface ClientRequests {
  /** The capabilities the client declared at initialize. */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /** Sends `sampling/createMessage` to the client and returns its result. */
  sample(params: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Sends `elicitation/create` to the client and returns its result. */
  elicit(params: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** The narrow context every handler gets; never the raw SDK server. */
export interface HandlerContext<Config = unknown, Deps = unknown> {
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
  readonly client: ClientRequests;
  /** Tells clients subscribed to `uri` (resources/subscribe) that it changed. */
  notifyResourceUpdated(uri: string): void;
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
  /** Scopes a principal must hold (checked when auth is on). */
  scopes?: string[];
  /** Overrides the server's default per-call timeout. */
  timeoutMs?: number;
  /** A compact text rendering of the data for clients that read only text; compact JSON by default. */
  // Method syntax on purpose: it lets a concrete tool stand in a list of AnyTool.
  render?(data: z.output<Out>): string;
  handler(
    input: z.output<In>,
    ctx: HandlerContext<Config, Deps>,
  ): Promise<z.input<Out> | ToolReply<z.input<Out>>> | z.input<Out> | ToolReply<z.input<Out>>;
}

export type AnyTool = ToolDefinition<AnyObjectSchema, AnyObjectSchema, any, any>;

export function defineTool<In extends AnyObjectSchema, Out extends AnyObjectSchema, Config = any, Deps = any>(
  tool: ToolDefinition<In, Out, Config, Deps>,
): ToolDefinition<In, Out, Config, Deps> {
  return tool;
}

/** One item of a resource: text, or binary as base64 `blob`. */
export type ResourceContents =
  { uri: string; mimeType?: string; text: string } | { uri: string; mimeType?: string; blob: string };

/** Context for resource and prompt handlers: everything a tool gets but progress and client requests. */
export type ReadContext<Config = unknown, Deps = unknown> = Omit<
  HandlerContext<Config, Deps>,
  "progress" | "client" | "notifyResourceUpdated"
>;

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
export interface FixedResourceDefinition<Config = any, Deps = any> extends ResourceBase {
  uri: string;
  read(uri: URL, ctx: ReadContext<Config, Deps>): Promise<ResourceContents[]> | ResourceContents[];
}

/** Resources under an RFC 6570 URI template, with optional listing and variable completion. */
export interface TemplateResourceDefinition<Config = any, Deps = any> extends ResourceBase {
  uriTemplate: string;
  /** Lists concrete resources the template covers (for `resources/list`). */
  list?(
    ctx: ReadContext<Config, Deps>,
  ): Promise<{ uri: string; name: string; description?: string; mimeType?: string }[]>;
  /** Completion of template variables, by variable name. */
  complete?: Record<
    string,
    (value: string, context: { arguments: Record<string, string> }) => Promise<string[]> | string[]
  >;
  read(
    uri: URL,
    variables: Record<string, string | string[]>,
    ctx: ReadContext<Config, Deps>,
  ): Promise<ResourceContents[]> | ResourceContents[];
}

export type ResourceDefinition<Config = any, Deps = any> =
  FixedResourceDefinition<Config, Deps> | TemplateResourceDefinition<Config, Deps>;

export function defineResource<Config = any, Deps = any>(
  resource: FixedResourceDefinition<Config, Deps>,
): FixedResourceDefinition<Config, Deps>;
export function defineResource<Config = any, Deps = any>(
  resource: TemplateResourceDefinition<Config, Deps>,
): TemplateResourceDefinition<Config, Deps>;
export function defineResource(resource: ResourceDefinition): ResourceDefinition {
  return resource;
}

export interface PromptMessage {
  role: "user" | "assistant";
  content: ContentBlock;
}

export interface PromptDefinition<
  Args extends z.ZodObject<Record<string, z.ZodType<string | undefined>>> = z.ZodObject<
    Record<string, z.ZodType<string | undefined>>
  >,
  Config = any,
  Deps = any,
> {
  name: string;
  title: string;
  description: string;
  /** String arguments (MCP prompt arguments are strings), each with a description. */
  args: Args;
  /** Completion of argument values, by argument name. */
  complete?: Partial<
    Record<
      keyof z.output<Args> & string,
      (value: string, context: { arguments: Record<string, string> }) => Promise<string[]> | string[]
    >
  >;
  handler: (
    args: z.output<Args>,
    ctx: ReadContext<Config, Deps>,
  ) =>
    | Promise<{ description?: string; messages: PromptMessage[] }>
    | { description?: string; messages: PromptMessage[] };
}

export function definePrompt<Args extends z.ZodObject<Record<string, z.ZodType<string | undefined>>>>(
  prompt: PromptDefinition<Args>,
): PromptDefinition<Args> {
  return prompt;
}

export interface SetupContext<Config> {
  config: Config;
  log: Logger;
  /** Tells clients subscribed to `uri` that it changed (e.g. from a file watcher opened in setup). */
  notifyResourceUpdated(uri: string): void;
  /** The server's metrics registry: pass it to `createHttpClient({ metrics })` so upstream calls show on /metrics. */
  metrics: ToolshedMetrics;
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
  /** Readiness beyond setup having succeeded (e.g. a ping); throw or return false when not ready. */
  ready?: (deps: Deps) => Promise<boolean> | boolean;
  tools: AnyTool[];
  resources?: ResourceDefinition[];
  prompts?: PromptDefinition<any>[];
  /** Default per-call timeout; 60 s unless set. */
  defaultTimeoutMs?: number;
  /**
   * Cache hint on tools/list, prompts/list, resources/list, resources/templates/list and
   * resources/read results for 2026-07-28 clients; `{ ttlMs: 0, cacheScope: "private" }` unless set.
   * Keep it private when auth decides what a caller sees (tools/list is filtered by scopes).
   */
  cacheHint?: CacheHint;
}

/** A server definition with its config and deps types erased, as the kit handles it. */
export type AnyServerDefinition = ServerDefinition<any, any>;
export type AnyPromptDefinition = PromptDefinition<any, any, any>;

export function defineServer<ConfigSchema extends AnyObjectSchema = AnyObjectSchema, Deps = unknown>(
  def: ServerDefinition<ConfigSchema, Deps>,
): ServerDefinition<ConfigSchema, Deps> {
  return def;
}
