import {
  definers,
  selfDescribing,
  ToolshedError,
  z,
  type AnyObjectSchema,
  type ToolDefinition,
} from "@toolshed/server";
import type { Config } from "../config.js";
import type { Ctx, Deps } from "../deps.js";

/*
 * Shared parameters. Every tool repeats them in tools/list: those whose name, type and bounds say
 * it all go without a description ("Repo owner" on `owner` told a model nothing, 20 times).
 */

export const owner = selfDescribing(z.string());
export const repo = selfDescribing(z.string());
export const page = selfDescribing(z.number().int().min(1).default(1));
export const perPage = selfDescribing(z.number().int().min(1).max(100).default(20));
export const fields = z.array(z.string()).optional().describe("Only these item fields");

/**
 * The text content of an answer whose `field` is a long text (a file, a diff, a log): that text as
 * it is, after the rest as compact JSON, instead of all of it JSON-escaped (every newline a `\n`).
 * structuredContent is unchanged.
 */
export function rawText(field: string): (data: Record<string, unknown>) => string {
  return (data) => {
    const { [field]: text, ...rest } = data;
    return typeof text === "string" ? `${JSON.stringify(rest)}\n\n${text}` : JSON.stringify(data);
  };
}

export const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
export const WRITE = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

/** The result when a person did not confirm: nothing happened, and the model should not retry. */
export function declined(what: string): { done: false; declined: string } {
  return {
    done: false,
    declined: `Nothing was done: the user did not confirm ${what}. Do not retry unless the user asks again.`,
  };
}

export type Toolset =
  | "context"
  | "repos"
  | "issues"
  | "pull_requests"
  | "users"
  | "copilot"
  | "actions"
  | "notifications"
  | "gists"
  | "stargazers"
  | "labels"
  | "orgs"
  | "git"
  | "code_security"
  | "secret_protection"
  | "dependabot"
  | "security_advisories"
  | "discussions"
  | "projects"
  | "code_quality"
  /** The discovery tools of --dynamic-toolsets (list, describe and enable the others). */
  | "dynamic";

/** This server's definers: config and deps typed, and every tool in one of the toolsets. */
export const { defineTool, defineResource, definePrompt } = definers<Config, Deps, Toolset>();

export type GitHubTool<
  In extends AnyObjectSchema = AnyObjectSchema,
  Out extends AnyObjectSchema = AnyObjectSchema,
> = ToolDefinition<In, Out, Config, Deps> & { toolset: Toolset };

/**
 * The tool with its handler run as the caller: over HTTP with --caller-tokens-file, with the
 * caller's own token (applied to every tool where the tool list is put together).
 */
export function runAsCaller(tool: GitHubTool): GitHubTool {
  const handler = tool.handler.bind(tool);
  return { ...tool, handler: async (input, ctx) => handler(input, await asCaller(ctx)) };
}

/**
 * The context a handler gets: unchanged without caller tokens or without a caller (stdio, open
 * HTTP); otherwise with `deps.gh` acting as the caller, or a refusal when the caller has no token
 * and the server's token is not an explicit fallback.
 */
export async function asCaller<C extends Pick<Ctx, "deps" | "config" | "principal">>(ctx: C): Promise<C> {
  const callers = ctx.deps.callers;
  if (!callers || !ctx.principal) return ctx;
  const token = await callers.tokenFor(ctx.principal.id);
  if (token === undefined) {
    if (ctx.config.serverTokenFallback) return ctx;
    throw new ToolshedError(
      "forbidden",
      `no GitHub token is set for caller '${ctx.principal.id}': the server's operator adds one to ` +
        `${callers.file} (or starts the server with --server-token-fallback to share the server's token)`,
    );
  }
  const deps: Deps = { ...ctx.deps, gh: ctx.deps.gh.as(token, ctx.config) };
  // The kit's context is a class with private fields: a proxy that swaps `deps` and keeps `this`.
  return new Proxy(ctx, {
    get(target, key) {
      if (key === "deps") return deps;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
