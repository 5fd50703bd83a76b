import { z, type AnyObjectSchema, type ToolDefinition } from "@toolshed/server";
import type { Config } from "../config.js";
import type { Deps } from "../deps.js";

/* Shared parameters: short descriptions, since every tool repeats them in tools/list. */

export const owner = z.string().describe("Repo owner");
export const repo = z.string().describe("Repo name");
export const page = z.number().int().min(1).max(1000).default(1).describe("Page, from 1");
export const perPage = z.number().int().min(1).max(100).default(20).describe("Items per page");
export const fields = z.array(z.string()).optional().describe("Only these item fields");

/** Every tool's structured result is an object; each description says what is in it. */
export const result = z.object({}).catchall(z.unknown());

export const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
export const WRITE = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

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
  | "security_advisories";

export type GitHubTool<In extends AnyObjectSchema = AnyObjectSchema> = ToolDefinition<
  In,
  typeof result,
  Config,
  Deps
> & { toolset: Toolset };

/** A GitHub tool: its input type inferred, its config and deps fixed, and the toolset it belongs to. */
export function githubTool<In extends AnyObjectSchema>(
  toolset: Toolset,
  tool: Omit<GitHubTool<In>, "toolset" | "output">,
): GitHubTool<In> {
  return { ...tool, output: result, toolset };
}
